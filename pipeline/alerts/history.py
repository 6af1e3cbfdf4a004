"""Reading the `alerts` table (clickhouse/queries/alerts_history.sql). Runs on the warehouse thread."""
from __future__ import annotations

from typing import Any

from pipeline.history.clickhouse_store import query_rows
from pipeline.history.reports import load_query


def alert_history(client: Any, *, from_ms: int, queue: str = "", allowed_queues: list[str] | None = None,
                  limit: int = 200) -> list[dict]:
    """Lifecycle rows since `from_ms`, newest first. `allowed_queues` None: every queue."""
    return query_rows(client, load_query("alerts_history"), {
        "from_ms": from_ms, "queue": queue or "", "scoped": 0 if allowed_queues is None else 1,
        "allowed_queues": list(allowed_queues or []), "limit": limit})
