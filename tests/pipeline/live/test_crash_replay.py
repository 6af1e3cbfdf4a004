"""A crash at any point of the worker's landing protocol (pipeline/agents/process.py) loses no row
and adds no dead letter: a landing inserts its batches' rows, then writes their state records,
then commits their offsets. The worker is killed after some batches were processed; the
landings before it had stored rows and state records, and the last of them may not have
committed its offsets. A new worker reads the state records back and replays from the committed
offsets. Everything it and the landings before the crash stored must equal an uninterrupted run.

Events arrive slightly out of order (shuffled within small windows of a partition), so events
park and are released by later batches; agents change state many times between two commits (a
redelivered agent event older than the agent's state must not become a stale dead letter)."""
from __future__ import annotations

import datetime as dt
import random
import zlib

import orjson
import pytest

from pipeline.live.live_view import merge
from pipeline.live.queue_settings import load_queue_settings
from pipeline.live.worker_state import Record, WorkerState
from pipeline.simulator.config import SimConfig
from pipeline.simulator.model import simulate

PARTITIONS = 3
START = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.timezone.utc)
NOW = START.timestamp() + 3 * 3600


def partitioned_records(seed: int) -> dict[int, list[Record]]:
    """Two hours of a small centre, partitioned by subject, shuffled within windows of 4."""
    config = SimConfig(seed=seed, start=START, duration_s=2 * 3600, tz="UTC").scaled(10)
    rng = random.Random(seed)
    by_part: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
    for e in simulate(config):
        key = e["subject"].encode()
        by_part[zlib.crc32(key) % PARTITIONS].append(orjson.dumps(e))
    out = {}
    for p, values in by_part.items():
        for i in range(0, len(values), 4):
            window = values[i:i + 4]
            rng.shuffle(window)
            values[i:i + 4] = window
        out[p] = [Record(orjson.loads(v)["subject"].encode(), v, p, o) for o, v in enumerate(values)]
    return out


def batches(parts: dict[int, list[Record]], start: dict[int, int], rng: random.Random):
    """Batches as getmany gives them: a run of records per partition, random sizes. Yields
    (batch, next offset per partition after it)."""
    pos = dict(start)
    while any(pos[p] < len(parts[p]) for p in parts):
        batch = []
        for p in parts:
            n = rng.randint(0, 80)
            batch += parts[p][pos[p]:pos[p] + n]
            pos[p] = min(len(parts[p]), pos[p] + n)
        yield batch, dict(pos)


def new_worker() -> WorkerState:
    return WorkerState(load_queue_settings(None, "UTC"), parking_timeout_s=3600, clock=lambda: NOW)


class Stored:
    """What ClickHouse and the dead-letter topic hold: row keys by table, dead letters by position."""

    def __init__(self):
        self.events: set[str] = set()
        self.agent_states: set[tuple] = set()
        self.dead_letters: list[tuple[int, int]] = []

    def add(self, out) -> None:
        self.events.update(r[0] for r in out.rows.events)
        self.agent_states.update((r[0], r[3]) for r in out.rows.agent_states)  # (agent, start)
        self.dead_letters += [(d.partition, d.offset) for d in out.dead_letters]


def live_view(ws: WorkerState) -> dict:
    return merge([ws.partial(p, NOW) for p in sorted(ws.partitions)], NOW, ws.queue_settings)


def crash_and_replay(parts, seed: int, landed: int, committed: int, crash_after: int):
    """Batches 0..crash_after processed; rows and state records of batches < `landed` stored,
    offsets of batches < `committed` committed (committed <= landed); then a new worker."""
    rng = random.Random(seed)
    stored, state_topic = Stored(), {}
    ws = new_worker()
    offsets = {p: 0 for p in parts}
    for i, (batch, after) in enumerate(batches(parts, offsets, rng)):
        out = ws.process(batch, NOW)
        if i < landed:  # a landing writes its batches' rows, then dead letters, then state records
            stored.dead_letters += [(d.partition, d.offset) for d in out.dead_letters]
            stored.events.update(r[0] for r in out.rows.events)
            stored.agent_states.update((r[0], r[3]) for r in out.rows.agent_states)
            state_topic.update({(p, k): v for p, k, v in out.changelog})
        if i < committed:
            offsets = after
        if i == crash_after:
            break
    ws = new_worker()  # kill -9; the partitions' state is read back
    for (p, key), value in state_topic.items():
        if value is not None:
            ws.load(p, key, value)
    for batch, _ in batches(parts, offsets, random.Random(seed + 1)):
        stored.add(ws.process(batch, NOW))
    return stored, ws


@pytest.mark.parametrize("seed", [1, 2])
def test_a_crash_anywhere_in_the_landing_protocol_loses_no_row_and_adds_no_dead_letter(seed):
    parts = partitioned_records(seed)
    whole, ws_whole = crash_and_replay(parts, seed, landed=10**9, committed=10**9, crash_after=10**9)
    assert len(whole.events) > 4000 and whole.agent_states and whole.dead_letters
    assert len(set(whole.dead_letters)) == len(whole.dead_letters)
    assert whole.events == {orjson.loads(r.value)["id"] for rs in parts.values() for r in rs} - {
        orjson.loads(parts[p][o].value)["id"] for p, o in whole.dead_letters}
    expected_view = live_view(ws_whole)
    cases = [(landed, committed, crash) for crash in (6, 17, 30) for landed in (crash - 3, crash + 1)
             for committed in (landed - 1, landed)]
    cases.append((40, 8, 45))  # a catch-up landing of 32 batches: agents change state dozens of times
    for landed, committed, crash in cases:
        stored, ws = crash_and_replay(parts, seed, landed, committed, crash)
        where = f"crash after batch {crash}, {landed} landed, {committed} committed"
        assert stored.events == whole.events, where
        assert stored.agent_states == whole.agent_states, where
        # a landing's dead letters are written again by the replay when its commit was lost;
        # readers keep the first of each position (pipeline.schemas.dead_letters.first_of_each)
        assert sorted(set(stored.dead_letters)) == sorted(whole.dead_letters), where
        assert live_view(ws) == expected_view, where


def test_state_records_written_before_the_rows_landed_would_lose_rows():
    """The check above can fail: with state records written at batch time (before the rows
    landed, as the worker did before), a crash between the two loses released parked events'
    rows and agent events' rows (their replay is a duplicate, or stale)."""
    parts = partitioned_records(1)
    whole, _ = crash_and_replay(parts, 1, landed=10**9, committed=10**9, crash_after=10**9)
    lost = set()
    for crash in (6, 17, 30):
        rng = random.Random(1)
        stored, state_topic = Stored(), {}
        ws = new_worker()
        offsets = {p: 0 for p in parts}
        for i, (batch, after) in enumerate(batches(parts, offsets, rng)):
            out = ws.process(batch, NOW)
            state_topic.update({(p, k): v for p, k, v in out.changelog})  # at once
            if i < crash - 3:
                stored.events.update(r[0] for r in out.rows.events)
                offsets = after
            if i == crash:
                break
        ws = new_worker()
        for (p, key), value in state_topic.items():
            if value is not None:
                ws.load(p, key, value)
        for batch, _ in batches(parts, offsets, random.Random(2)):
            stored.add(ws.process(batch, NOW))
        lost |= whole.events - stored.events
    assert lost
