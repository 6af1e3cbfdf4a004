"""The worker's moving parts on the Faust app: the batch event stream (process.py), the live
publisher and housekeeping timers, and the runtime that holds the worker's state and clients.

Thin: they move data between Kafka/ClickHouse and the pure pipeline.live batch step."""
