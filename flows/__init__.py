"""Prefect flows of the LinguaLIFT pipeline."""
