"""Benchmarks: each prints its figures next to a same-run baseline. Run with `make bench`."""
