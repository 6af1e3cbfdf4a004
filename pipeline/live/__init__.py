"""Live state (pure): the per-contact state machine, the worker's batch step, the live view
(per-partition partials and their merge) and the queue settings.

May import: pipeline.schemas, pipeline.calendars, the pure parts of pipeline.history (contact_facts,
rows) and the standard library. Never Kafka, ClickHouse, HTTP, Faust or the CLI."""
