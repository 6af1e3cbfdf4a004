-- Business-hours twins of the contact facts' durations (issue 14), computed at fact time in the
-- queue's business calendar (pipeline.calendars.business_time; the queue settings' [calendars]),
-- and the definition version (queue settings hash) each row was computed with.
-- Rows written before this migration read NULL / [] / '' here until recomputed
-- (`tablero recompute`).
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS wait_business_s Nullable(Float64) AFTER last_event;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS first_response_business_s Nullable(Float64) AFTER wait_business_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS handle_business_s Nullable(Float64) AFTER first_response_business_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS resolution_business_s Nullable(Float64) AFTER handle_business_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS response_times_business_s Array(Float64) AFTER resolution_business_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS settings_version LowCardinality(String) AFTER response_times_business_s;
-- SLA-clock durations: the same spans minus the time the SLA clock was paused (snoozed, waiting
-- for the customer); what the service level, SLA compliance and resolution SLA judge.
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS sla_wait_s Nullable(Float64) AFTER settings_version;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS sla_wait_business_s Nullable(Float64) AFTER sla_wait_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS sla_first_response_s Nullable(Float64) AFTER sla_wait_business_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS sla_first_response_business_s Nullable(Float64) AFTER sla_first_response_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS sla_resolution_s Nullable(Float64) AFTER sla_first_response_business_s;
ALTER TABLE contacts ADD COLUMN IF NOT EXISTS sla_resolution_business_s Nullable(Float64) AFTER sla_resolution_s;
-- Definition versions: each queue-settings version (hash) with the time it took effect. The worker
-- records its version when it starts landing rows (origin 'worker', effective_from = that time);
-- `tablero recompute` records the version it rewrote history with (origin 'recompute',
-- effective_from/effective_to = the recomputed range). `settings` is the canonical JSON.
CREATE TABLE IF NOT EXISTS settings_versions
(
    version        String,
    effective_from DateTime64(3, 'UTC'),
    effective_to   Nullable(DateTime64(3, 'UTC')),
    recorded_at    DateTime64(3, 'UTC'),
    origin         LowCardinality(String),
    settings       String
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (version, effective_from, origin);
