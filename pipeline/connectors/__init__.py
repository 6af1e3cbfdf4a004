"""Connectors: real sources turned into contract events. Each source has a pure mapper
(records in, contract events out, no I/O) and, where it needs one, a thin adapter (file, HTTP).

Mappers import only pipeline.schemas and the standard library; adapters may do I/O."""
