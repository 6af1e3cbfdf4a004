"""The worker process's thread policy: how soon a thread waiting for the GIL gets it.

The event loop's thread holds the GIL nearly all the time while it works (applying a batch,
aiokafka parsing the next fetch), and the warehouse thread lands rows in ClickHouse meanwhile.
chDB releases the GIL while it parses and writes, but the landing thread needs it back after
every engine call, file write and numpy operation, and CPython makes a waiting thread wait a
whole switch interval (5 ms by default) before the holder must let go. A landing makes dozens of
hand-offs, so on the pipeline bench it took two to three times as long as alone, and the batch
loop, which waits for it, waited as long. With TABLERO_GIL_SWITCH_S (1 ms) each hand-off costs a
fifth of that; the loop's thread answers a switch request more often, which costs nothing
measurable there. Figures in bench/results.md (round thirteen).
"""
from __future__ import annotations

import sys


def shorten_switch_interval(seconds: float) -> float:
    """Set the interpreter's switch interval for every thread of the process; returns the value
    in force (CPython rounds to microseconds)."""
    sys.setswitchinterval(seconds)
    return sys.getswitchinterval()
