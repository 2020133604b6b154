"""lingualift_core.stages."""
