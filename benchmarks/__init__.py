"""Reproducible performance scripts; `make bench` runs every `bench_*.py` module's `main()`."""
