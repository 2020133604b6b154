"""lingualift_core.toyworld."""
