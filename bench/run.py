"""Tablero benchmarks. `python -m bench.run [--quick] [--n N] [--only 2,4]` (what `make bench` runs).

Kafka: TABLERO_KAFKA if set; otherwise the bench starts its own single-node broker
(pipeline.kafka.local_broker.LocalKafka in a temporary directory, free ports) and stops it at the end, so
`make bench` works on a fresh machine (Java 17 and Maven needed, as for `make test`). Every run
uses fresh topics, consumer groups and Kafka namespaces (`bench-<run id>-...`,
`bench-stack-<id>`); they are deleted at the end unless --keep-topics.

Benchmarks (results in bench/results.json and bench/results.md, all from one run):
  1 ceiling   - N simulated events pre-produced into a fresh topic, then a bare aiokafka consumer
                decoding them with orjson: the most any Python consumer can do on this machine.
  2 pipeline  - the same N events through `tablero up` (one worker: validation, state, changelog,
                live partials, ClickHouse landing in chDB); bench/pipeline_bench.py.
  3 peer      - the same live per-queue counts (waiting, offered, answered, abandoned) with
                Quix Streams 3 (stateful apply keyed by contact id, at-least-once, changelog on),
                events/s from the first to the last message processed; checked against a pure
                reference.
  4 ws        - publish -> websocket latency at a fixed 2,000 and 10,000 events/s (p50/p95/p99),
                and publish -> the worker's partial on tablero.live (the worker's half of it);
                bench/pipeline_bench.py.
  5 reports   - p50/p95 of the queues (15 min and day intervals over 30 days) and conversations
                reports over a 10-million-event history (quick: 300,000) written straight into
                chDB; bench/reports_bench.py.
  6 memory    - RSS of `tablero up` with 100,000 open contacts (quick: 20,000) and the time from
                a restart after kill -9 to a correct live state; then RSS with 1,000,000 open
                contacts (quick: 200,000); bench/pipeline_bench.py.
  7 alerts    - alert fire latency: a rule's condition has held for for_s -> the webhook is on a real
                HTTP receiver (and the resolve), through `tablero up`; bench/alerts_bench.py.

Parts 1, 2 and 3 run --rounds times (3; quick 1), interleaved (ceiling, peer, pipeline, then again):
each reports its median round, the ratios are the median of the rounds' own ratios (a pipeline
and a peer run seconds apart see the same host), and every round's figures are kept.

--quick runs every part small (about 2 minutes). bench/profile_worker.py profiles the batch path
without Kafka (pyinstrument).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from bench.peer_logic import apply_deltas, reference, step

HERE = Path(__file__).resolve().parent
DEFAULT_BOOTSTRAP = "127.0.0.1:19092"
SIM_START = datetime(2024, 3, 4, tzinfo=timezone.utc)


def bootstrap_servers() -> str:
    return os.environ.get("TABLERO_KAFKA") or DEFAULT_BOOTSTRAP


# -- data ------------------------------------------------------------------------------------------

def simulated_events(n: int, seed: int = 42) -> list[dict]:
    """The first n events of a long deterministic simulation (the default demo centre)."""
    from pipeline.simulator import SimConfig, simulate

    cfg = SimConfig(seed=seed, start=SIM_START, duration_s=400 * 86400, tz="UTC")
    events = list(islice(simulate(cfg), n))
    if len(events) < n:
        raise SystemExit(f"the simulation yields only {len(events)} events; use --n <= {len(events)}")
    return events


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tablero-bench")
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


def delete_topics(bootstrap: str, prefix: str) -> list[str]:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tablero-bench")
    try:
        # Quix names its changelog topics changelog__<group>--<topic>--<store>
        mine = [t for t in admin.list_topics() if t.startswith(prefix) or prefix in t]
        if mine:
            admin.delete_topics(mine)
        return mine
    finally:
        admin.close()


async def produce(bootstrap: str, topic: str, events: list[dict]) -> float:
    """Pre-produce events (key = subject, acks=all); returns seconds until all acknowledged."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                                max_batch_size=512 * 1024, compression_type=None)
    await producer.start()
    t0 = time.perf_counter()
    try:
        futures = []
        for e in events:
            futures.append(await producer.send(topic, orjson.dumps(e), key=e["subject"].encode()))
        await producer.flush()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - t0


# -- 1 ceiling -----------------------------------------------------------------------------------------

async def bench_ceiling(bootstrap: str, n: int, topic: str, partitions: int) -> dict[str, Any]:
    """Bare aiokafka consumer + orjson.loads of every value, from the start of the topic."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_bytes=64 * 1024 * 1024,
                                max_partition_fetch_bytes=16 * 1024 * 1024)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        first = time.perf_counter()  # fetching counts: measured from the seek to the last decode
        last = None
        types: dict[str, int] = {}
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=50_000)
            for records in batch.values():
                for r in records:
                    e = orjson.loads(r.value)
                    t = e["type"]
                    types[t] = types.get(t, 0) + 1
                seen += len(records)
            if batch:
                last = time.perf_counter()
        secs = (last - first) if first is not None and last is not None else 0.0
        return {"events": seen, "seconds": round(secs, 3), "events_per_s": round(seen / secs) if secs else None,
                "notes": "aiokafka getmany + orjson.loads, manual assignment, no commits; seek to last decode"}
    finally:
        await consumer.stop()


# -- 3 peer: Quix Streams --------------------------------------------------------------------------------

def bench_peer_quix(bootstrap: str, n: int, topic: str, events: list[dict], group: str) -> dict[str, Any]:
    from quixstreams import Application

    state_dir = tempfile.mkdtemp(prefix="tablero-bench-quix-")
    totals: dict[str, dict[str, int]] = {}
    clock: dict[str, float] = {}

    def contact_step(value: dict, state) -> list:
        now = time.perf_counter()
        clock.setdefault("first", now)
        clock["last"] = now
        s, deltas = step(state.get("c"), value)
        if s is not None:
            state.set("c", s)
        return deltas

    try:
        app = Application(broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
                          state_dir=state_dir, loglevel="WARNING", commit_interval=1.0)
        sdf = app.dataframe(app.topic(topic, value_deserializer="json", key_deserializer="str"))
        sdf = sdf.apply(contact_step, stateful=True)
        sdf.update(lambda deltas: apply_deltas(totals, deltas))
        wall0 = time.perf_counter()
        app.run(count=n, timeout=60, collect=False)
        wall = time.perf_counter() - wall0
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    secs = clock.get("last", 0.0) - clock.get("first", 0.0)
    ref = reference(events)
    return {
        "events": n, "seconds": round(secs, 3), "events_per_s": round(n / secs) if secs else None,
        "wall_seconds_with_startup": round(wall, 3),
        "matches_reference": totals == ref,
        "counts": totals,
        "notes": "quixstreams Application, stateful apply keyed by contact id (RocksDB + changelog), "
                 "at-least-once; per-queue sums in the process",
    }


# -- 2, 4, 5, 6: Tablero itself -----------------------------------------------------------------------
# Each takes a Ctx and returns a result dict (events, seconds, events_per_s, notes, extras).

class Ctx:
    def __init__(self, bootstrap: str, events: list[dict], partitions: int, quick: bool, log):
        self.bootstrap, self.events, self.partitions, self.quick, self.log = bootstrap, events, partitions, quick, log


def bench_pipeline_throughput(ctx: Ctx) -> dict[str, Any]:
    from bench.pipeline_bench import bench_pipeline_throughput as run

    return run(ctx.bootstrap, ctx.events, ctx.partitions, produce, create_topic)


def bench_ws_latency(ctx: Ctx) -> dict[str, Any]:
    from bench.pipeline_bench import bench_ws_latency as run

    return run(ctx.bootstrap, ctx.events, ctx.partitions, rate=2000, seconds=10 if ctx.quick else 60)


def bench_ws_latency_10k(ctx: Ctx) -> dict[str, Any]:
    from bench.pipeline_bench import bench_ws_latency as run

    return run(ctx.bootstrap, ctx.events, ctx.partitions, rate=10_000, seconds=10 if ctx.quick else 60)


def bench_report_latency(ctx: Ctx) -> dict[str, Any]:
    """Runs bench/reports_bench.py in a subprocess (chDB: one data directory per process)."""
    import subprocess

    n = 300_000 if ctx.quick else 10_000_000
    d = tempfile.mkdtemp(prefix="tablero-bench-reports-")
    try:
        t = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "bench.reports_bench", "--events", str(n), "--dir", d,
                              "--repeats", "10" if ctx.quick else "20"],
                             capture_output=True, text=True, cwd=HERE.parent, timeout=3600)
        if res.returncode != 0:
            raise RuntimeError(res.stderr[-1500:])
        r = json.loads(res.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    rep = r["reports"]
    notes = "; ".join(f"{k} p50 {v['p50_ms']} ms, p95 {v['p95_ms']} ms" for k, v in rep.items())
    return {"events": r["events"], "seconds": round(time.perf_counter() - t, 1), "events_per_s": None,
            "history_contacts": r["contacts"], "load_seconds": r["load_seconds"], "reports": rep,
            "notes": f"synthetic history inserted straight into chDB ({r['contacts']:,} contacts, "
                     f"{r['events']:,} events, insert_rows in 100k-row batches, {r['load_seconds']} s); " + notes}


def bench_memory_recovery(ctx: Ctx) -> dict[str, Any]:
    from bench.pipeline_bench import bench_memory_recovery as run

    return run(ctx.bootstrap, 20_000 if ctx.quick else 100_000, ctx.partitions, produce, create_topic)


def bench_alert_latency(ctx: Ctx) -> dict[str, Any]:
    from bench.alerts_bench import bench_alert_latency as run

    r = run(ctx.bootstrap, ctx.partitions, trials=10 if ctx.quick else 30)
    r["notes"] = (f"fire p50 {r['fire_p50_ms']} ms, p95 {r['fire_p95_ms']} ms, max {r['fire_max_ms']} ms; "
                  f"resolve p50 {r['resolve_p50_ms']} ms, p95 {r['resolve_p95_ms']} ms over {r['trials']} "
                  f"trials (for_s {r['for_s']} s, evaluation every {r['alerts_interval_s']} s)")
    return r


def bench_memory_1m(ctx: Ctx) -> dict[str, Any]:
    from bench.pipeline_bench import bench_memory_recovery as run

    return run(ctx.bootstrap, 200_000 if ctx.quick else 1_000_000, ctx.partitions, produce, create_topic,
               recovery=False)


PIPELINE_TITLE = "pipeline: Tablero worker (validation, state, landing)"
HOOKS = [
    ("2", "pipeline", PIPELINE_TITLE, bench_pipeline_throughput),
    ("4", "ws_latency", "publish -> websocket latency at 2,000 events/s", bench_ws_latency),
    ("4", "ws_latency_10k", "publish -> websocket latency at 10,000 events/s", bench_ws_latency_10k),
    ("5", "reports", "report latencies (embedded ClickHouse)", bench_report_latency),
    ("6", "memory_recovery", "memory with open contacts & recovery after kill -9", bench_memory_recovery),
    ("6", "memory_1m", "memory with 1,000,000 open contacts", bench_memory_1m),
    ("7", "alerts", "alert fire latency (condition held for for_s -> webhook received)", bench_alert_latency),
]


def _median_round(runs: list[dict]) -> dict | None:
    """The round with the median events/s (the lower middle of an even count), or the error."""
    ok = sorted((r for r in runs if r.get("events_per_s")), key=lambda r: r["events_per_s"])
    if not ok:
        return runs[-1] if runs else None
    return ok[(len(ok) - 1) // 2]


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def combine_rounds(rounds: dict[str, list[dict]]) -> dict[str, dict]:
    """Parts 1-3 over interleaved rounds: each part's median round, every round's events/s, and the
    pipeline's ratios as the median of each round's own ratio (the runs of one round are seconds
    apart, so they share the host's load)."""
    out: dict[str, dict] = {}
    for key, runs in rounds.items():
        chosen = _median_round(runs)
        if chosen is None:
            continue
        out[key] = dict(chosen)
        if len(runs) > 1:
            out[key]["rounds_events_per_s"] = [r.get("events_per_s") for r in runs]
            if chosen.get("events_per_s"):
                out[key]["notes"] = (chosen.get("notes", "") + f"; the median of {len(runs)} interleaved rounds: "
                                     + ", ".join(f"{r['events_per_s']:,}" if r.get("events_per_s") else "error"
                                                 for r in runs) + " events/s")
    pipe = out.get("pipeline")
    if pipe and pipe.get("events_per_s"):
        for other in ("ceiling", "peer"):
            pairs = [(p["events_per_s"], o["events_per_s"]) for p, o in zip(rounds["pipeline"], rounds[other])
                     if p.get("events_per_s") and o.get("events_per_s")]
            if pairs:
                ratios = [round(a / b, 3) for a, b in pairs]
                pipe[f"ratio_to_{other}"] = round(_median(ratios), 3)
                pipe[f"ratio_to_{other}_rounds"] = ratios
    return out


# -- output ------------------------------------------------------------------------------------------------

GOALS = [
    ("pipeline events/s per worker", ">= 40,000"),
    ("pipeline / ceiling", "(the ceiling: bare consumer)"),
    ("pipeline / peer", "> 1"),
    ("publish -> websocket p99 at 2,000 events/s", "<= 250 ms"),
    ("publish -> websocket p99 at 10,000 events/s", "<= 500 ms"),
    ("report p95", "<= 500 ms"),
    ("worker RSS, 100k open contacts", "<= 512 MB"),
    ("worker RSS, 1M open contacts", "(reported)"),
    ("recovery after kill -9", "<= 10 s"),
    ("alert fire latency p95", "<= 2 s"),
]


def summary(res: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(goal, target, measured) rows from the results of one run."""
    r = res["results"]
    eps = lambda k: (r.get(k) or {}).get("events_per_s")  # noqa: E731
    pipe, ceil, peer = eps("pipeline"), eps("ceiling"), eps("peer")
    ws = r.get("ws_latency") or {}
    ws10 = r.get("ws_latency_10k") or {}
    rep = (r.get("reports") or {}).get("reports") or {}
    mem = r.get("memory_recovery") or {}
    mem1m = r.get("memory_1m") or {}
    fmt = lambda v, unit="": "n/a" if v is None else f"{v:,}{unit}"  # noqa: E731
    worst_p95 = max((v["p95_ms"] for v in rep.values()), default=None)
    def lat(w: dict) -> str:
        return fmt(w.get("p99_ms"), " ms") + (f" (p50 {w['p50_ms']} ms, p95 {w['p95_ms']} ms; sent "
                                              f"{w['events_per_s']:,}/s)" if "p50_ms" in w else "")
    return [
        (GOALS[0][0], GOALS[0][1], fmt(pipe) + (f" (peer {peer:,}, ceiling {ceil:,})" if peer and ceil else "")),
        (GOALS[1][0], GOALS[1][1], _ratio(r.get("pipeline") or {}, "ceiling")),
        (GOALS[2][0], GOALS[2][1], _ratio(r.get("pipeline") or {}, "peer")),
        (GOALS[3][0], GOALS[3][1], lat(ws)),
        (GOALS[4][0], GOALS[4][1], lat(ws10)),
        (GOALS[5][0], GOALS[5][1], fmt(worst_p95, " ms") + (" (worst of " + ", ".join(rep) + ")" if rep else "")),
        (f"worker RSS, {mem.get('open_contacts', 0):,} open contacts", GOALS[6][1], fmt(mem.get("rss_mb"), " MB")),
        (f"worker RSS, {mem1m.get('open_contacts', 0):,} open contacts", GOALS[7][1], fmt(mem1m.get("rss_mb"), " MB")),
        (GOALS[8][0], GOALS[8][1], fmt(mem.get("recovery_s"), " s")),
        (GOALS[9][0], GOALS[9][1], fmt((r.get("alerts") or {}).get("fire_p95_ms"), " ms")),
    ]


def _ratio(pipe: dict, other: str) -> str:
    ratio = pipe.get(f"ratio_to_{other}")
    if ratio is None:
        return "n/a"
    rounds = pipe.get(f"ratio_to_{other}_rounds") or []
    return f"{ratio:.2f}" + (f" (median of the rounds: {', '.join(f'{x:.2f}' for x in rounds)})"
                             if len(rounds) > 1 else "")


def to_markdown(res: dict[str, Any]) -> str:
    lines = [
        "# Tablero benchmarks", "",
        f"Generated {res['generated_at']} on {res['machine']}; broker {res['bootstrap']}; "
        f"{res['n']:,} simulated events, {res['partitions']} partitions"
        f"{' (quick)' if res['quick'] else ''}. All numbers from this one run"
        + (f"; parts 1-3 in {res['rounds']} interleaved rounds (their median round; ratios: the median of "
           "each round's own ratio)" if res.get("rounds", 1) > 1 else "") + ". "
        "Method: bench/run.py, bench/pipeline_bench.py, bench/reports_bench.py.", "",
        "## Goals", "",
        "| goal | target | measured |",
        "|---|---|---|",
        *[f"| {g} | {t} | {m} |" for g, t, m in summary(res)],
        "",
        "## Details", "",
        "| # | benchmark | events | seconds | events/s | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for key in ("produce", "ceiling", "pipeline", "peer", "ws_latency", "ws_latency_10k", "reports",
                "memory_recovery", "memory_1m", "alerts"):
        r = res["results"].get(key)
        if r is None:
            continue
        num, title = r.get("num", ""), r.get("title", key)
        if r.get("status") == "error":
            lines.append(f"| {num} | {title} | | | | error: {r.get('error', '')} |")
            continue
        eps = r.get("events_per_s")
        notes = r.get("notes", "")
        if "matches_reference" in r:
            notes += "; counts match the reference" if r["matches_reference"] else "; COUNTS DIFFER from the reference"
        if key in ("ws_latency", "ws_latency_10k"):
            notes = f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms " \
                    f"over {r['probes_measured']} probes (publish -> worker partial on tablero.live: " \
                    f"p50 {r.get('to_live_topic_p50_ms')} ms, p99 {r.get('to_live_topic_p99_ms')} ms); " + notes
        events = r.get("events", "")
        lines.append(f"| {num} | {title} | {f'{events:,}' if isinstance(events, int) else events} | "
                     f"{r.get('seconds', '')} | {f'{eps:,}' if isinstance(eps, int) else (eps or '')} | {notes} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="Every part small (under 2 minutes).")
    p.add_argument("--n", type=int, default=None, help="Number of simulated events (default 200,000; quick 20,000).")
    p.add_argument("--partitions", type=int, default=4, help="Partitions of the bench topics.")
    p.add_argument("--only", default="", help="Comma-separated parts to run among 2,3,4,5,6,7 (1 always runs).")
    p.add_argument("--out-dir", type=Path, default=HERE, help="Where results.json/results.md go.")
    p.add_argument("--keep-topics", action="store_true", help="Do not delete the bench topics.")
    p.add_argument("--rounds", type=int, default=None,
                   help="Interleaved rounds of parts 1-3 (default 3; quick 1): medians and per-round ratios.")
    args = p.parse_args(argv)
    n = args.n or (20_000 if args.quick else 200_000)
    if n < 1:
        p.error("--n must be >= 1")
    if args.partitions < 1:
        p.error("--partitions must be >= 1")
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    only = set(filter(None, args.only.split(",")))
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    from bench.stack import kafka_for_bench
    from pipeline.kafka.local_broker import KafkaSetupError

    try:
        with kafka_for_bench("tablero-bench", log) as (bootstrap, _):  # a fresh machine: a broker of its own
            return _run(args, n, only, bootstrap, log)
    except KafkaSetupError as exc:
        log(f"error: {exc}")
        return 1


def _run(args, n: int, only: set[str], bootstrap: str, log) -> int:
    run_id = f"bench-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    topic = f"{run_id}-events"

    log(f"simulating {n:,} events ...")
    t = time.perf_counter()
    events = simulated_events(n)
    sim_s = time.perf_counter() - t
    results: dict[str, Any] = {
        "simulate": {"events": n, "seconds": round(sim_s, 3), "events_per_s": round(n / sim_s)},
    }
    try:
        create_topic(bootstrap, topic, args.partitions)
    except Exception as exc:  # noqa: BLE001
        log(f"error: cannot create a topic on Kafka at {bootstrap} (TABLERO_KAFKA): {exc}")
        return 1
    try:
        log(f"producing to {topic} ...")
        secs = asyncio.run(produce(bootstrap, topic, events))
        results["produce"] = {"num": "0", "title": "pre-produce (aiokafka, acks=all)", "events": n,
                              "seconds": round(secs, 3), "events_per_s": round(n / secs),
                              "notes": "setup for the consumers below"}
        ctx = Ctx(bootstrap, events, args.partitions, args.quick, log)
        rounds: dict[str, list[dict]] = {"ceiling": [], "peer": [], "pipeline": []}
        for i in range(args.rounds):
            tag = f" (round {i + 1} of {args.rounds})" if args.rounds > 1 else ""
            log(f"1 ceiling{tag} ...")
            r = asyncio.run(bench_ceiling(bootstrap, n, topic, args.partitions))
            rounds["ceiling"].append({"num": "1", "title": "ceiling: bare aiokafka + orjson", **r})
            if not only or "3" in only:
                log(f"3 peer (Quix Streams){tag} ...")
                try:
                    r = bench_peer_quix(bootstrap, n, topic, events, group=f"{run_id}-quix-{i}")
                    rounds["peer"].append({"num": "3", "title": "peer: Quix Streams live per-queue counts", **r})
                except Exception as exc:  # noqa: BLE001
                    rounds["peer"].append({"num": "3", "title": "peer: Quix Streams", "status": "error",
                                           "error": f"{type(exc).__name__}: {exc}"})
            if not only or "2" in only:
                log(f"2 pipeline{tag} ...")
                try:
                    rounds["pipeline"].append({"num": "2", "title": PIPELINE_TITLE, **bench_pipeline_throughput(ctx)})
                except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001
                    rounds["pipeline"].append({"num": "2", "title": PIPELINE_TITLE, "status": "error",
                                               "error": f"{type(exc).__name__}: {exc}"})
        results.update(combine_rounds(rounds))
        for num, key, title, hook in HOOKS:
            if key == "pipeline" or (only and num not in only):
                continue
            log(f"{num} {title} ...")
            t = time.perf_counter()
            try:
                results[key] = {"num": num, "title": title, **hook(ctx)}
            except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001
                results[key] = {"num": num, "title": title, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
            log(f"   ... {time.perf_counter() - t:.1f} s: {results[key].get('events_per_s') or results[key].get('error', '')}")
    finally:
        if not args.keep_topics:
            from bench.pipeline_bench import delete_stack_topics

            try:
                delete_topics(bootstrap, run_id)
            except Exception as exc:  # noqa: BLE001
                log(f"warning: could not delete the bench topics {run_id}*: {exc}")
            delete_stack_topics(bootstrap, log)

    out = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}",
        "bootstrap": bootstrap, "n": n, "partitions": args.partitions, "quick": args.quick, "rounds": args.rounds,
        "run_id": run_id, "results": results,
    }
    out["goals"] = [{"goal": g, "target": t, "measured": m} for g, t, m in summary(out)]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "results.json").write_text(json.dumps(out, indent=2) + "\n")
    (args.out_dir / "results.md").write_text(to_markdown(out))
    log(to_markdown(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
