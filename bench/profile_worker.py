"""Profile the worker's batch path without Kafka or Faust: WorkerState.process, the live partial
of every partition and the ClickHouse landing (chDB), on the bench's simulated events.

    python -m bench.profile_worker [--n 200000] [--batch 20000] [--profile]   (pyinstrument)
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
    args = p.parse_args(argv)

    from bench.run import simulated_events
    from pipeline.history import clickhouse_store
    from pipeline.history.landing import insert_all
    from pipeline.live.queue_settings import load_queue_settings
    from pipeline.history.warehouse import MIGRATIONS_DIR
    from pipeline.live.worker_state import Record, WorkerState

    events = simulated_events(args.n)
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
    state = WorkerState(load_queue_settings(None, "UTC"))
    timings = {"process": 0.0, "partial": 0.0, "land": 0.0}

    def run() -> None:
        for i in range(0, len(records), args.batch):
            batch = records[i:i + args.batch]
            t = time.perf_counter()
            out = state.process(batch, time.time())
            t1 = time.perf_counter()
            for part in out.partitions:
                orjson.dumps(state.partial(part, time.time()))
            t2 = time.perf_counter()
            if client is not None:
                insert_all(client, out.rows, set())
            t3 = time.perf_counter()
            timings["process"] += t1 - t
            timings["partial"] += t2 - t1
            timings["land"] += t3 - t2

    t0 = time.perf_counter()
    if args.profile:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
        prof.start()
        run()
        prof.stop()
        print(prof.output_text(unicode=False, color=False, show_all=False))
    else:
        run()
    total = time.perf_counter() - t0
    print({k: round(v, 3) for k, v in timings.items()}, f"total {total:.2f}s", f"{len(records) / total:,.0f} events/s")
    return 0


if __name__ == "__main__":
    asyncio.run(asyncio.sleep(0))
    raise SystemExit(main())
