"""lingualift_core.evaluate."""
