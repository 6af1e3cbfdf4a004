"""Soak: `tablero up` under a fixed load for a long time, sampled every minute (`make bench-soak`).

    python -m bench.soak [--minutes 30] [--rate 2000] [--partitions 4] [--retention-min 5]

Kafka: TABLERO_KAFKA if set, otherwise a broker of its own (as bench/run.py). A producer sends
simulated events (a lazily generated simulation, every id new) at a fixed rate, plus a probe
contact.created every 50 ms that a websocket client waits for (as bench part 4). Every minute
it samples: RSS of the `tablero up` process, consumer lag of the worker group, p50/p99 of the
probes' publish -> websocket latency in that minute, error lines in the process's log
(ERROR, CRITICAL, Traceback), and from its /metrics the memory chDB tracks, the interpreter's
allocated blocks and the contacts in memory (to tell which part grows), and the CPU each part
used in that minute: the worker (and its busiest threads: "worker:main" is its Python thread),
the broker, the load generator, the machine's busy and stolen time (to tell a slower machine
from slower code). --py-spy-at records the worker's stacks at chosen minutes. Lag counts events not committed yet, so it includes up to
TABLERO_LAND_INTERVAL_S (1 s) of events processed but not landed: about `rate` at any moment. At the end it reports the slopes (least squares over the
steady phase: the minutes after the dedup retention has filled memory) of RSS (MB/min), lag
(events/min) and contacts in memory. Today's contacts (the probes) stay until midnight by
definition, so RSS must grow by their count times the heap per contact; the rest of the RSS
slope is reported as unexplained: flat means about 0. Results go to
bench/soak.json and bench/soak.md (--out-dir).

Memory reaches a steady state only once ended contacts leave it: the worker keeps them for the
dedup retention (TABLERO_DEDUP_RETENTION_DAYS, 7 days by default: memory grows for a week by
design). The soak sets it to --retention-min minutes so a 30-minute run shows the plateau.
Not part of `make test`.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import shutil
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ERROR_LINE = re.compile(rb"\b(ERROR|CRITICAL)\b|Traceback")


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of ys over xs (None with fewer than 2 points)."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))], 1)


def error_lines(stack) -> list[str]:
    """The lines of the process's log that report an error (ERROR, CRITICAL, a traceback)."""
    out = []
    for p in sorted(stack.data_dir.glob("stack-*.log")):
        out += [line.decode(errors="replace")[:300] for line in p.read_bytes().splitlines() if ERROR_LINE.search(line)]
    return out


async def _py_spy(pid: int, out: Path, seconds: int, log) -> None:
    """A py-spy profile of the worker (all threads, native frames off, not pausing it) as a
    speedscope file, in the background of the soak."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    proc = await asyncio.create_subprocess_exec(
        exe, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100", "--nonblocking",
        "--format", "speedscope", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    log(f"  py-spy: {out}" if proc.returncode == 0 else f"  py-spy failed: {err.decode(errors='replace')[-300:]}")


async def _soak(stack, minutes: float, rate: int, log, broker_pid: int | None = None,
                spy_minutes: tuple[float, ...] = (), out_dir: Path = HERE) -> list[dict]:
    import websockets
    from aiokafka import AIOKafkaProducer

    from bench.pipeline_bench import PROBE_QUEUE, _iso
    from bench.rate_sender import TickSender
    from bench.run import SIM_START
    from bench.stack import cpu_sample, rss_mb
    from pipeline.simulator import SimConfig, simulate

    def endless():
        # consecutive 400-day simulations (the simulator's longest), each with its own seed: new ids
        for k in itertools.count():
            yield from simulate(SimConfig(seed=7 + k, start=SIM_START + timedelta(days=400 * k),
                                          duration_s=400 * 86400, tz="UTC"))

    background = endless()
    sent: list[float] = []
    latencies: list[tuple[float, float]] = []  # (receive time, latency ms)
    seen = 0
    run_id = uuid.uuid4().hex[:8]

    async def reader(ws):
        nonlocal seen
        async for raw in ws:
            now = time.time()
            view = orjson.loads(raw).get("view")
            if not view:
                continue
            offered = sum(q["today"]["offered"] for q in view["queues"] if q["queue"] == PROBE_QUEUE)
            while seen < min(offered, len(sent)):
                latencies.append((now, (now - sent[seen]) * 1000))
                seen += 1

    samples: list[dict] = []
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=1)
    await producer.start()
    sender = await TickSender.for_topic(producer, stack.events_topic)
    async with websockets.connect(stack.ws_url + f"&queue={PROBE_QUEUE}", max_size=None) as ws:
        task = asyncio.create_task(reader(ws))
        tick, probe_every = 0.01, 5
        per_tick = max(1, round(rate * tick))
        t0 = time.perf_counter()
        wall0 = time.time()
        ticks = total = 0
        next_sample = 60.0
        processes = {"worker": stack.proc.pid, "broker": broker_pid, "load": os.getpid()}

        def cpu():
            return cpu_sample(processes, split={"worker": stack.proc.pid})

        last_cpu = cpu()
        spies = [asyncio.get_running_loop().call_later(
            m * 60, lambda m=m: asyncio.ensure_future(_py_spy(stack.proc.pid, out_dir / f"soak-py-spy-minute{m:g}.json", 20, log)))
            for m in spy_minutes]

        async def sample() -> None:
            nonlocal next_sample, last_cpu
            stack.check_alive()
            now_cpu = cpu()
            cpu_pct, last_cpu = now_cpu.percent_since(last_cpu), now_cpu
            lo = wall0 + next_sample - 60
            window = [ms for t, ms in latencies if t >= lo]
            errors = error_lines(stack)
            s = {"minute": round(next_sample / 60), "events_sent": total,
                 "rss_mb": rss_mb(stack.proc.pid).get("rss_mb"), "lag": await asyncio.to_thread(stack.lag),
                 "probes": len(window), "p50_ms": pct(window, 50), "p99_ms": pct(window, 99),
                 "error_lines": len(errors), "first_errors": errors[:3],
                 **await asyncio.to_thread(memory_gauges, stack.url), **cpu_pct}
            samples.append(s)
            log(f"  minute {s['minute']}: RSS {s['rss_mb']} MB (chDB {s['chdb_mb']} MB, Python blocks "
                f"{s['python_mblocks']} M, {s['contacts']} contacts), lag {s['lag']}, p99 {s['p99_ms']} ms over "
                f"{s['probes']} probes, {s['error_lines']} error lines {errors[:3] or ''}; CPU % worker "
                f"{s.get('cpu_worker_pct')} {s.get('busiest_threads')}, broker {s.get('cpu_broker_pct')}, load "
                f"{s.get('cpu_load_pct')}, machine {s.get('machine_busy_pct')} (steal {s.get('machine_steal_pct')})")
            next_sample += 60.0
        try:
            while time.perf_counter() - t0 < minutes * 60:
                for i in range(per_tick):
                    if i == 0 and ticks % probe_every == 0:
                        created, gone = probe_events(f"probe-{run_id}-{len(sent)}", time.time())
                        sent.append(time.time())
                        for e in (created, gone):
                            await sender.add(e["subject"].encode(), orjson.dumps(e))
                    else:
                        e = next(background)
                        await sender.add(e["subject"].encode(), orjson.dumps(e))
                await sender.send()
                total += per_tick
                ticks += 1
                if time.perf_counter() - t0 >= next_sample:
                    await sample()
                due = t0 + ticks * tick
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await sender.drain()
            if len(samples) < round(minutes):  # the last minute ends with the loop
                await sample()
        finally:
            for h in spies:
                h.cancel()
            task.cancel()
            await producer.stop()
    return samples


def memory_gauges(url: str) -> dict:
    """Where the process's memory goes, from its /metrics: chDB's tracked memory (MB), the
    interpreter's allocated blocks (millions) and the worker's contacts (housekeeping samples the
    first and the last every 5 s). None for what the page does not show."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    got: dict[str, float] = {}
    try:
        text = httpx.get(url + "/metrics", timeout=10).text
        got = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    except (httpx.HTTPError, ValueError):
        pass
    chdb = got.get("tablero_clickhouse_memory_tracked_bytes")
    blocks = got.get("tablero_python_allocated_blocks")
    contacts = got.get("tablero_worker_contacts")
    return {"chdb_mb": None if chdb is None else round(chdb / 2**20, 1),
            "python_mblocks": None if blocks is None else round(blocks / 1e6, 3),
            "contacts": None if contacts is None else int(contacts)}


def probe_events(contact: str, now: float) -> tuple[dict, dict]:
    """A probe: created now, and abandoned a millisecond later. It counts once it is offered;
    it then leaves, as callers do, so it does not stay in the wallboard's waits; as one of today's
    contacts it stays in memory until midnight all the same (see summarize)."""
    from bench.pipeline_bench import PROBE_QUEUE, _iso

    created = {"specversion": "1.0", "id": contact, "source": "bench", "type": "contact.created",
               "time": _iso(now), "subject": contact, "data": {"channel": "chat", "queue": PROBE_QUEUE}}
    gone = {**created, "id": contact + "-gone", "type": "contact.abandoned", "data": {}, "time": _iso(now + 0.001)}
    return created, gone


def heap_per_probe_kb(k: int = 40_000) -> float:
    """Anonymous RSS per probe contact, KB, measured in this process: `k` probes of the last hour
    through the worker's batch step (no Kafka), after a collection. What the worker's heap must
    grow by per probe kept until midnight; measured, not assumed, so it follows the code."""
    import gc
    import zlib

    from pipeline.live.queue_settings import load_queue_settings
    from pipeline.live.worker_state import Record, WorkerState

    now = time.time()
    offsets = [0] * 4
    records = []
    for i in range(k):
        for e in probe_events(f"heap-probe-{i}", now - 3600 + i * 3600 / k):
            key = e["subject"].encode()
            part = zlib.crc32(key) % 4
            records.append(Record(key, orjson.dumps(e), part, offsets[part]))
            offsets[part] += 1

    def anon() -> int:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("RssAnon:"))

    state = WorkerState(load_queue_settings(None, "UTC"))
    gc.collect()
    before = anon()
    for i in range(0, len(records), 2000):
        state.process(records[i:i + 2000], now)
    gc.collect()
    return round((anon() - before) / k, 2)


def summarize(samples: list[dict], minutes: float, rate: int, retention_min: float = 0.0,
              heap_per_contact_kb: float | None = None) -> dict:
    """Slopes over the steady phase: from the minute after the dedup retention has filled memory
    with ended contacts (minute 1 at least is warm-up), when 3 samples are left; else from minute 2."""
    steady = [s for s in samples if s["minute"] > max(1.0, retention_min + 1)]
    if len(steady) < 3:
        steady = samples[1:] if len(samples) > 2 else samples
    xs = [s["minute"] for s in steady]
    rss_slope = slope(xs, [s["rss_mb"] or 0.0 for s in steady])
    lag_slope = slope(xs, [float(s["lag"]) for s in steady])
    # contacts kept by definition: today's (the probes, time = now) stay until midnight, as the
    # "today" counters need them (live_view.is_evictable); the background's old ones leave after
    # the retention. Their growth times the heap per probe (heap_per_probe_kb) is the RSS slope
    # the soak must show; what is above it is unexplained growth.
    with_contacts = [s for s in steady if s.get("contacts") is not None]
    contacts_slope = slope([s["minute"] for s in with_contacts], [float(s["contacts"]) for s in with_contacts])
    expected = (None if contacts_slope is None or heap_per_contact_kb is None
                else contacts_slope * heap_per_contact_kb / 1024)
    p99s = [s["p99_ms"] for s in samples if s["p99_ms"] is not None]
    return {"minutes": minutes, "rate": rate, "samples": samples,
            "slope_minutes": f"{xs[0]}-{xs[-1]}" if xs else "",
            "rss_slope_mb_per_min": None if rss_slope is None else round(rss_slope, 3),
            "lag_slope_events_per_min": None if lag_slope is None else round(lag_slope, 1),
            "contacts_slope_per_min": None if contacts_slope is None else round(contacts_slope, 1),
            "heap_per_contact_kb": heap_per_contact_kb,
            "rss_slope_from_contacts_mb_per_min": None if expected is None else round(expected, 3),
            "rss_slope_unexplained_mb_per_min": (None if expected is None or rss_slope is None
                                                 else round(rss_slope - expected, 3)),
            "worst_minute_p99_ms": max(p99s) if p99s else None,
            "error_lines": samples[-1]["error_lines"] if samples else None,
            "first_errors": samples[-1]["first_errors"] if samples else []}


def to_markdown(r: dict) -> str:
    lines = ["# Tablero soak", "",
             f"Generated {r['generated_at']} on {r['machine']}: {r['minutes']} minutes at {r['rate']:,} events/s "
             f"(`python -m bench.soak`), dedup retention {r['retention_min']} min.", "",
             f"RSS slope {r['rss_slope_mb_per_min']} MB/min, lag slope {r['lag_slope_events_per_min']} events/min "
             f"(least squares over minutes {r['slope_minutes']}; "
             f"the steady phase: after the dedup retention has filled memory). Contacts in memory grow "
             f"{r.get('contacts_slope_per_min')}/min (today's probes stay until midnight: the day's counters need "
             f"them), {r.get('rss_slope_from_contacts_mb_per_min')} MB/min at {r.get('heap_per_contact_kb')} KB each "
             f"(measured in process: bench.soak.heap_per_probe_kb); "
             f"unexplained RSS slope {r.get('rss_slope_unexplained_mb_per_min')} MB/min. Worst minute p99 {r['worst_minute_p99_ms']} ms, "
             f"{r['error_lines']} error lines" + (": " + " / ".join(f"`{e}`" for e in r["first_errors"])
                                                  if r["first_errors"] else "") + ".", "",
             "| minute | events sent | RSS MB | chDB tracked MB | Python blocks (M) | contacts | lag | probes "
             "| p50 ms | p99 ms | error lines | worker CPU % (its Python thread) | broker CPU % | load CPU % "
             "| machine busy % (steal) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in r["samples"]:
        lines.append(f"| {s['minute']} | {s['events_sent']:,} | {s['rss_mb']} | {s.get('chdb_mb')} | "
                     f"{s.get('python_mblocks')} | {s.get('contacts')} | {s['lag']:,} | {s['probes']} | "
                     f"{s['p50_ms']} | {s['p99_ms']} | {s['error_lines']} | {s.get('cpu_worker_pct')} "
                     f"({(s.get('busiest_threads') or {}).get('worker:main')}) | {s.get('cpu_broker_pct')} | "
                     f"{s.get('cpu_load_pct')} | {s.get('machine_busy_pct')} ({s.get('machine_steal_pct')}) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0, help="How long to run (default 30).")
    p.add_argument("--rate", type=int, default=2000, help="Events per second (default 2,000).")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--retention-min", type=float, default=5.0,
                   help="Dedup retention of ended contacts, minutes (TABLERO_DEDUP_RETENTION_DAYS).")
    p.add_argument("--out-dir", type=Path, default=HERE, help="Where soak.json/soak.md go.")
    p.add_argument("--py-spy-at", type=float, action="append", default=[], metavar="MINUTE",
                   help="Record the worker with py-spy for 20 s from this minute (repeatable; "
                        "speedscope files soak-py-spy-minuteN.json in --out-dir), e.g. --py-spy-at 10 --py-spy-at 25.")
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.rate < 1:
        p.error("--minutes must be > 0 and --rate >= 1")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    from bench.pipeline_bench import _cleanup, _new_stack, delete_stack_topics
    from bench.stack import kafka_for_bench
    from pipeline.kafka.local_broker import KafkaSetupError

    try:
        with kafka_for_bench("tablero-soak", log) as (bootstrap, broker):
            stack = _new_stack(bootstrap, args.partitions,
                               TABLERO_DEDUP_RETENTION_DAYS=str(args.retention_min / 1440))
            try:
                log(f"soak: {args.minutes} min at {args.rate:,} events/s on {bootstrap} ...")
                stack.start()
                time.sleep(3)
                args.out_dir.mkdir(parents=True, exist_ok=True)
                samples = asyncio.run(_soak(stack, args.minutes, args.rate, log, broker.pid() if broker else None,
                                            tuple(args.py_spy_at), args.out_dir))
            finally:
                _cleanup(stack)
                delete_stack_topics(bootstrap, log)
    except KafkaSetupError as exc:
        log(f"error: {exc}")
        return 1
    import platform

    r = summarize(samples, args.minutes, args.rate, args.retention_min, heap_per_probe_kb())
    r.update(generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
             machine=f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}",
             retention_min=args.retention_min)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "soak.json").write_text(json.dumps(r, indent=2) + "\n")
    (args.out_dir / "soak.md").write_text(to_markdown(r))
    log(to_markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
