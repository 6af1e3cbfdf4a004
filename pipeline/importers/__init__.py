"""Pure mappings of external data sets to contract events (no I/O besides reading the file)."""
