-- Bookkeeping for pipeline.clickhouse_store.migrate(): one row per applied migration file.
-- ReplacingMergeTree so that two processes racing to record the same version collapse to one row.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,                      -- sha256 hex of the file bytes
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
