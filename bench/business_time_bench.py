"""Issue 14: what business time costs. On the Anonymous Bank month (Feb 1999, 33k calls):

1. fact time: the worker's batch step (WorkerState.process) over the whole month with a 24/7
   calendar vs with the bank's business calendar (Sun-Thu 07-24, Fri 07-14, Sat 20-24, Israeli
   public holidays) -- the cost of computing the business twins per fact row;
2. report latency: p50/p95 of the month's queues (15m) and conversations reports with the report
   SQL before issue 14 (from `git show BASE:clickhouse/queries/...`) and with the SQL that adds the
   business twins, on the same data (business facts, business clock).

Runs in its own process (chDB: one data directory per process):
    python -m bench.business_time_bench --dir /tmp/x --repeats 20 [--base main]   -> JSON on stdout
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "tests" / "data" / "anonymous_bank_february_1999.tsv"
BANK_SETTINGS = """
site_tz = "UTC"
[calendars.default]
hours = { sun = ["07:00-24:00"], mon = ["07:00-24:00"], tue = ["07:00-24:00"], wed = ["07:00-24:00"], thu = ["07:00-24:00"], fri = ["07:00-14:00"], sat = ["20:00-24:00"] }
public_holidays = { country = "IL" }
[channels.voice]
threshold_s = 20
clock = "business"
resolution_target_s = 600
"""


def _base_query(base: str, name: str) -> str:
    """The named report SQL at git revision `base`, with its `{{include}}`s pasted in as
    reports.load_query does (since issue 17 the reports include contact_measures.sql)."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{base}:clickhouse/queries/{name}.sql"],
                          check=True, capture_output=True, text=True).stdout
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return re.sub(r"\{\{([a-z_]+)\}\}", lambda m: "(\n" + _base_query(base, m.group(1)) + "\n)", text)


def process_month(queue_settings) -> tuple[float, list[dict], list[dict]]:
    from pipeline.connectors.anonymous_bank import iter_events
    from pipeline.live.worker_state import Record, WorkerState

    records = [Record(key=ev["subject"].encode(), value=orjson.dumps(ev), partition=0, offset=i)
               for i, ev in enumerate(iter_events(BANK))]
    state = WorkerState(queue_settings)
    contacts: dict[str, dict] = {}
    events: list[dict] = []
    t = time.perf_counter()
    for i in range(0, len(records), 10_000):
        out = state.process(records[i:i + 10_000], 0.0)
        events.extend(out.rows.dicts("events"))
        for row in out.rows.dicts("contacts"):
            contacts[row["contact_id"]] = row
    return time.perf_counter() - t, events, list(contacts.values())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--base", default="main", help="git revision whose report SQL is the 'before'")
    p.add_argument("--synthetic-events", type=int, default=0,
                   help="instead of the bank month: bench.reports_bench's synthetic year of N events, "
                        "business columns filled from the calendar ones; reports over its last 30 days")
    args = p.parse_args(argv)
    if args.synthetic_events:
        return synthetic(args)

    from bench.reports_bench import _timed
    from pipeline.history import clickhouse_store, reports
    from pipeline.history.warehouse import MIGRATIONS_DIR
    from pipeline.live.queue_settings import QueueSettings

    plain = QueueSettings.from_toml('site_tz = "UTC"')
    biz = QueueSettings.from_toml(BANK_SETTINGS)
    fact = {}
    for name, qs in (("24/7", plain), ("business", biz)):
        best = min(process_month(qs)[0] for _ in range(3))
        fact[name] = round(best, 3)
    _, events, facts = process_month(biz)

    client = clickhouse_store.connect(f"chdb://{args.dir.resolve()}/clickhouse")
    clickhouse_store.migrate(client, MIGRATIONS_DIR)
    for table, rows in (("events", events), ("contacts", facts)):
        for i in range(0, len(rows), 100_000):
            clickhouse_store.insert_rows(client, table, rows[i:i + 100_000])
    client.command("OPTIMIZE TABLE contacts FINAL")

    old_sql = {n: _base_query(args.base, n) for n in ("queues", "conversations")}
    month15 = reports.parse_params({"from": "1999-02-01", "to": "1999-02-28", "by": "15m"})
    month = reports.parse_params({"from": "1999-02-01", "to": "1999-02-28", "by": "day"})
    th, ch = reports.thresholds_from(biz)
    out = {}
    for name, params in (("queues", month15), ("conversations", month)):
        before = lambda: clickhouse_store.query_rows(client, old_sql[name], params.query_parameters(th, ch))  # noqa
        after = lambda: clickhouse_store.query_rows(client, reports.load_query(name),  # noqa
                                                    params.query_parameters(th, ch, reports.clocks_from(biz)))
        out[f"{name}_sql_before"] = _timed(before, args.repeats)
        out[f"{name}_sql_after"] = _timed(after, args.repeats)
    out["queues_report_after"] = _timed(lambda: reports.queues_report(client, month15, queue_settings=biz), args.repeats)
    out["conversations_report_after"] = _timed(
        lambda: reports.conversations_report(client, month, queue_settings=biz), args.repeats)
    print(json.dumps({"contacts": len(facts), "events": len(events), "fact_time_s": fact, "reports": out}))
    return 0


def synthetic(args) -> int:
    import datetime as dt

    from bench.reports_bench import END, _timed, load_history
    from pipeline.history import clickhouse_store, reports
    from pipeline.history.warehouse import MIGRATIONS_DIR
    from pipeline.live.queue_settings import QueueSettings

    client = clickhouse_store.connect(f"chdb://{args.dir.resolve()}/clickhouse")
    clickhouse_store.migrate(client, MIGRATIONS_DIR)
    loaded = load_history(client, args.synthetic_events)
    client.command(
        "ALTER TABLE contacts UPDATE wait_business_s = wait_s, first_response_business_s = first_response_s, "
        "handle_business_s = handle_s, resolution_business_s = resolution_s, "
        "response_times_business_s = response_times_s, sla_wait_s = coalesce(wait_s, first_response_s), "
        "sla_wait_business_s = coalesce(wait_s, first_response_s), sla_first_response_s = first_response_s, "
        "sla_first_response_business_s = first_response_s, sla_resolution_s = resolution_s, "
        "sla_resolution_business_s = resolution_s WHERE 1", settings={"mutations_sync": 2})
    client.command("OPTIMIZE TABLE contacts FINAL")
    biz = QueueSettings.from_toml('site_tz = "UTC"\n[channels.email]\nclock = "business"\nresolution_target_s = 86400\n')
    old_sql = {n: _base_query(args.base, n) for n in ("queues", "conversations")}
    last = END.date()
    frm = (last - dt.timedelta(days=29)).isoformat()
    month15 = reports.parse_params({"from": frm, "to": last.isoformat(), "by": "15m"})
    month = reports.parse_params({"from": frm, "to": last.isoformat(), "by": "day"})
    th, ch = reports.thresholds_from(biz)
    out = {}
    for name, params in (("queues", month15), ("conversations", month)):
        out[f"{name}_sql_before"] = _timed(lambda: clickhouse_store.query_rows(
            client, old_sql[name], params.query_parameters(th, ch)), args.repeats)
        out[f"{name}_sql_after"] = _timed(lambda: clickhouse_store.query_rows(
            client, reports.load_query(name), params.query_parameters(th, ch, reports.clocks_from(biz))), args.repeats)
    print(json.dumps({**loaded, "reports": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
