"""Part 5: report latency over a large history on the embedded store (chDB).

Pushing 10 million events through Kafka and the worker would take longer than the whole bench,
so the history is written straight into a fresh chDB directory: synthetic `contacts` fact rows
(one per contact, 5 events per contact on average) and the matching `events` rows, inserted
with `pipeline.history.clickhouse_store.insert_rows` in batches of 100,000 rows (the worker's own insert
path, just bigger blocks). The contacts span one year; the reports then run through
`pipeline.history.reports` exactly as the API calls them.

Runs in its own process (chDB: one data directory per process):
    python -m bench.reports_bench --events 10000000 --dir /tmp/x --repeats 20   -> JSON on stdout
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

QUEUES = [("billing", "voice"), ("billing", "email"), ("support", "chat"), ("support", "voice"),
          ("sales", "chat"), ("sales", "email"), ("backoffice", "email"), ("vip", "voice")]
EVENTS_PER_CONTACT = 5  # created, assigned, answered/replied, closed, rated (abandoned: fewer)
BATCH = 100_000
END = dt.datetime(2025, 12, 31, tzinfo=dt.timezone.utc)
SPAN_S = 365 * 86400


def _contact(i: int, rng: random.Random, t0: float) -> tuple[dict, list[dict]]:
    queue, channel = QUEUES[i % len(QUEUES)]
    created = t0 + rng.random() * SPAN_S
    cid = f"c-{i:09d}"
    agent = f"agent-{rng.randrange(200):03d}"
    abandoned = rng.random() < 0.08
    voice_chat = channel != "email"
    wait = rng.expovariate(1 / (30 if voice_chat else 3600))
    handle = rng.expovariate(1 / 300)
    answered = None if abandoned or not voice_chat else created + wait
    first_response = None if abandoned else created + wait
    closed = None if abandoned else created + wait + handle
    row = {
        "contact_id": cid, "version": EVENTS_PER_CONTACT - (2 if abandoned else 0), "queue": queue,
        "channel": channel, "customer": f"cust-{rng.randrange(400_000)}", "priority": 0,
        "tags": ["vip"] if i % 17 == 0 else [], "created": created,
        "first_assigned": None if abandoned else created + wait * 0.5, "answered": answered,
        "first_response": first_response, "abandoned": created + wait if abandoned else None,
        "closed": closed, "agent": "" if abandoned else agent, "agents": [] if abandoned else [agent],
        "wait_s": wait if voice_chat or abandoned else None,
        "first_response_s": None if abandoned else wait, "handle_s": 0.0 if abandoned else handle,
        "resolution_s": None if closed is None else closed - created, "replies": 0 if abandoned else 1,
        "customer_messages": 1, "response_times_s": [] if abandoned or voice_chat else [wait],
        "reopened": 0, "transfers": 0, "csat": None if abandoned else rng.randint(1, 5),
        "is_answered": int(not abandoned), "is_abandoned": int(abandoned), "is_closed": int(closed is not None),
        "last_event": closed or created + wait,
    }
    if abandoned:
        steps = [("contact.created", created, ""), ("contact.customer_replied", created + wait / 2, ""),
                 ("contact.abandoned", created + wait, "")]
    else:
        steps = [("contact.created", created, ""), ("contact.assigned", created + wait * 0.5, agent),
                 ("contact.answered" if voice_chat else "contact.agent_replied", created + wait, agent),
                 ("contact.closed", closed, agent), ("contact.rated", closed + 60, "")]
    events = [{"id": f"{cid}-{k}", "type": t, "time": when, "subject": cid, "source": "bench",
               "queue": queue, "channel": channel, "agent": a, "data": '{"agent":"%s"}' % a if a else "{}",
               "kafka_partition": i % 4, "kafka_offset": i * EVENTS_PER_CONTACT + k, "ingested_at": when}
              for k, (t, when, a) in enumerate(steps)]
    return row, events


def load_history(client, n_events: int, seed: int = 7) -> dict:
    from pipeline.history import clickhouse_store

    rng = random.Random(seed)
    t0 = END.timestamp() - SPAN_S
    contacts: list[dict] = []
    events: list[dict] = []
    n_contacts = n_ev = 0
    t = time.perf_counter()
    i = 0
    while n_ev < n_events:
        row, evs = _contact(i, rng, t0)
        i += 1
        contacts.append(row)
        events.extend(evs[: n_events - n_ev])
        n_ev += min(len(evs), n_events - (n_ev))
        if len(events) >= BATCH:
            clickhouse_store.insert_rows(client, "events", events)
            events = []
        if len(contacts) >= BATCH:
            clickhouse_store.insert_rows(client, "contacts", contacts)
            n_contacts += len(contacts)
            contacts = []
    if events:
        clickhouse_store.insert_rows(client, "events", events)
    if contacts:
        clickhouse_store.insert_rows(client, "contacts", contacts)
        n_contacts += len(contacts)
    return {"events": n_ev, "contacts": n_contacts, "load_seconds": round(time.perf_counter() - t, 1)}


def _timed(fn, repeats: int) -> dict:
    fn()  # warm-up (first read of the parts from disk)
    ms = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "runs": repeats}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)

    from pipeline.history import clickhouse_store
    from pipeline.history import reports
    from pipeline.history.warehouse import MIGRATIONS_DIR

    client = clickhouse_store.connect(f"chdb://{args.dir.resolve()}/clickhouse")
    clickhouse_store.migrate(client, MIGRATIONS_DIR)
    loaded = load_history(client, args.events)
    client.command("OPTIMIZE TABLE contacts FINAL")  # steady state: background merges have run
    rows = clickhouse_store.count_rows(client)
    last = END.date()
    month = reports.parse_params({"from": (last - dt.timedelta(days=29)).isoformat(), "to": last.isoformat(),
                                  "by": "15m"})
    month_day = reports.parse_params({"from": (last - dt.timedelta(days=29)).isoformat(), "to": last.isoformat(),
                                      "by": "day"})
    results = {
        "queues_15m_30d": _timed(lambda: reports.queues_report(client, month), args.repeats),
        "queues_day_30d": _timed(lambda: reports.queues_report(client, month_day), args.repeats),
        "conversations_30d": _timed(lambda: reports.conversations_report(client, month_day), args.repeats),
    }
    print(json.dumps({**loaded, "rows": rows, "reports": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
