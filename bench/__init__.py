"""Benchmarks: run `python -m bench.run`."""
