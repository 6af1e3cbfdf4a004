"""Tablero benchmarks. `python -m bench.run [--quick] [--n N]` (what `make bench` runs).

Needs a Kafka broker: TABLERO_KAFKA if set, else the local one on 127.0.0.1:19092
(`tablero kafka start`). Every run uses fresh topics and consumer groups named
`bench-<run id>-...`, so runs never clash with each other or with the pipeline; they are deleted
at the end unless --keep-topics.

Benchmarks (results in bench/results.json and bench/results.md):
  1 ceiling   - N simulated events pre-produced into a fresh topic, then a bare aiokafka consumer
                decoding them with orjson: the most any Python consumer can do on this machine.
  2 pipeline  - HOOK for the lead: Tablero's worker over the same topic, events/s.
  3 peer      - the same live per-queue counts (waiting, offered, answered, abandoned) with
                Quix Streams 3 (stateful apply keyed by contact id, at-least-once, changelog on),
                events/s from the first to the last message processed; checked against a pure
                reference.
  4 ws        - HOOK for the lead: publish-to-websocket latency.
  5 reports   - HOOK for the lead: report query latencies.
  6 memory    - HOOK for the lead: worker memory and recovery time.

Hooks are the functions `bench_pipeline_throughput`, `bench_ws_latency`, `bench_report_latency`,
`bench_memory_recovery`: each takes (bootstrap, n, topic) and returns a dict with at least
`events_per_s` or `notes`, or None while not implemented ("pending" in the results).
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


# -- hooks for the lead ------------------------------------------------------------------------------------

def bench_pipeline_throughput(bootstrap: str, n: int, topic: str) -> dict[str, Any] | None:
    """HOOK (2): run Tablero's worker over `topic` (n events already there) and return
    {"events": n, "seconds": s, "events_per_s": n / s, "notes": ...}. Not implemented yet."""
    return None


def bench_ws_latency(bootstrap: str, n: int, topic: str) -> dict[str, Any] | None:
    """HOOK (4): publish events at a steady rate, measure publish -> websocket push latency
    (p50/p95/p99 ms) on /api/v1/live. Not implemented yet."""
    return None


def bench_report_latency(bootstrap: str, n: int, topic: str) -> dict[str, Any] | None:
    """HOOK (5): land the n events in ClickHouse and time the planners' reports
    (interval report, staff report, busiest times): p50/p95 ms. Not implemented yet."""
    return None


def bench_memory_recovery(bootstrap: str, n: int, topic: str) -> dict[str, Any] | None:
    """HOOK (6): worker RSS after n events and time to recover live state after a restart.
    Not implemented yet."""
    return None


HOOKS = [
    ("2", "pipeline", "Tablero worker throughput", bench_pipeline_throughput),
    ("4", "ws_latency", "publish -> websocket latency", bench_ws_latency),
    ("5", "reports", "report latencies", bench_report_latency),
    ("6", "memory_recovery", "memory & recovery", bench_memory_recovery),
]


# -- output ------------------------------------------------------------------------------------------------

def to_markdown(res: dict[str, Any]) -> str:
    lines = [
        "# Tablero benchmarks", "",
        f"Generated {res['generated_at']} on {res['machine']}; broker {res['bootstrap']}; "
        f"{res['n']:,} simulated events, {res['partitions']} partitions"
        f"{' (quick)' if res['quick'] else ''}.", "",
        "| # | benchmark | events | seconds | events/s | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for key in ("produce", "ceiling", "pipeline", "peer", "ws_latency", "reports", "memory_recovery"):
        r = res["results"].get(key)
        if r is None:
            continue
        num, title = r.get("num", ""), r.get("title", key)
        if r.get("status") == "pending":
            lines.append(f"| {num} | {title} | | | | pending (hook not implemented) |")
            continue
        if r.get("status") == "error":
            lines.append(f"| {num} | {title} | | | | error: {r.get('error', '')} |")
            continue
        eps = r.get("events_per_s")
        notes = r.get("notes", "")
        if "matches_reference" in r:
            notes += "; counts match the reference" if r["matches_reference"] else "; COUNTS DIFFER from the reference"
        lines.append(f"| {num} | {title} | {r.get('events', ''):,} | {r.get('seconds', '')} | "
                     f"{f'{eps:,}' if isinstance(eps, int) else (eps or '')} | {notes} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="20,000 events instead of 200,000.")
    p.add_argument("--n", type=int, default=None, help="Number of simulated events.")
    p.add_argument("--partitions", type=int, default=4, help="Partitions of the bench topic.")
    p.add_argument("--out-dir", type=Path, default=HERE, help="Where results.json/results.md go.")
    p.add_argument("--keep-topics", action="store_true", help="Do not delete the bench topics.")
    args = p.parse_args(argv)
    n = args.n or (20_000 if args.quick else 200_000)
    if n < 1:
        p.error("--n must be >= 1")
    if args.partitions < 1:
        p.error("--partitions must be >= 1")

    bootstrap = bootstrap_servers()
    run_id = f"bench-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    topic = f"{run_id}-events"
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

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
        log("1 ceiling ...")
        r = asyncio.run(bench_ceiling(bootstrap, n, topic, args.partitions))
        results["ceiling"] = {"num": "1", "title": "ceiling: bare aiokafka + orjson", **r}
        log("3 peer (Quix Streams) ...")
        try:
            r = bench_peer_quix(bootstrap, n, topic, events, group=f"{run_id}-quix")
            results["peer"] = {"num": "3", "title": "peer: Quix Streams live per-queue counts", **r}
        except Exception as exc:  # noqa: BLE001
            results["peer"] = {"num": "3", "title": "peer: Quix Streams", "status": "error",
                               "error": f"{type(exc).__name__}: {exc}"}
        for num, key, title, hook in HOOKS:
            log(f"{num} {title} ...")
            try:
                r = hook(bootstrap, n, topic)
                results[key] = ({"num": num, "title": title, "status": "pending"} if r is None
                                else {"num": num, "title": title, **r})
            except Exception as exc:  # noqa: BLE001
                results[key] = {"num": num, "title": title, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if not args.keep_topics:
            try:
                delete_topics(bootstrap, run_id)
            except Exception as exc:  # noqa: BLE001
                log(f"warning: could not delete the bench topics {run_id}*: {exc}")

    out = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}",
        "bootstrap": bootstrap, "n": n, "partitions": args.partitions, "quick": args.quick,
        "run_id": run_id, "results": results,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "results.json").write_text(json.dumps(out, indent=2) + "\n")
    (args.out_dir / "results.md").write_text(to_markdown(out))
    log(to_markdown(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
