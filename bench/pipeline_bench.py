"""Parts 2, 4 and 6: Tablero itself (`tablero up --no-kafka` in a subprocess, one worker, chDB),
each on its own Kafka namespace and data directory.

2 pipeline  - the N simulated events pre-produced into the stack's events topic, then the worker
              started: validation, contact/agent state, changelog, live partials and ClickHouse
              landing. Rate = events landed after the first batch / (start of the last batch -
              start of the first batch), from the `ingested_at` stamps the worker writes on every
              `events` row (one stamp per batch), so process start-up and Kafka lag polling do not
              count. The wall time until the group's lag is 0 is reported beside it.
4 ws        - a running stack; a producer publishes at a fixed 2,000 events/s (simulated events)
              and, every 50 ms, a probe contact.created in queue `bench-probe`; a websocket client
              subscribed to that queue records, for every probe, the first message whose
              today.offered counts it. Latency = that receive time - the probe's send time.
              Beside it, the worker's half: when a partial on tablero.live first counts the probe.
6 memory    - K open contacts (created, never answered) landed, RSS of the `tablero up` process
              (worker + API + chDB in one process); then kill -9, restart, and the time until the
              new process's own partials on tablero.live (its pid in `worker`) add up to K waiting.
"""
from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from bench import chdb_query
from bench.rate_sender import TickSender
from bench.stack import Stack, cpu_sample, rss_mb
from pipeline.live.live_view import OFFERED
from pipeline.simulator.model import format_time


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


NAMESPACES: list[str] = []  # of the stacks started by this run, for topic clean-up


def _new_stack(bootstrap: str, partitions: int, **env) -> Stack:
    d = Path(tempfile.mkdtemp(prefix="tablero-bench-stack-"))
    stack = Stack(bootstrap=bootstrap, data_dir=d, partitions=partitions, extra_env=env)
    NAMESPACES.append(stack.namespace)
    return stack


def _cleanup(stack: Stack) -> None:
    stack.stop()
    shutil.rmtree(stack.data_dir, ignore_errors=True)


def delete_stack_topics(bootstrap: str, log) -> None:
    """Delete the topics of every stack this run started (a shared broker keeps no leftovers)."""
    from bench.run import delete_topics

    try:
        for ns in NAMESPACES:
            delete_topics(bootstrap, ns)
    except Exception as exc:  # noqa: BLE001
        log(f"warning: could not delete the run's topics ({', '.join(NAMESPACES)}*): {exc}")


# -- 2 pipeline throughput -------------------------------------------------------------------------

def bench_pipeline_throughput(bootstrap: str, events: list[dict], partitions: int, produce, create_topic,
                              extra_env: dict | None = None) -> dict[str, Any]:
    n = len(events)
    stack = _new_stack(bootstrap, partitions, **(extra_env or {}))
    try:
        create_topic(bootstrap, stack.events_topic, partitions)
        asyncio.run(produce(bootstrap, stack.events_topic, events))
        stack.start()
        # CPU of the worker process (every thread) and of its main thread, from the API being up
        # to lag 0: per event, a figure other load on a shared machine moves far less than events/s
        cpu0 = cpu_sample({"worker": stack.proc.pid}, split={"worker": stack.proc.pid})
        done = stack.wait_lag_zero(timeout=max(120, n / 1000))
        cpu1 = cpu_sample({"worker": stack.proc.pid}, split={"worker": stack.proc.pid})
        rss = rss_mb(stack.proc.pid)
        stack.stop()
        [stats], batches = chdb_query.run(
            stack.data_dir,
            "SELECT count() AS rows, uniqExact(id) AS ids, toFloat64(min(ingested_at)) AS t0, "
            "toFloat64(max(ingested_at)) AS t1 FROM events",
            "SELECT toFloat64(ingested_at) AS t, count() AS n FROM events GROUP BY t ORDER BY t")
        first, last = batches[0], batches[-1]
        span = last["t"] - first["t"]
        processed = stats["ids"] - last["n"]  # the last batch's own work is not inside the span
        eps = round(processed / span) if span > 0 else None
        cpu_us = round((cpu1.processes["worker"] - cpu0.processes["worker"]) / n * 1e6, 1)
        main_us = round((cpu1.threads["worker:main"] - cpu0.threads["worker:main"]) / n * 1e6, 1)
        return {
            "events": n, "seconds": round(span, 3), "events_per_s": eps,
            "landed_rows": stats["rows"], "landed_distinct_ids": stats["ids"], "batches": len(batches),
            "mean_batch": round(stats["rows"] / len(batches)),
            "wall_seconds_to_lag_0": round(done - first["t"], 3), "worker_rss_mb_after": rss.get("rss_mb"),
            "worker_peak_rss_mb": rss.get("peak_rss_mb"),
            "worker_cpu_us_per_event": cpu_us, "worker_main_thread_cpu_us_per_event": main_us,
            "notes": f"tablero up (1 worker, chDB); rate from ingested_at of first/last batch; "
                     f"{stats['ids']:,} distinct events landed; worker CPU {cpu_us} µs per event "
                     f"({main_us} on its event loop's thread)"
                     + ("" if span > 0 else "; every event landed at once (one landing of up to "
                        "TABLERO_BATCH_MAX): too few events to time, use --n 100000 or more"),
        }
    finally:
        _cleanup(stack)


# -- 4 publish -> websocket latency -----------------------------------------------------------------

PROBE_QUEUE = "bench-probe"


async def _latency_run(stack: Stack, background: list[dict], rate: int, seconds: float,
                       warmup_s: float) -> dict[str, Any]:
    import websockets
    from aiokafka import AIOKafkaProducer

    sent: list[float] = []          # probe i's send time (time.time())
    latency: list[float] = []
    seen = 0
    at_live: list[float] = []       # probe i first counted in a worker partial on tablero.live
    run_id = uuid.uuid4().hex[:8]

    async def live_reader():
        # the worker's half of the path: per-partition partials as they reach tablero.live
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False,
                                    fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024)
        await consumer.start()
        try:
            tp = TopicPartition(stack.live_topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_end(tp)
            offered: dict[int, int] = {}
            while True:
                batch = await consumer.getmany(timeout_ms=100, max_records=10000)
                now = time.time()
                for records in batch.values():
                    for r in records:
                        rec = orjson.loads(r.value)
                        offered[rec["partition"]] = sum(q["today"][OFFERED] for q in rec["partial"]["queues"]
                                                        if q["queue"] == PROBE_QUEUE)
                total = sum(offered.values())
                while len(at_live) < min(total, len(sent)):
                    at_live.append(now)
        finally:
            try:
                await consumer.stop()
            except asyncio.CancelledError:
                pass

    async def reader(ws):
        nonlocal seen
        async for raw in ws:
            now = time.time()
            msg = orjson.loads(raw)
            view = msg.get("view")
            if not view:
                continue
            offered = sum(q["today"]["offered"] for q in view["queues"] if q["queue"] == PROBE_QUEUE)
            while seen < min(offered, len(sent)):
                latency.append(now - sent[seen])
                seen += 1

    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=1)
    await producer.start()
    sender = await TickSender.for_topic(producer, stack.events_topic)
    async with websockets.connect(stack.ws_url + f"&queue={PROBE_QUEUE}", max_size=None) as ws:
        task = asyncio.create_task(reader(ws))
        live_task = asyncio.create_task(live_reader())
        await asyncio.sleep(1)  # the live reader is at the end of tablero.live
        tick = 0.01
        per_tick = max(1, round(rate * tick))
        probe_every = 5  # ticks: a probe every 50 ms
        it = _endless(background)
        t0 = time.perf_counter()
        total = ticks = 0
        try:
            while time.perf_counter() - t0 < seconds:
                batch = []
                for _ in range(per_tick):
                    batch.append(next(it))
                if ticks % probe_every == 0:
                    now = time.time()
                    probe = {"specversion": "1.0", "id": f"probe-{run_id}-{len(sent)}", "source": "bench",
                             "type": "contact.created", "time": _iso(now),
                             "subject": f"probe-{run_id}-{len(sent)}",
                             "data": {"channel": "chat", "queue": PROBE_QUEUE}}
                    batch[-1] = probe
                for e in batch:
                    if e["type"] == "contact.created" and e["data"].get("queue") == PROBE_QUEUE:
                        sent.append(time.time())
                    await sender.add(e["subject"].encode(), orjson.dumps(e))
                await sender.send()
                total += len(batch)
                ticks += 1
                # fixed rate: sleep until the next tick's due time
                due = t0 + ticks * tick
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await sender.drain()
            elapsed = time.perf_counter() - t0  # the sending, not the wait for the last probes
            deadline = time.time() + 10
            while seen < len(sent) and time.time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            live_task.cancel()
            await producer.stop()
    n_warm = int(warmup_s / (tick * probe_every))
    lat = sorted(x * 1000 for x in latency[n_warm:])
    if not lat:
        raise RuntimeError("no probe was ever reflected on the websocket")

    worker_lat = sorted((at_live[i] - sent[i]) * 1000 for i in range(n_warm, min(len(at_live), len(sent))))

    def pct(p: float, values: list[float] = lat) -> float | None:
        if not values:
            return None
        return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 1)

    return {"events": total, "seconds": round(elapsed, 3), "events_per_s": round(total / elapsed),
            "probes": len(sent), "probes_measured": len(lat), "probes_missing": len(sent) - seen,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": round(lat[-1], 1),
            # publish -> the worker's partial on tablero.live (the rest is the API's merge and push)
            "to_live_topic_p50_ms": pct(50, worker_lat), "to_live_topic_p99_ms": pct(99, worker_lat)}


def _endless(background: list[dict]):
    """The background events, then again and again as later events of new contacts: each repeat
    gets new ids and contact subjects, and its times move on by the background's span, so an
    agent's states stay in time order (repeating them unchanged would make a fifth of the load
    stale agent states, dead letters instead of the events a centre sends)."""
    yield from background
    def epoch(t: str) -> float:
        return datetime.fromisoformat(t).timestamp()
    times = [epoch(e["time"]) for e in background]
    span = max(times) - min(times) + 1.0
    cycle = 0
    while True:
        cycle += 1
        for e, t in zip(background, times):
            e = {**e, "id": f"{e['id']}-r{cycle}", "time": format_time(t + cycle * span)}
            if e["type"].startswith("contact."):
                e["subject"] = f"{e['subject']}-r{cycle}"
                if e["type"] == "contact.snoozed":
                    e["data"] = {**e["data"], "until": format_time(epoch(e["data"]["until"]) + cycle * span)}
            yield e


def bench_ws_latency(bootstrap: str, events: list[dict], partitions: int, rate: int = 2000,
                     seconds: float = 60, warmup_s: float = 3.0) -> dict[str, Any]:
    stack = _new_stack(bootstrap, partitions)
    try:
        stack.start()
        time.sleep(3)  # let the worker join its group and the API's live feed start
        r = asyncio.run(_latency_run(stack, events, rate, seconds, warmup_s))
        r["notes"] = (f"fixed {rate:,} events/s via aiokafka; a probe contact.created every 50 ms; "
                      f"latency = websocket receive - send; first {warmup_s:.0f}s excluded")
        return r
    finally:
        _cleanup(stack)


# -- 6 memory and recovery --------------------------------------------------------------------------

def open_contacts(k: int, seed: int = 11) -> list[dict]:
    """K contact.created events of the last hour, never answered: K open, waiting contacts."""
    rng = random.Random(seed)
    now = time.time()
    queues = [("billing", "voice"), ("support", "chat"), ("sales", "email"), ("backoffice", "email"),
              ("vip", "voice"), ("support", "email"), ("sales", "chat"), ("billing", "email")]
    run = uuid.uuid4().hex[:6]
    out = []
    for i in range(k):
        q, c = queues[i % len(queues)]
        out.append({"specversion": "1.0", "id": f"open-{run}-{i}", "source": "bench",
                    "type": "contact.created", "time": _iso(now - 3600 + i * 3600 / k),
                    "subject": f"open-{run}-{i}",
                    "data": {"channel": c, "queue": q, "customer": f"cust-{i}", "tags": ["bench"]}})
    return out


async def _wait_live(stack: Stack, worker: str, partitions: int, expect_waiting: int, timeout: float) -> float:
    """Follow tablero.live until every partition has a partial from `worker` and they add up to
    `expect_waiting` waiting contacts; returns time.time() of that record."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False,
                                fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024)
    await consumer.start()
    try:
        deadline = time.time() + timeout
        tps = [TopicPartition(stack.live_topic, 0)]  # tablero.live has one partition
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        waiting: dict[int, int] = {}
        while time.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=10000)
            for records in batch.values():
                for r in records:
                    if r.value is None:
                        continue
                    rec = orjson.loads(r.value)
                    if rec.get("worker") != worker:
                        continue
                    waiting[rec["partition"]] = sum(len(q["waits"]) + q.get("breached", 0) for q in rec["partial"]["queues"])
                    if len(waiting) == partitions and sum(waiting.values()) == expect_waiting:
                        return time.time()
        raise RuntimeError(f"live state not correct in {timeout}s: {waiting}")
    finally:
        try:
            await consumer.stop()
        except asyncio.CancelledError:  # aiokafka's background routine, cancelled by stop()
            pass


def _split(rss: dict) -> str:
    return f"heap {rss.get('rss_anon_mb')} MB + mapped files {rss.get('rss_file_mb')} MB"


def bench_memory_recovery(bootstrap: str, k: int, partitions: int, produce, create_topic,
                          recovery: bool = True) -> dict[str, Any]:
    import socket

    events = open_contacts(k)
    stack = _new_stack(bootstrap, partitions)
    try:
        create_topic(bootstrap, stack.events_topic, partitions)
        asyncio.run(produce(bootstrap, stack.events_topic, events))
        stack.start()
        stack.wait_lag_zero(timeout=300)
        asyncio.run(_wait_live(stack, f"{socket.gethostname()}:{stack.proc.pid}", partitions, k, 120))
        # a steady state: the last batch landed and a housekeeping round (every 5 s) has given the
        # C heap's freed pages back (before it, RSS still holds the burst's garbage); the peak is
        # reported beside it
        time.sleep(7)
        rss = rss_mb(stack.proc.pid)
        if not recovery:
            return {"events": k, "seconds": None, "events_per_s": None, "open_contacts": k, **rss,
                    "notes": f"RSS of the whole `tablero up` process (worker + API + chDB) with {k:,} open "
                             f"contacts: {rss.get('rss_mb')} MB (peak {rss.get('peak_rss_mb')} MB; "
                             f"{_split(rss)})"}
        stack.kill9()
        t0 = time.time()
        stack.start(wait_api=False)
        ready = asyncio.run(_wait_live(stack, f"{socket.gethostname()}:{stack.proc.pid}", partitions, k, 180))
        recovery = ready - t0
        stack.wait_api(60)
        api_waiting = stack.live()["total"]["waiting"]
        return {
            "events": k, "seconds": round(recovery, 3), "events_per_s": None,
            "open_contacts": k, **rss,
            "recovery_s": round(recovery, 3), "api_waiting_after_recovery": api_waiting,
            "notes": f"RSS of the whole `tablero up` process (worker + API + chDB) with {k:,} open contacts: "
                     f"{rss.get('rss_mb')} MB ({_split(rss)}); kill -9, restart -> new worker's partials show {k:,} waiting: "
                     f"{recovery:.2f} s (includes interpreter start and Kafka group join)",
        }
    finally:
        _cleanup(stack)
