"""Rebuild contact facts from the raw events kept in ClickHouse (after a definition or
threshold change), record definition versions, and compare definitions without touching history.

* ``recompute(client, from_ms, to_ms, queue_settings)`` rewrites the facts of the contacts created
  in [from, to) under ``queue_settings`` (business twins in its calendars, ``settings_version`` =
  its hash). Re-folding is the state machine's ``replay``. Rows keep version = number of events:
  ReplacingMergeTree keeps the last inserted row among equal versions, so the recomputed row
  replaces the old one, and a later live update (one more event) still wins.
  **Atomicity**: every fact is computed first; then one insert per monthly partition. A reader
  (every report reads ``contacts FINAL``) sees a month either all old or all new: one insert
  into one partition is one part, which becomes visible at once. With chDB every call (readers,
  the worker's landing) runs on the warehouse's single thread, so the whole rewrite is one step
  for them: they wait for it and then see only the new rows. Nothing is deleted: contacts whose
  events are gone keep their old rows.
* ``what_if(client, from_ms, to_ms, current, new, params)`` recomputes the same contacts under
  ``new`` into a scratch copy of ``contacts`` and runs the queues and conversations reports on
  both (current settings over ``contacts``, new ones over the scratch table), then drops the
  scratch table. History is never written.
* ``record_version(client, qs, effective_from, origin, effective_to=None)`` adds a row to
  ``settings_versions`` (idempotent: ReplacingMergeTree on version, effective_from, origin).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from itertools import groupby
from typing import Any, Callable, Iterable

import orjson

from pipeline.history import clickhouse_store
from pipeline.history.contact_facts import fact_row
from pipeline.history.reports import conversations_report, load_query, queues_report
from pipeline.live.contact_state import replay
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


def _facts(client, from_ms: int, to_ms: int, queue_settings, chunk: int,
           progress: Callable[[int, int], None] | None) -> list[dict]:
    ids = [r["subject"] for r in clickhouse_store.query_rows(
        client, load_query("recompute_contact_ids"), {"from_ms": from_ms, "to_ms": to_ms})]
    facts: list[dict] = []
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        rows = clickhouse_store.query_rows(client, load_query("recompute_events"), {"subjects": part})
        facts.extend(facts_from_rows(rows, queue_settings))
        if progress:
            progress(min(i + chunk, len(ids)), len(ids))
    if progress and not ids:
        progress(0, 0)
    return facts


def _by_month(facts: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in facts:
        out.setdefault(dt.datetime.fromtimestamp(f["created"], dt.timezone.utc).strftime("%Y%m"), []).append(f)
    return out


def recompute(client, from_ms: int, to_ms: int, queue_settings=None, *, chunk: int = 5000,
              progress: Callable[[int, int], None] | None = None, clock: Callable[[], float] = time.time) -> int:
    """Rewrite the facts of the contacts created in [from, to) under `queue_settings`; returns
    how many contacts were rewritten."""
    facts = _facts(client, from_ms, to_ms, queue_settings, chunk, progress)
    for month, rows in sorted(_by_month(facts).items()):
        clickhouse_store.insert_rows(client, "contacts", rows)
    if queue_settings is not None:
        record_version(client, queue_settings, from_ms / 1000, "recompute", to_ms / 1000, clock=clock)
    return len(facts)


# -- definition versions ------------------------------------------------------------------------

def settings_json(queue_settings) -> str:
    return json.dumps(queue_settings.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def record_version(client, queue_settings, effective_from: float, origin: str,
                   effective_to: float | None = None, *, clock: Callable[[], float] = time.time) -> None:
    clickhouse_store.insert_rows(client, "settings_versions", [{
        "version": queue_settings.version, "effective_from": effective_from, "effective_to": effective_to,
        "recorded_at": clock(), "origin": origin, "settings": settings_json(queue_settings)}])


def record_running_version(client, queue_settings, now: float) -> bool:
    """The worker's definition version: recorded (origin 'worker', effective from `now`) unless
    the latest worker version is already this one. Returns True when a row was added."""
    rows = [r for r in versions(client) if r["origin"] == "worker"]
    if rows and rows[-1]["version"] == queue_settings.version:
        return False
    record_version(client, queue_settings, now, "worker", clock=lambda: now)
    return True


def versions(client) -> list[dict]:
    """Every recorded definition version, oldest first."""
    return clickhouse_store.query_rows(client, load_query("settings_versions"))


# -- what-if ------------------------------------------------------------------------------------

_FROM_CONTACTS = re.compile(r"\bFROM\s+contacts(\s+AS\s+\w+)?\s+FINAL\b")


class _Redirected:
    """A client whose report queries read `table` instead of `contacts` (every report reads
    `FROM contacts [AS alias] FINAL`); everything else is the wrapped client's."""

    def __init__(self, client, table: str):
        self._client = client
        self._table = table

    def query(self, sql: str, *args, **kwargs):
        return self._client.query(_FROM_CONTACTS.sub(lambda m: f"FROM {self._table}{m.group(1) or ''} FINAL", sql),
                                  *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def what_if(client, from_ms: int, to_ms: int, current, new, params, *, chunk: int = 5000,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Reports for `params` under the `current` settings (history as stored) and under `new`
    (facts of the contacts created in [from, to) recomputed from events), side by side."""
    table = f"contacts_whatif_{secrets.token_hex(4)}"
    client.command(f"CREATE TABLE {table} AS contacts")
    try:
        facts = _facts(client, from_ms, to_ms, new, chunk, progress)
        for _, rows in sorted(_by_month(facts).items()):
            clickhouse_store.insert_rows(client, table, rows)
        scratch = _Redirected(client, table)
        return {
            "current": {"version": current.version,
                        "queues": queues_report(client, params, queue_settings=current),
                        "conversations": conversations_report(client, params, queue_settings=current)},
            "what_if": {"version": new.version, "contacts_recomputed": len(facts),
                        "queues": queues_report(scratch, params, queue_settings=new),
                        "conversations": conversations_report(scratch, params, queue_settings=new)},
        }
    finally:
        client.command(f"DROP TABLE IF EXISTS {table}")


def side_by_side(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (metric, current, what_if, change) for the headline numbers of both reports."""
    from pipeline.history.reports import _flatten

    cur = _flatten({"queues": result["current"]["queues"]["total"],
                    "conversations": {k: v for k, v in result["current"]["conversations"].items()
                                      if k not in ("report", "params", "previous", "busiest", "tags")}})
    new = _flatten({"queues": result["what_if"]["queues"]["total"],
                    "conversations": {k: v for k, v in result["what_if"]["conversations"].items()
                                      if k not in ("report", "params", "previous", "busiest", "tags")}})
    rows = []
    for k in cur:
        a, b = cur.get(k), new.get(k)
        change = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        rows.append({"metric": k, "current": a, "what_if": b, "change": change})
    return rows
