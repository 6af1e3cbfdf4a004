"""Paths of the real data sets the tests use (committed under tests/data)."""
from pathlib import Path

ANONYMOUS_BANK = Path(__file__).resolve().parent / "data" / "anonymous_bank_february_1999.tsv"
BANK_CALLS_5MIN = Path(__file__).resolve().parent / "data" / "bank_calls_5min_2003.csv"
