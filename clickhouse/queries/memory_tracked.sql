-- Bytes ClickHouse (a server, or the embedded chDB) tracks as in use by its allocations.
-- The worker samples it in housekeeping for the tablero_clickhouse_memory_tracked_bytes gauge.
SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'
