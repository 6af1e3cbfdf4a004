"""The worker process's thread policy: how soon a thread waiting for the GIL gets it.

The event loop's thread holds the GIL nearly all the time while it works (applying a batch,
aiokafka parsing the next fetch), and the warehouse thread lands rows in ClickHouse meanwhile.
chDB releases the GIL while it parses and writes, but the landing thread needs it back after
every engine call, file write and numpy operation, and CPython makes a waiting thread wait a
whole switch interval (5 ms by default) before the holder must let go. A landing makes dozens of
hand-offs: next to a busy event loop thread, the pipeline bench's 200,000 events landed in 3.15 s
instead of 1.09 s alone (`python -m bench.landing_gil`), and the batch loop, which waits for a
landing, waited that long. With TABLERO_GIL_SWITCH_S at 1 ms: 1.89 s (0.2 ms: 1.56 s, but the
busy thread loses more to the switching). On the whole pipeline bench, where the loop's thread is
busy during only part of a landing, the gain is inside the host's noise (bench/results.md, round
thirteen); p99 at 10,000 events/s went from 119 to 58-82 ms in the full runs.
"""
from __future__ import annotations

import sys


def shorten_switch_interval(seconds: float) -> float:
    """Set the interpreter's switch interval for every thread of the process; returns the value
    in force (CPython rounds to microseconds)."""
    sys.setswitchinterval(seconds)
    return sys.getswitchinterval()
