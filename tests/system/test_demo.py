"""Issue 2: `tablero demo` reaches, within two minutes, Kafka and ClickHouse up and rows growing."""
from __future__ import annotations

import time

from tests.system.stack import Stack, wait_for


def test_demo_lands_a_growing_number_of_rows(kafka_bootstrap, tmp_path):
    stack = Stack(kafka_bootstrap, tmp_path)
    t0 = time.monotonic()
    stack.start(command="demo")
    try:
        def landed() -> int:
            s = stack.status()
            assert s["kafka"]["up"] and s["clickhouse"]["up"], s
            return s["clickhouse"]["rows"].get("events", 0)

        first = wait_for(lambda: landed() or None, timeout=120 - (time.monotonic() - t0), what="first rows")
        wait_for(lambda: landed() > first, timeout=60, what="rows growing")
        print(f"\ndemo: rows landing {time.monotonic() - t0:.0f}s after start")
    finally:
        stack.stop()
