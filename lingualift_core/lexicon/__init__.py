"""lingualift_core.lexicon."""
