"""lingualift_core.train."""
