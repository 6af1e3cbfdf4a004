"""Land a processed batch in ClickHouse: one insert per table, retried with backoff until
ClickHouse acknowledges. Offsets are committed only after this returns (the agent acks the
batch afterwards), and every row is idempotent (events by id, contacts by version, agent
intervals by (agent, start)), so a replayed batch never counts twice.

The rows are encoded (JSONCompactColumns: transposition and one orjson call per table) on the
caller's thread, the worker's event loop, before the warehouse thread inserts them: that
thread then only writes the document and waits for ClickHouse, both without the GIL. Encoded
there, next to a busy loop thread, the same work took twice its time (each hand-back of the
GIL waits a switch interval) and the landing became the batch loop's critical path. The column
types the encoding needs are learned from the first insert of each table (Warehouse.column_types);
until then, and for values only the Native path carries, the warehouse thread encodes."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from pipeline import observability
from pipeline.history import clickhouse_store
from pipeline.history.rows import Rows

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TableInsert:
    """One table's share of a landing: its JSON document, or its rows when it has none."""
    table: str
    names: tuple[str, ...]
    body: bytes | None
    rows: list[tuple] | None


def encode(rows: Rows, types: dict[str, dict[str, str]]) -> list[TableInsert]:
    """The landing's inserts, encoded where the column types are known (`types`: table ->
    column -> type). The encoded tables' tuples are taken out of `rows` (their lists left
    empty): a landing in flight holds its documents only. CPU only: no I/O."""
    out = []
    for table, names, table_rows in rows.tables():
        if not table_rows:
            continue
        kinds = types.get(table)
        body = clickhouse_store.json_body(names, table_rows, kinds) if kinds else None
        out.append(TableInsert(table, tuple(names), body, None if body is not None else list(table_rows)))
        table_rows.clear()
    return out


def insert_all(client, inserts: list[TableInsert], dedup_token: str, done: set[str],
               types: dict[str, dict[str, str]]) -> None:
    """Run on the warehouse thread: each table not yet `done`, and its column types learned."""
    for t in inserts:
        if t.table in done:
            continue
        token = f"{t.table}:{dedup_token}" if dedup_token else None
        if t.body is not None:
            clickhouse_store.insert_json(client, t.table, t.names, t.body, dedup_token=token)
        else:
            clickhouse_store.insert_tuples(client, t.table, t.names, t.rows, dedup_token=token)
        types.setdefault(t.table, clickhouse_store.column_types(client, t.table))
        done.add(t.table)


def insert_rows(client, rows: Rows) -> None:
    """The rows inserted from the calling thread (tools, benchmarks)."""
    types: dict[str, dict[str, str]] = {}
    insert_all(client, encode(rows, types), rows.dedup_token, set(), types)


async def land(warehouse, rows: Rows, *, max_backoff_s: float = 30.0, stop=None) -> int:
    """Insert until it succeeds; returns the number of failed attempts (0 = first try)."""
    if not rows:
        return 0
    return await land_encoded(warehouse, encode(rows, warehouse.column_types), rows.dedup_token,
                              max_backoff_s=max_backoff_s, stop=stop)


async def land_encoded(warehouse, inserts: list[TableInsert], dedup_token: str, *,
                       max_backoff_s: float = 30.0, stop=None) -> int:
    """`land` of rows already encoded (`encode` with warehouse.column_types)."""
    if not inserts:
        return 0
    types = warehouse.column_types
    done: set[str] = set()
    failures = 0
    t0 = time.perf_counter()
    delay = 0.5
    while True:
        try:
            await warehouse.call(insert_all, inserts, dedup_token, done, types)
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
