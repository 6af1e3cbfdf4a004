"""The worker process's memory policy: what the garbage collector walks and what the C heap keeps.

* `settle_heap`: freeze what lives for good out of the cyclic collector's reach.
* `pin_mmap_threshold`: glibc serves allocations of 128 KiB and more (Kafka fetch buffers, a
  batch's produce buffers, large partials) with their own mappings, returned to the OS when freed.
  By default glibc raises that threshold to the largest block freed so far (up to 32 MiB), after
  which those buffers come from the heap and leave holes between long-lived contacts there.
  Measured with 100,000 open contacts (bench step 6): about 10-20 MB less RSS after the burst and
  50 MB lower peak, no measurable throughput change.
* `release_free_memory`: give the heap's free pages back after a burst (housekeeping calls it).
* `collector_paused`: no cyclic collection while a batch is validated, applied or encoded.
* `collect_young`: the young generation's cycles, collected on housekeeping's timer.

No-ops where the C library is not glibc. An operator's MALLOC_MMAP_THRESHOLD_ wins.
"""
from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter number (malloc.h)


def _libc():
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return libc.malloc_trim, libc.mallopt
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None, None


_malloc_trim, _mallopt = _libc()


def settle_heap(startup: bool = False) -> None:
    """Keep the cyclic garbage collector off what lives for good. Everything alive at startup
    (Faust, FastAPI, chDB: a million objects) and after a state read-back (the partitions'
    contacts) is frozen, so full collections no longer walk it; at startup the young-generation
    threshold goes up too (YOUNG_THRESHOLD), so a batch's short-lived rows and records die by
    reference count before a collection looks at them. Measured on the pipeline bench: about 15% less CPU per
    event (bench/results.md). Only cycles could leak this way, and the state makes none
    (slotted dataclasses, tuples, dicts of them)."""
    gc.collect()
    gc.freeze()
    if startup:
        gc.set_threshold(YOUNG_THRESHOLD, 50, 100)
        pin_mmap_threshold()


# The young generation is collected when the tracked objects created and still alive since the
# last collection pass this count. The worker's survivors are its state and the rows waiting to
# land: at 20,000 a collection ran after nearly every batch and walked them all, freeing
# nothing (gc callbacks on bench step 2, 200,000 events: 73 young collections, 0.50 s of the
# loop's thread, 501 objects freed; at 500,000: 42 collections, 3 ms; the loop's thread 19.6 ->
# 15.1 us an event, 50.7k -> 58.3k events/s in that pair of runs). The cycles library code
# makes (asyncio, the API's requests) wait at most for housekeeping's collect_young.
YOUNG_THRESHOLD = 500_000


def collect_young() -> int:
    """Collect the young generation (housekeeping, every few seconds, between batches): the
    cycles made since the last collection, whatever the threshold. Returns what it freed."""
    return gc.collect(0)


def pin_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold (see the module doc); True when it was set here."""
    if _mallopt is None or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    return bool(_mallopt(_M_MMAP_THRESHOLD, size))


async def release_free_memory() -> None:
    """Give the C heap's free pages back to the OS (glibc keeps them after a batch's rows and
    records are freed, so RSS would stay at the largest batch's high-water mark). In a thread:
    trimming a large heap takes a while, and ctypes releases the GIL meanwhile."""
    if _malloc_trim is not None:
        await asyncio.to_thread(_malloc_trim, 0)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a batch's CPU-bound steps, on again after them. A
    batch keeps its events, rows and new contacts alive to its end, so a collection during it
    walks all of them and frees nothing (the state makes no cycles; reference counts free the
    rest); one that falls due meanwhile runs after the batch, when its transients are gone
    (bench/profile_worker.py, 200,000 events, at the former threshold of 20,000: 2.40 -> 2.14 s).
    Not held across waits for Kafka or ClickHouse, where the API's requests run and may leave
    cycles (validation ahead's short turns of the loop are not such waits)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
