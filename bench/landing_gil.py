"""How long a ClickHouse landing takes next to a busy event loop thread, per GIL switch interval.

The worker encodes a landing's rows on its event loop's thread, then inserts them on the warehouse
thread while the loop's thread runs Python (the next fetch, the next batch). This replays the
pipeline bench's batches without Kafka: the rows of --n simulated events are encoded (timed alone)
and landed in chDB (20,000 events a landing) alone, then landed again while the main thread
applies the same events to a fresh WorkerState (pure Python, GIL held), once per switch interval.
The landing's wall time next to the busy thread is what the batch loop would wait for.

    python -m bench.landing_gil [--n 200000] [--switch 0.005 0.001 0.0002]

Wall times on a shared machine move with its load: compare the lines of one run.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import threading
import time
import zlib

import orjson


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200_000, help="simulated events (default 200,000)")
    p.add_argument("--batch", type=int, default=20_000, help="events per landing (TABLERO_BATCH_MAX)")
    p.add_argument("--switch", type=float, nargs="+", default=[0.005, 0.001],
                   help="GIL switch intervals to try, seconds (Python's default: 0.005)")
    args = p.parse_args(argv)

    from bench.run import simulated_events
    from pipeline.history import clickhouse_store
    from pipeline.history.landing import encode, insert_all
    from pipeline.history.warehouse import MIGRATIONS_DIR
    from pipeline.live.queue_settings import load_queue_settings
    from pipeline.live.worker_state import Record, WorkerState

    offsets: dict[int, int] = {}
    records = []
    for e in simulated_events(args.n):
        key = e["subject"].encode()
        part = zlib.crc32(key) % 4
        records.append(Record(key, orjson.dumps(e), part, offsets.get(part, 0)))
        offsets[part] = offsets.get(part, 0) + 1
    batches = [records[i:i + args.batch] for i in range(0, len(records), args.batch)]
    state = WorkerState(load_queue_settings(None, "UTC"))
    landings = [state.process(b, time.time()).rows for b in batches]
    # one chDB engine per process: every landing goes to the same tables, new dedup tokens each
    client = clickhouse_store.connect(f"chdb://{tempfile.mkdtemp(prefix='tablero-gil-')}/clickhouse")
    clickhouse_store.migrate(client, MIGRATIONS_DIR)
    runs = itertools.count()  # each pass lands under new dedup tokens

    types: dict[str, dict[str, str]] = {}  # learned by the first pass, as the worker does
    encoded = []

    def encode_all() -> float:
        t = time.perf_counter()
        encoded[:] = [encode(rows, types) for rows in landings]
        return time.perf_counter() - t

    def land_all() -> float:
        """The warehouse thread's part: documents encoded by the loop's thread (encode_all)."""
        run = next(runs)
        t = time.perf_counter()
        for i, inserts in enumerate(encoded):
            insert_all(client, inserts, f"gil-{run}-{i}", set(), types)
        return time.perf_counter() - t

    def apply_all() -> float:
        busy = WorkerState(load_queue_settings(None, "UTC"))
        t = time.perf_counter()
        for b in batches:
            busy.process(b, time.time())
        return time.perf_counter() - t

    before = sys.getswitchinterval()
    try:
        print(f"{len(records):,} events, {len(landings)} landings of up to {args.batch:,} events")
        encode_all()
        land_all()  # learns the column types: later passes encode every table
        print(f"alone: encoding {encode_all():.2f} s on the loop's thread, then landing {land_all():.2f} s, "
              f"batch step {apply_all():.2f} s (wall)")
        for interval in args.switch:
            sys.setswitchinterval(interval)
            out: list[float] = []
            t = threading.Thread(target=lambda: out.append(land_all()))
            t.start()
            step = apply_all()
            t.join()
            print(f"switch interval {interval * 1000:g} ms: landing {out[0]:.2f} s next to the batch "
                  f"step ({step:.2f} s)")
    finally:
        sys.setswitchinterval(before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
