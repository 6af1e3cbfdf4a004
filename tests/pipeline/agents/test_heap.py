"""The worker's memory policy calls reach glibc (this machine's C library) and respect the operator."""
from __future__ import annotations

import asyncio
import gc
import weakref

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
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == (heap.YOUNG_THRESHOLD, 50, 100)
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


def test_collect_young_frees_a_cycle_the_high_threshold_would_leave():
    threshold = gc.get_threshold()
    try:
        gc.set_threshold(heap.YOUNG_THRESHOLD, 50, 100)
        gc.collect()

        class Node:
            pass
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counts never free it
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # far below the threshold: no collection ran
        assert heap.collect_young() >= 2 and gone() is None
    finally:
        gc.set_threshold(*threshold)
