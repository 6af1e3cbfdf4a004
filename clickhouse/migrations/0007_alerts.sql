-- Alert lifecycle (issue 15): one row per event of an episode: fired, resolved, acked, delivered
-- and undeliverable (one row per notification target). The owner of the alert evaluation inserts
-- them after the event is in the `tablero.alerts` topic; (episode_id, event, target) identifies a
-- row, so a re-inserted row collapses. Read with FINAL.
CREATE TABLE IF NOT EXISTS alerts
(
    episode_id  String,
    event       LowCardinality(String),
    target      String,                          -- delivered / undeliverable: the target; else ''
    at          DateTime64(3, 'UTC'),
    rule        String,
    kind        LowCardinality(String),          -- queue | untouched | rating
    severity    LowCardinality(String),
    queue       String,
    channel     LowCardinality(String),
    contact     String,
    agent       String,
    metric      String,
    value       Nullable(Float64),
    threshold   Float64,
    started_at  DateTime64(3, 'UTC'),
    fired_at    DateTime64(3, 'UTC'),
    resolved_at Nullable(DateTime64(3, 'UTC')),
    acked_by    String,
    escalate_to String,
    detail      String                           -- undeliverable: the reason
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(fired_at)
ORDER BY (episode_id, event, target)
SETTINGS non_replicated_deduplication_window = 1000;
