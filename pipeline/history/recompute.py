"""Rebuild contact facts from the raw events kept in ClickHouse (after a definition or
threshold change). Re-folding is the state machine's `replay`. Rows keep version = number of
events: ReplacingMergeTree keeps the last inserted row among equal versions, so the recomputed
row replaces the old one, and a later live update (one more event) still wins."""
from __future__ import annotations

from itertools import groupby
from typing import Callable, Iterable

import orjson

from pipeline.history import clickhouse_store
from pipeline.history.contact_facts import fact_row
from pipeline.live.contact_state import replay
from pipeline.history.reports import load_query
from pipeline.schemas.event import Event



def facts_from_rows(rows: Iterable[dict], queue_settings=None) -> list[dict]:
    """Event rows (sorted by subject) -> one fact row per contact (business twins in the
    queue's calendar of `queue_settings`, 24/7 without)."""
    out = []
    for subject, group in groupby(rows, key=lambda r: r["subject"]):
        events = [Event(r["id"], r["type"], float(r["t"]), subject, r["source"], orjson.loads(r["data"]))
                  for r in group]
        state = replay(subject, events)
        if state is not None:
            if queue_settings is None:
                out.append(fact_row(state))
            else:
                out.append(fact_row(state, queue_settings.calendar_for(state.queue), queue_settings.version))
    return out


def recompute(client, from_ms: int, to_ms: int, *, chunk: int = 5000,
              progress: Callable[[int, int], None] | None = None) -> int:
    ids = [r["subject"] for r in clickhouse_store.query_rows(
        client, load_query("recompute_contact_ids"), {"from_ms": from_ms, "to_ms": to_ms})]
    done = 0
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        rows = clickhouse_store.query_rows(client, load_query("recompute_events"), {"subjects": part})
        facts = facts_from_rows(rows)
        if facts:
            clickhouse_store.insert_rows(client, "contacts", facts)
        done += len(part)
        if progress:
            progress(done, len(ids))
    return len(ids)
