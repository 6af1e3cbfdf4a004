-- API access control. Only the sha256 (hex) of a token is stored. Revoking = inserting the same
-- token_id with revoked = 1; ReplacingMergeTree(revoked) keeps the revoked row, so a revocation
-- can never be undone by a late or replayed insert. Read with FINAL.
CREATE TABLE IF NOT EXISTS api_tokens
(
    token_id String,
    name     String,
    role     LowCardinality(String),
    queues   Array(String),                  -- empty: every queue
    sha256   String,
    created  DateTime64(3, 'UTC'),
    revoked  UInt8
)
ENGINE = ReplacingMergeTree(revoked)
ORDER BY token_id;
