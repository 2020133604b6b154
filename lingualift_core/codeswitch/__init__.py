"""lingualift_core.codeswitch."""
