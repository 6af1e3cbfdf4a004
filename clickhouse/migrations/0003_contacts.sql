-- One row per contact version (pipeline.contact_facts.fact_row). The highest version wins.
-- PARTITION BY toYYYYMM(created): `created` never changes for a contact, so every version of a
-- contact lands in the same partition and FINAL may skip cross-partition merging
-- (do_not_merge_across_partitions_select_final = 1), and date-range reports prune partitions.
CREATE TABLE IF NOT EXISTS contacts
(
    contact_id        String,
    version           UInt64,
    queue             LowCardinality(String),
    channel           LowCardinality(String),
    customer          String,
    priority          UInt8,
    tags              Array(String),
    created           DateTime64(3, 'UTC'),
    first_assigned    Nullable(DateTime64(3, 'UTC')),
    answered          Nullable(DateTime64(3, 'UTC')),
    first_response    Nullable(DateTime64(3, 'UTC')),
    abandoned         Nullable(DateTime64(3, 'UTC')),
    closed            Nullable(DateTime64(3, 'UTC')),
    agent             String,
    agents            Array(String),
    wait_s            Nullable(Float64),
    first_response_s  Nullable(Float64),
    handle_s          Float64,
    resolution_s      Nullable(Float64),
    replies           UInt32,
    customer_messages UInt32,
    response_times_s  Array(Float64),
    reopened          UInt32,
    transfers         UInt32,
    csat              Nullable(UInt8),
    is_answered       UInt8,
    is_abandoned      UInt8,
    is_closed         UInt8,
    last_event        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created)
ORDER BY contact_id
SETTINGS non_replicated_deduplication_window = 1000;
