"""Throughput of `tablero connect asterisk` on a large generated queue_log (issue 12).

    python -m bench.connect_asterisk [--calls 100000] [--kafka host:port]

Generates a queue_log in app_queue.c's formats (tests/queue_log_sample.py, seeded), then measures:
1. the pure mapper alone (lines -> event dicts), 2. mapper + validation, 3. the whole connector
(read, map, validate, produce with acks=all, checkpoint per batch) into a real broker (a local
KRaft node this script starts, unless --kafka is given). Prints lines/s for each.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from pipeline.connectors.asterisk import LineError, QueueLogMapper
from pipeline.connectors.asterisk_file import QueueLogConnector, checkpoint_path
from pipeline.kafka.batch_producer import BatchProducer
from pipeline.kafka.publisher import make_producer
from pipeline.schemas.validation import validate
from tests.queue_log_sample import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--kafka", default="")
    args = ap.parse_args()
    lines = generate(args.calls, seed=1, gap_s=2.0, malformed_every=1000)
    work = Path(tempfile.mkdtemp(prefix="bench-asterisk-"))
    path = work / "queue_log"
    path.write_text("".join(line + "\n" for line in lines))
    size_mb = path.stat().st_size / 1e6
    print(f"{len(lines):,} lines, {size_mb:.1f} MB, {args.calls:,} calls")

    m = QueueLogMapper()
    t0 = time.perf_counter()
    events = []
    for line in lines:
        try:
            events.extend(m.map_line(line))
        except LineError:
            pass
    t_map = time.perf_counter() - t0
    print(f"mapper only:           {len(lines) / t_map:>10,.0f} lines/s ({len(events):,} events)")
    t0 = time.perf_counter()
    for e in events:
        validate(orjson.dumps(e), max_bytes=65536)
    t_val = time.perf_counter() - t0
    print(f"mapper + validation:   {len(lines) / (t_map + t_val):>10,.0f} lines/s")

    broker = None
    bootstrap = args.kafka
    if not bootstrap:
        from pipeline.kafka.local_broker import LocalKafka
        from tests.conftest import _free_pair

        broker = LocalKafka(work / "kafka", _free_pair())
        broker.start()
        bootstrap = broker.bootstrap
    try:
        for label, make in (("batch producer (aiokafka send_batch)", lambda: BatchProducer(bootstrap).start()),
                            ("kafka-python per-record send", lambda: make_producer(bootstrap))):
            ns = "bench" + uuid.uuid4().hex[:6]
            producer = make()
            # warm the topics (auto-created) so metadata waits are not measured
            producer.send(f"{ns}.events", value=b"warm")
            producer.send(f"{ns}.dlq", value=b"warm")
            producer.flush()
            c = QueueLogConnector(path, producer, events_topic=f"{ns}.events", dlq_topic=f"{ns}.dlq",
                                  checkpoint=checkpoint_path(work / ns, path, "asterisk"))
            rep = c.run()
            producer.close()
            print(f"connector end to end, {label}: {rep.lines_per_s:,.0f} lines/s ({rep.lines:,} lines, "
                  f"{rep.events:,} events, {rep.dead_letters} dead letters, {rep.seconds:.1f} s, acks=all)")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
