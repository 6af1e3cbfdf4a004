"""Land a processed batch in ClickHouse: one insert per table, retried with backoff until
ClickHouse acknowledges. Offsets are committed only after this returns (the agent acks the
batch afterwards), and every row is idempotent (events by id, contacts by version, agent
intervals by (agent, start)), so a replayed batch never counts twice."""
from __future__ import annotations

import asyncio
import logging
import time

from pipeline import observability
from pipeline.history import clickhouse_store
from pipeline.history.rows import Rows

log = logging.getLogger(__name__)


def insert_all(client, rows: Rows, done: set[str]) -> None:
    for table, names, table_rows in rows.tables():
        if table_rows and table not in done:
            token = f"{table}:{rows.dedup_token}" if rows.dedup_token else None
            clickhouse_store.insert_tuples(client, table, names, table_rows, dedup_token=token)
            done.add(table)


async def land(warehouse, rows: Rows, *, max_backoff_s: float = 30.0, stop=None) -> int:
    """Insert until it succeeds; returns the number of failed attempts (0 = first try)."""
    if not rows:
        return 0
    done: set[str] = set()
    failures = 0
    t0 = time.perf_counter()
    delay = 0.5
    while True:
        try:
            await warehouse.call(insert_all, rows, done)
            observability.CLICKHOUSE_INSERT_DURATION.observe(time.perf_counter() - t0)
            if failures:
                log.warning("ClickHouse back after %d failed attempts; batch landed", failures)
            return failures
        except Exception as exc:  # ClickHouse away, or a server error: wait and retry the same batch
            failures += 1
            observability.CLICKHOUSE_INSERT_RETRIES.inc()
            warehouse.reset()
            log.warning("landing failed (%s: %s); retry %d in %.1fs, Kafka lag grows meanwhile",
                        type(exc).__name__, str(exc)[:200], failures, delay)
            if stop is not None and stop():
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff_s)
