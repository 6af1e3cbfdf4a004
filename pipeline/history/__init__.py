"""History: per-contact facts (pure), the rows a batch lands, landing them in ClickHouse,
the warehouse connection, named reports and recomputation from the event log.

contact_facts and rows are pure (import-linter keeps them so); clickhouse_store, warehouse,
landing, reports and recompute do ClickHouse I/O. SQL lives in clickhouse/, not here."""
