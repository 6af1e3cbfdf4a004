"""The Anonymous Bank month (Feb 1999) landed straight into a chDB database, without Kafka:
importer events -> orjson bytes -> WorkerState.process (the worker's own batch step) ->
clickhouse_store.insert_rows. For the browser tests of the reports page."""
from __future__ import annotations

import time
from pathlib import Path

import orjson

from pipeline.history import clickhouse_store
from pipeline.connectors.anonymous_bank import iter_events
from pipeline.live.queue_settings import load_queue_settings
from pipeline.live.worker_state import Record, WorkerState
from tests.datasets import ANONYMOUS_BANK

DATA = ANONYMOUS_BANK
CHUNK = 10_000
INSERT_BATCH = 100_000


def land_bank_month(client, path: Path = DATA, *, site_tz: str = "UTC") -> dict[str, int]:
    """Process every event of the file and insert the `events` and `contacts` rows.
    Returns counts (events sent, applied, dead letters, contacts, event rows)."""
    state = WorkerState(load_queue_settings(None, site_tz))
    contacts: dict[str, dict] = {}  # last fact row per contact (a contact can span two chunks)
    events: list[dict] = []
    counts = {"sent": 0, "applied": 0, "dead_letters": 0}
    batch: list[Record] = []

    def flush() -> None:
        out = state.process(batch, time.time())
        counts["applied"] += out.applied
        counts["dead_letters"] += len(out.dead_letters)
        events.extend(out.rows.dicts("events"))
        for row in out.rows.dicts("contacts"):
            contacts[row["contact_id"]] = row
        batch.clear()

    for offset, ev in enumerate(iter_events(path)):
        batch.append(Record(key=ev["subject"].encode(), value=orjson.dumps(ev), partition=0, offset=offset))
        counts["sent"] += 1
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    facts = list(contacts.values())
    for table, rows in (("events", events), ("contacts", facts)):
        for i in range(0, len(rows), INSERT_BATCH):
            clickhouse_store.insert_rows(client, table, rows[i:i + INSERT_BATCH])
    counts["contacts"] = len(facts)
    counts["events"] = len(events)
    return counts
