"""Prefect tasks: each runs one DVC stage."""
