"""Faults under load (`make bench-faults`): three workers share the partitions -- one `tablero up`
(worker + API) and two `tablero worker` -- while simulated traffic arrives at a fixed rate, and one
of the two plain workers is killed with kill -9 every --kill-every seconds (alternating) and
restarted at once, for --minutes. Then, once the group has committed every event:

* the live view (`tablero up`'s API, merging every worker's partials) equals a recomputation of the
  whole event list in this process (pipeline.live: one WorkerState fed every event);
* every event landed once: the union of the three ClickHouse stores (one chDB directory per process)
  holds every event id, no id twice inside a store after FINAL, and each contact's version (events
  applied to it) is what the recomputation gives: an event applied twice would raise the sum, a lost
  one lower it.

    python -m bench.faults [--minutes 5] [--kill-every 60] [--rate 1000] [--partitions 4]
    python -m bench.faults --minutes 1 --kill-every 20 --rate 500     (a short run)

Kafka: TABLERO_KAFKA if set, otherwise a broker of its own (as bench/run.py). Results go to
bench/faults.json and bench/faults.md (--out-dir); the exit status is 1 when a check fails.
The same proof at a smaller scale runs in `make test` (tests/system/test_workers_killed.py).
Not part of `make test`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
SIM_EVENTS_AT_SCALE_1 = 635  # events of the simulation below at scale 1 (25,400 at scale 40)

# run in a child process per store: chDB opens one data directory per process
_DUMP = """
import json, sys, clickhouse_connect
c = clickhouse_connect.get_client(dsn=f"chdb://{sys.argv[1]}")
ids = [r[0] for r in c.query("SELECT id FROM events FINAL").result_rows]
dup = c.query("SELECT count() - uniqExact(id) FROM events FINAL").result_rows[0][0]
versions = c.query("SELECT contact_id, max(version) FROM contacts FINAL GROUP BY contact_id").result_rows
json.dump({"ids": ids, "dup": dup, "versions": versions}, sys.stdout)
"""


def simulated(n: int, seed: int = 17) -> list[dict]:
    """About `n` events: two hours of office traffic that ended an hour ago (open contacts wait;
    nothing sits on the last-30-minutes boundary), as the system tests use."""
    from pipeline.simulator.config import SimConfig
    from pipeline.simulator.daytime import zone_where_local_hour
    from pipeline.simulator.model import simulate

    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=3)
    config = SimConfig(seed=seed, start=start, duration_s=2 * 3600, tz=zone_where_local_hour(start, 10))
    scale = max(1.0, n / SIM_EVENTS_AT_SCALE_1)
    events = list(simulate(config.scaled(scale)))
    if len(events) < 0.95 * n:  # a bigger centre is not quite proportionally busier: once more
        events = list(simulate(config.scaled(scale * n / max(1, len(events)))))
    return events


class Recomputation:
    """The live view and contact versions a single worker fed every event gives (computed once)."""

    def __init__(self, events: list[dict]):
        from pipeline.live.queue_settings import load_queue_settings
        from pipeline.live.worker_state import Record, WorkerState

        self.state = WorkerState(load_queue_settings(None, "UTC"))
        records = [Record(e["subject"].encode(), orjson.dumps(e), 0, i) for i, e in enumerate(events)]
        self.state.process(records, time.time())
        self.ps = self.state.partitions[0]

    def view(self, now: float) -> dict:
        from pipeline.live.live_view import merge, partial

        qs = self.state.queue_settings
        return merge([partial(self.ps.states(), self.ps.agents.values(), now, qs)], now, qs)

    def versions(self) -> dict[str, int]:
        return {s.contact_id: s.version for s in self.ps.states()}


def landed(data_dir: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _DUMP, str(data_dir / "clickhouse")], capture_output=True,
                         check=True, timeout=600)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=5.0, help="How long traffic arrives and kills go on (default 5).")
    p.add_argument("--kill-every", type=float, default=60.0, help="Seconds between kills (default 60).")
    p.add_argument("--rate", type=int, default=1000, help="Events per second published (default 1,000).")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--catch-up-timeout", type=float, default=600.0,
                   help="Seconds to wait after the traffic for lag 0 and the live view (default 600).")
    p.add_argument("--out-dir", type=Path, default=HERE, help="Where faults.json/faults.md go.")
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.rate < 1 or args.kill_every <= 0:
        p.error("--minutes and --kill-every must be > 0 and --rate >= 1")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    from bench.pipeline_bench import _cleanup, _new_stack, delete_stack_topics
    from bench.stack import Stack, kafka_for_bench
    from pipeline.kafka.local_broker import KafkaSetupError

    seconds = args.minutes * 60
    log(f"simulating about {int(args.rate * seconds):,} events ...")
    events = simulated(int(args.rate * seconds))
    try:
        with kafka_for_bench("tablero-faults", log) as (bootstrap, _):
            up = _new_stack(bootstrap, args.partitions)
            workers = [Stack(bootstrap=bootstrap, data_dir=Path(tempfile.mkdtemp(prefix=f"tablero-faults-w{i}-")),
                             namespace=up.namespace, partitions=args.partitions) for i in (1, 2)]
            try:
                r = _run(up, workers, events, seconds, args, log)
            finally:
                for s in (up, *workers):
                    _cleanup(s)
                delete_stack_topics(bootstrap, log)
    except KafkaSetupError as exc:
        log(f"error: {exc}")
        return 1
    import platform

    r.update(generated_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             machine=f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "faults.json").write_text(json.dumps(r, indent=2) + "\n")
    (args.out_dir / "faults.md").write_text(to_markdown(r))
    log(to_markdown(r))
    return 0 if r["passed"] else 1


def _run(up, workers, events: list[dict], seconds: float, args, log) -> dict:
    from tests.system.test_live_recovery import _same, publish

    log(f"{len(events):,} events at {len(events) / seconds:,.0f}/s for {seconds:.0f} s; "
        f"a worker killed every {args.kill_every:.0f} s ...")
    up.start()
    for w in workers:
        w.start("worker", wait_api=False)
    time.sleep(3)
    publisher = threading.Thread(target=publish, args=(up, events, len(events) / seconds), daemon=True)
    t0 = time.monotonic()
    publisher.start()
    kills, lag = [], []
    next_kill, k = args.kill_every, 0
    while publisher.is_alive() or next_kill <= seconds:
        at = time.monotonic() - t0
        if next_kill <= seconds and at >= next_kill:
            victim = workers[k % 2]
            victim.kill9()
            victim.start("worker", wait_api=False)  # same data directory: same static member id
            kills.append({"at_s": round(at, 1), "worker": f"w{k % 2 + 1}"})
            log(f"  {at:5.0f} s: kill -9 w{k % 2 + 1}, restarted")
            k += 1
            next_kill += args.kill_every
            continue
        lag.append({"at_s": round(at, 1), "lag": up.lag()})
        time.sleep(max(0.05, min(5.0, next_kill - (time.monotonic() - t0))))
    publisher.join()
    published_s = time.monotonic() - t0
    for w in workers:
        w.check_alive()
    log("traffic done; waiting for lag 0 ...")
    up.wait_lag_zero(args.catch_up_timeout, interval=0.5)
    caught_up_s = time.monotonic() - t0 - published_s
    log(f"lag 0 {caught_up_s:.1f} s after the last event was published; recomputing ...")
    expected = Recomputation(events)
    diffs: list[str] = []
    deadline = time.monotonic() + 120
    while True:  # the partials of the last landings may still be on their way to the API
        view = up.live()
        diffs = _same(view, expected.view(view["generated_at"])) if view.get("queues") else ["no live view"]
        if not diffs or time.monotonic() > deadline:
            break
        time.sleep(2)
    for s in (up, *workers):
        s.stop()
    stores = {name: landed(s.data_dir) for name, s in zip(("up", "w1", "w2"), (up, *workers))}
    ids: set[str] = set()
    versions: dict[str, int] = {}
    for st in stores.values():
        ids.update(st["ids"])
        for cid, v in st["versions"]:
            versions[cid] = max(v, versions.get(cid, 0))
    want = {e["id"] for e in events}
    want_versions = expected.versions()
    checks = {
        "live view = recomputation": not diffs,
        "every event id landed": not (want - ids),
        "no event id twice in a store (FINAL)": all(st["dup"] == 0 for st in stores.values()),
        "contacts = recomputation's": set(versions) == set(want_versions),
        "sum of contact versions = recomputation's": sum(versions.values()) == sum(want_versions.values()),
    }
    return {
        "minutes": args.minutes, "kill_every_s": args.kill_every, "partitions": args.partitions,
        "rate_asked": args.rate, "events": len(events), "rate": round(len(events) / seconds),
        "published_s": round(published_s, 1),
        "kills": kills, "lag_samples": lag, "caught_up_after_s": round(caught_up_s, 1),
        "landed_ids": len(ids), "missing_ids": sorted(want - ids)[:20], "unexpected_ids": sorted(ids - want)[:20],
        "rows_per_store": {n: len(st["ids"]) for n, st in stores.items()},
        "duplicates_per_store": {n: st["dup"] for n, st in stores.items()},
        "versions_sum": sum(versions.values()), "expected_versions_sum": sum(want_versions.values()),
        "live_differences": diffs[:15], "checks": checks, "passed": all(checks.values()),
    }


def to_markdown(r: dict) -> str:
    lag_max = max((s["lag"] for s in r["lag_samples"]), default=0)
    lines = [
        "# Faults under load", "",
        f"Generated {r['generated_at']} on {r['machine']}. `python -m bench.faults --minutes {r['minutes']:g} "
        f"--kill-every {r['kill_every_s']:g} --rate {r['rate_asked']}`: three workers (one `tablero up`, two "
        f"`tablero worker`) on {r['partitions']} partitions; {r['events']:,} simulated events ({r['rate']:,}/s) published in "
        f"{r['published_s']} s while w1 and w2 were killed with kill -9 in turn and restarted at once "
        f"({len(r['kills'])} kills, at {', '.join(str(k['at_s']) for k in r['kills'])} s).", "",
        f"Lag 0 {r['caught_up_after_s']} s after the last event was published; the largest lag sampled "
        f"during the run: {lag_max:,} events.", "",
        "| check | result |", "|---|---|",
    ]
    lines += [f"| {k} | {'yes' if v else '**NO**'} |" for k, v in r["checks"].items()]
    lines += [
        "", f"Event ids landed (union of the three stores): {r['landed_ids']:,} of {r['events']:,}; rows per store "
        f"{r['rows_per_store']} (a batch replayed after a kill lands in two stores: ReplacingMergeTree on one "
        f"server makes that harmless, so the union is taken per id); contact versions summed "
        f"{r['versions_sum']:,} (recomputation {r['expected_versions_sum']:,}).",
    ]
    if r["missing_ids"] or r["unexpected_ids"] or r["live_differences"]:
        lines += ["", f"Missing ids (first 20): {r['missing_ids']}", f"Unexpected ids: {r['unexpected_ids']}",
                  f"Live differences (first 15): {r['live_differences']}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
