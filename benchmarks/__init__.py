"""Performance benchmarks; run each as a module: `python -m benchmarks.<name>` (JSON on stdout)."""
