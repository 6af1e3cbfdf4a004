-- Raw, validated events: the log history is recomputed from.
-- ORDER BY id + ReplacingMergeTree: a replayed event (same publisher id) lands once after merges
-- and is always read once with FINAL. A replay carries the same `time`, so it lands in the same
-- partition (replacing only works inside a partition).
-- No TTL: the glossary promises history recomputable from events; retention is a site decision
-- (see clickhouse/README.md).
CREATE TABLE IF NOT EXISTS events
(
    id              String,
    type            LowCardinality(String),
    time            DateTime64(3, 'UTC'),
    subject         String,
    source          LowCardinality(String),
    queue           LowCardinality(String),
    channel         LowCardinality(String),
    agent           String,
    data            String,                          -- the event's `data` object as JSON text
    kafka_partition UInt16,
    kafka_offset    UInt64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_subject subject TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_type type TYPE set(64) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY id
SETTINGS non_replicated_deduplication_window = 1000;
