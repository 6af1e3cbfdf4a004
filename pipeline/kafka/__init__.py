"""Kafka I/O: topic names and admin, the local KRaft broker, the event publisher, reading
state back from the compacted state topic, the worker's member-id lock and log throttling.

May import the contract (pipeline.schemas) and the settings; nothing pure imports this package."""
