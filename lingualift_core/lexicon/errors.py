"""Errors raised by the lexicon package."""

from __future__ import annotations


class LexiconError(ValueError):
    """Bad input to the lexicon library (one-line, human-readable message)."""
