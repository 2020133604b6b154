"""lingualift_core.text."""
