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
