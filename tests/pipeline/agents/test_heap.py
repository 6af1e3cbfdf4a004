"""The worker's memory policy calls reach glibc (this machine's C library) and respect the operator."""
from __future__ import annotations

import asyncio
import gc

import pytest

from pipeline.agents import heap


def test_the_mmap_threshold_is_pinned_unless_the_operator_set_it(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    assert heap.pin_mmap_threshold() is True
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert heap.pin_mmap_threshold() is False


def test_settle_heap_freezes_what_is_alive_and_trimming_runs():
    threshold = gc.get_threshold()
    try:
        heap.settle_heap(startup=True)
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == (20_000, 50, 100)
        asyncio.run(heap.release_free_memory())
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_collector_is_paused_for_a_step_and_back_after_it_even_when_it_fails():
    assert gc.isenabled()
    with heap.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), heap.collector_paused():
        raise RuntimeError("a bug in the batch step")
    assert gc.isenabled()
    gc.disable()  # an operator's (or a test's) choice is kept
    try:
        with heap.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
