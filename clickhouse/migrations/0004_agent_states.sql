-- One row per finished agent-state interval; (agent, start) identifies it, so a re-inserted
-- interval collapses.
CREATE TABLE IF NOT EXISTS agent_states
(
    agent      String,
    state      LowCardinality(String),
    reason     String,
    start      DateTime64(3, 'UTC'),
    end        DateTime64(3, 'UTC'),
    duration_s Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(start)
ORDER BY (agent, start)
SETTINGS non_replicated_deduplication_window = 1000;
