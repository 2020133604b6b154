"""lingualift_core.sources."""
