"""Tablero benchmark harness: `python -m bench.run [--quick]` (make bench)."""
