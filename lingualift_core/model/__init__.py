"""lingualift_core.model."""
