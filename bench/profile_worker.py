"""Profile the worker's batch path without Kafka or Faust: WorkerState.process, the live partial
of every partition and the ClickHouse landing (chDB), on the bench's simulated events.

    python -m bench.profile_worker [--n 200000] [--batch 20000] [--profile]   (pyinstrument)
    python -m bench.profile_worker --batch 2000 --live-times --compare-partial

Timings are CPU seconds of this process (time.process_time), so other load on a shared machine
does not inflate them. --live-times moves the simulation so its last event is now (the "today"
and "last_30m" windows fill as on a live centre); --compare-partial also times the full-scan
partial (live_view.partial over every contact, what each publication cost before the live
index) on the same partitions after the same batches.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import zlib

import orjson


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=20_000)
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--no-land", action="store_true")
    p.add_argument("--live-times", action="store_true")
    p.add_argument("--compare-partial", action="store_true")
    args = p.parse_args(argv)

    from bench.run import simulated_events
    from pipeline.history import clickhouse_store
    from pipeline.history.landing import insert_rows
    from pipeline.live.queue_settings import load_queue_settings
    from pipeline.history.warehouse import MIGRATIONS_DIR
    from pipeline.live.worker_state import Record, WorkerState

    events = simulated_events(args.n)
    if args.live_times:
        from datetime import datetime, timezone

        def epoch(e: dict) -> float:
            return datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
        shift = time.time() - max(epoch(e) for e in events)
        for e in events:
            t = datetime.fromtimestamp(epoch(e) + shift, timezone.utc)
            e["time"] = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            if e["type"] == "contact.snoozed":
                u = datetime.fromisoformat(e["data"]["until"].replace("Z", "+00:00")).timestamp() + shift
                e["data"]["until"] = datetime.fromtimestamp(u, timezone.utc).isoformat().replace("+00:00", "Z")
    offsets = [0] * args.partitions
    records = []
    for e in events:
        key = e["subject"].encode()
        part = zlib.crc32(key) % args.partitions
        records.append(Record(key, orjson.dumps(e), part, offsets[part]))
        offsets[part] += 1
    client = None
    if not args.no_land:
        client = clickhouse_store.connect(f"chdb://{tempfile.mkdtemp(prefix='tablero-prof-')}/clickhouse")
        clickhouse_store.migrate(client, MIGRATIONS_DIR)
    from pipeline.agents.heap import settle_heap

    settle_heap(startup=True)  # the worker's memory policy (gc thresholds, glibc's mmap threshold)
    state = WorkerState(load_queue_settings(None, "UTC"))
    timings = {"process": 0.0, "partial": 0.0, "land": 0.0}
    if args.compare_partial:
        timings["partial_full_scan"] = 0.0
    from pipeline.live.live_view import partial as full_scan
    clock = time.process_time

    def run() -> None:
        for i in range(0, len(records), args.batch):
            batch = records[i:i + args.batch]
            t = clock()
            out = state.process(batch, time.time())
            t1 = clock()
            for part in out.partitions:
                orjson.dumps(state.partial(part, time.time()))
            t2 = clock()
            if client is not None:
                insert_rows(client, out.rows)
            t3 = clock()
            timings["process"] += t1 - t
            timings["partial"] += t2 - t1
            timings["land"] += t3 - t2
            if args.compare_partial:
                for part in out.partitions:
                    ps = state.partitions[part]
                    orjson.dumps(full_scan(ps.states(), ps.agents.values(), time.time(), state.queue_settings))
                timings["partial_full_scan"] += clock() - t3

    t0 = clock()
    if args.profile:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
        prof.start()
        run()
        prof.stop()
        print(prof.output_text(unicode=False, color=False, show_all=False))
    else:
        run()
    total = clock() - t0 - timings.get("partial_full_scan", 0.0)
    n = len(records)
    contacts = sum(len(ps.contacts) for ps in state.partitions.values())
    print({k: round(v, 3) for k, v in timings.items()}, f"CPU {total:.2f}s", f"{n / total:,.0f} events/s;",
          f"per event: " + ", ".join(f"{k} {v / n * 1e6:.1f} us" for k, v in timings.items()),
          f"; {contacts:,} contacts in memory")
    return 0


if __name__ == "__main__":
    asyncio.run(asyncio.sleep(0))
    raise SystemExit(main())
