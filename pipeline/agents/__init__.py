"""The worker's moving parts on the Faust app: the batch event stream (process.py), the live
publisher and housekeeping timers, the runtime that holds the worker's state and clients, and
the process's memory policy (heap.py).

Thin: they move data between Kafka/ClickHouse and the pure pipeline.live batch step."""
