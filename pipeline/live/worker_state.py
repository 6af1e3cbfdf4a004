"""Everything one worker knows about its partitions, and the batch step, without I/O.

`WorkerState.process(records, now)` turns Kafka records into: dead letters, changelog entries
(what to persist so a restart resumes exactly), ClickHouse rows, and the partitions whose live
view changed. Faust, ClickHouse and Kafka stay in pipeline/agents/runtime.py.

Exactly-once effect under at-least-once delivery: the runtime writes a batch's changelog entries
only after its rows landed (pipeline/agents/process.py), so a state read back after a crash never
holds an event whose rows are missing. Events it holds but whose offsets were not committed come
again: a redelivered contact event is a `duplicate` for the state machine and its rows are emitted
again (ClickHouse replaces them: events by id, contacts by version); a redelivered agent event
older than the agent's state, at an offset the state has already passed, is a duplicate with
nothing to emit (its row landed, or its dead letter went out, before the state was written).

Changelog values are compact copies (orjson's output keeps an 8 KB allocation whatever its length,
and the values wait in memory for their landing).

Ended contacts rest compact: after the batch in which a contact ends (and after a restart reads
an ended one back), `PartitionState.contacts` holds an `EndedContact` -- the contact's changelog
value, its live footprint and last event time -- instead of the `ContactState`, about half the
memory (they stay until local midnight, and for the dedup retention). An event for it (a rating,
a reopen, a redelivery) thaws it by the same re-fold a restart does, so its outcome is the one
the full state would give. `PartitionState.states()` yields every contact as a ContactState.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from operator import attrgetter, methodcaller
from typing import Iterator

import orjson

from pipeline.history.contact_facts import agent_interval_values, fact_values
from pipeline.live.live_index import LiveIndex
from pipeline.live.live_view import eviction_bound, evictable_from
from pipeline.live.contact_state import (APPLIED, DUPLICATE, DUPLICATE_CONFLICT, PARKED, REJECTED, AgentState,
                                    ContactState, ParkingLot, apply_agent, apply_parked)
from pipeline.schemas.dead_letters import DeadLetter
from pipeline.history.rows import Rows
from pipeline.schemas.event import Event
from pipeline.schemas.validation import Rejection, validate

CONTACT, AGENT, LOT = b"c:", b"a:", b"p:"
# contacts housekeeping looks at per partition and round: after a restart every ended contact
# comes due at once (2,000 checks: about 7 ms)
EVICTION_CHECKS_PER_ROUND = 2000


@dataclass(slots=True)
class Record:
    """What the batch step reads of a Kafka record. The worker passes aiokafka's ConsumerRecord
    objects as they are (same attribute names; copying them cost 2% of the batch loop)."""
    key: bytes | None
    value: bytes
    partition: int
    offset: int


@dataclass
class BatchOutput:
    dead_letters: list[DeadLetter] = field(default_factory=list)
    changelog: list[tuple[int, bytes, bytes | None]] = field(default_factory=list)
    rows: Rows = field(default_factory=Rows)
    partitions: set[int] = field(default_factory=set)
    applied: int = 0
    duplicates: int = 0
    parked: int = 0


class EndedContact:
    """An ended contact at rest: `value` is its changelog value ({"p": partition, "c": state}),
    `live_fp` what it contributes to the live index, `last_event` its latest event time (for
    eviction). What a ContactState costs for a contact's events (a tuple, an id string, a
    float and an argument each) is here one bytes object."""

    __slots__ = ("value", "live_fp", "last_event")
    ended = True

    def __init__(self, value: bytes, live_fp: tuple | None, last_event: float):
        self.value = value
        self.live_fp = live_fp
        self.last_event = last_event

    def thaw(self) -> ContactState:
        s = ContactState.from_dict(orjson.loads(self.value)["c"])
        s.live_fp = self.live_fp
        return s


@dataclass
class PartitionState:
    contacts: dict[str, ContactState | EndedContact] = field(default_factory=dict)
    agents: dict[str, AgentState] = field(default_factory=dict)
    lot: ParkingLot = field(default_factory=ParkingLot)
    # original bytes and source position of parked events, for rows and dead letters later
    parked_raw: dict[str, tuple[str, int]] = field(default_factory=dict)
    last_seen: dict[str, float] = field(default_factory=dict)  # processing time, for eviction
    # (due, contact id): when an ended contact may leave memory, pushed when a contact ends (one
    # entry per ended contact); checked lazily by housekeeping, which thus visits only what is
    # due instead of every contact (a scan of 100,000 cost 230 ms under the worker's lock)
    evictions: list[tuple[float, str]] = field(default_factory=list)
    live: LiveIndex | None = None  # the partition's live partial, moved once per contact and batch

    def states(self) -> Iterator[ContactState]:
        """Every contact as a ContactState (ended ones thawed: a re-fold each)."""
        for s in self.contacts.values():
            yield s.thaw() if type(s) is EndedContact else s


def decode_partition(value: bytes) -> int:
    """Partition a changelog value belongs to (values start with {"p":N,...})."""
    head = value[:24]
    i = head.find(b'"p":')
    if i < 0:
        return orjson.loads(value)["p"]
    j = i + 4
    k = j
    while k < len(head) and 48 <= head[k] <= 57:
        k += 1
    return int(head[j:k])


def _compact(value: bytes) -> bytes:
    """A copy of orjson's output that costs its length (the original keeps 8 KB)."""
    return memoryview(value).tobytes()


def _event_row(ev: Event, state: ContactState | None, partition: int, offset: int, now: float) -> tuple:
    """An `events` row, in EVENT_COLUMNS order."""
    data = ev.data
    return (
        ev.id, ev.type, ev.time, ev.subject, ev.source,
        (state.queue if state else "") or data.get("queue", "") or "",                  # queue
        (state.channel if state else "") or data.get("channel", "") or "",              # channel
        data.get("agent", "") or data.get("to_agent", "") or "",                        # agent
        data, partition, offset, now,  # data: stored as its JSON text (clickhouse_store.insert_json)
    )


_pop_last = methodcaller("pop")


class WorkerState:
    def __init__(self, queue_settings, *, max_event_bytes: int = 65536, dedup_retention_s: float = 7 * 86400,
                 parking_timeout_s: float = 300.0, clock=time.time):
        self.queue_settings = queue_settings
        self.max_event_bytes = max_event_bytes
        self.dedup_retention_s = dedup_retention_s
        self.parking_timeout_s = parking_timeout_s
        self.clock = clock
        self.partitions: dict[int, PartitionState] = {}

    # -- partitions -----------------------------------------------------------------------------
    def has_partition(self, p: int) -> bool:
        return p in self.partitions

    def add_partition(self, p: int) -> PartitionState:
        ps = self.partitions.get(p)
        if ps is None:
            ps = self.partitions[p] = PartitionState(lot=ParkingLot(self.parking_timeout_s))
            ps.live = LiveIndex(self.queue_settings, ps.contacts.values)
        return ps

    def drop_partition(self, p: int) -> None:
        self.partitions.pop(p, None)

    def load(self, p: int, key: bytes, value: bytes) -> None:
        """Restore one changelog entry (after a restart or a rebalance)."""
        ps = self.add_partition(p)
        obj = orjson.loads(value)
        now = self.clock()
        if key.startswith(CONTACT):
            s = ContactState.from_dict(obj["c"])
            old = ps.contacts.get(s.contact_id)
            ps.live.update(ps.live.previous(old), s)
            ps.contacts[s.contact_id] = EndedContact(value, s.live_fp, s.last_event) if s.ended else s
            ps.last_seen[s.contact_id] = now
            if s.ended:
                heapq.heappush(ps.evictions, (now + self.dedup_retention_s, s.contact_id))
        elif key.startswith(AGENT):
            a = AgentState.from_dict(obj["a"])
            ps.agents[a.agent] = a
        elif key.startswith(LOT):
            ps.lot = ParkingLot.from_list(obj["lot"], timeout_s=self.parking_timeout_s)
            ps.parked_raw = {k: (v[0], v[1]) for k, v in obj["raw"].items()}

    # -- the batch step ---------------------------------------------------------------------------
    def validated(self, records: list[Record]) -> list[Event | Rejection]:
        """validate() of each record's value, for a caller that validates a batch ahead of
        `process` (pure: reads no state)."""
        max_bytes = self.max_event_bytes
        return [validate(r.value, max_bytes=max_bytes) for r in records]

    def process(self, records: list[Record], now: float,
                events: list[Event | Rejection] | None = None) -> BatchOutput:
        """Apply a batch. `events`: the records already validated (`validated`), else each is
        validated here as it comes. The list is consumed (left empty): each event is let go
        once applied, so the contacts it creates reuse its memory instead of growing the heap
        past a batch of events (bench step 6, RSS with 100,000 open contacts: 483 MB validating as
        it goes, 500 MB with the list alive until the batch's end, 493 MB consumed)."""
        out = BatchOutput()
        touched: dict[int, set[str]] = {}
        moved: dict[int, dict[str, tuple | None]] = {}  # contact id -> its live footprint before the batch
        agents_touched: dict[int, set[str]] = {}
        lots_touched: set[int] = set()
        spans: dict[int, list[int]] = {}
        max_bytes = self.max_event_bytes
        evict_due = now + self.dedup_retention_s  # one float shared by the batch's queue entries
        part = -1
        c_seen: set[int] = set()  # partitions with a valid contact / agent event
        a_seen: set[int] = set()
        if events is None:
            evs: Iterator = map(partial(validate, max_bytes=max_bytes), map(attrgetter("value"), records))
        else:
            events.reverse()
            evs = map(_pop_last, repeat(events, len(events)))
        for r, ev in zip(records, evs):
            if r.partition != part:  # records come in runs of one partition (a fetch per partition)
                part = r.partition
                span = spans.get(part)
                if span is None:
                    span = spans[part] = [r.offset, r.offset]
                ps = self.partitions.get(part) or self.add_partition(part)
                c_touched = touched.get(part)
                if c_touched is None:
                    c_touched = touched[part] = set()
                    c_moved = moved[part] = {}
                else:
                    c_moved = moved[part]
                a_touched = agents_touched.get(part)
                if a_touched is None:
                    a_touched = agents_touched[part] = set()
            o = r.offset
            if o < span[0]:
                span[0] = o
            elif o > span[1]:
                span[1] = o
            if type(ev) is Rejection:
                out.dead_letters.append(DeadLetter(r.value, r.key, ev.code, ev.reason, ev.field, r.partition, r.offset))
                continue
            if ev.type.startswith("agent."):
                a_seen.add(part)
                self._agent_event(ps, ev, r, now, out, a_touched)
                continue
            c_seen.add(part)
            self._contact_event(ps, ev, r, now, out, c_touched, c_moved, lots_touched, evict_due)
        for p, footprints in moved.items():  # the live index moves once per contact and batch
            ps = self.partitions[p]
            live, contacts = ps.live, ps.contacts
            for cid, before in footprints.items():
                s = contacts.get(cid)
                if s is not None and type(s) is not EndedContact:  # (one at rest went back unchanged)
                    live.update(before, s)
        qs = self.queue_settings
        version, cals = qs.version, {}  # per batch: the settings' lookups cost more than a dict get
        for p, ids in touched.items():
            ps = self.partitions[p]
            for cid in ids:
                s = ps.contacts.get(cid)
                if s is None:
                    continue
                cal = cals.get(s.queue)
                if cal is None:
                    cal = cals[s.queue] = qs.calendar_for(s.queue)
                out.rows.contacts.append(fact_values(s, cal, version))
                value = _compact(orjson.dumps({"p": p, "c": s.to_dict()}))
                out.changelog.append((p, CONTACT + cid.encode(), value))
                if s.ended:  # at rest until an event for it comes (see the module doc)
                    ps.contacts[cid] = EndedContact(value, s.live_fp, s.last_event)
        for p, ids in agents_touched.items():
            ps = self.partitions[p]
            for aid in ids:
                value = _compact(orjson.dumps({"p": p, "a": ps.agents[aid].to_dict()}))
                out.changelog.append((p, AGENT + aid.encode(), value))
        for p in lots_touched:
            out.changelog.append(self._lot_entry(p))
        out.partitions = c_seen | a_seen | lots_touched
        out.rows.dedup_token = ",".join(f"{p}:{a}-{b}" for p, (a, b) in sorted(spans.items()))
        return out

    def _agent_event(self, ps: PartitionState, ev: Event, r: Record, now: float, out: BatchOutput,
                     touched: set[str]) -> None:
        prev = ps.agents.get(ev.subject)
        if prev is not None and r.offset <= prev.offset:
            # replayed after a crash, from before the state read back: its row (or dead letter)
            # went out before that state was written, so nothing is emitted again
            out.duplicates += 1
            return
        new, outcome = apply_agent(prev, ev)
        if outcome.kind == APPLIED:
            new.offset = r.offset
            ps.agents[ev.subject] = new
            touched.add(ev.subject)
            out.applied += 1
            row = agent_interval_values(prev, new)
            if row is not None:
                out.rows.agent_states.append(row)
        elif outcome.kind == DUPLICATE:
            out.duplicates += 1
        else:
            out.dead_letters.append(DeadLetter(r.value, r.key, outcome.kind if outcome.kind != REJECTED else outcome.reason,
                                               outcome.reason, None, r.partition, r.offset))
            return
        out.rows.events.append(_event_row(ev, None, r.partition, r.offset, now))

    def _contact_event(self, ps: PartitionState, ev: Event, r: Record, now: float, out: BatchOutput,
                       touched: set[str], moved: dict[str, tuple | None], lots_touched: set[int],
                       evict_due: float) -> None:
        cid = ev.subject
        state = resting = ps.contacts.get(cid)
        if type(state) is EndedContact:
            state = state.thaw()
        else:
            resting = None
        had_parked = cid in ps.lot
        was_ended = state is not None and state.ended  # read now: the state may change in place
        if cid not in moved:  # what the live index holds for it: taken now, the state may change in place
            moved[cid] = ps.live.previous(state)
        new, results = apply_parked(state, ev, ps.lot, now)
        if new is not None:
            ps.contacts[cid] = new
            ps.last_seen[cid] = now
            if new.ended and not was_ended:  # later events only move last_seen: see _due_evictions
                heapq.heappush(ps.evictions, (evict_due, cid))
        for e, outcome in results:
            kind = outcome.kind
            if e is ev:
                raw, partition, offset = r.value, r.partition, r.offset
            else:
                raw, offset = ps.parked_raw.pop(e.id, (orjson.dumps(e.data), -1))
                partition = r.partition
                lots_touched.add(r.partition)
            if kind == APPLIED or kind == DUPLICATE:
                if kind == APPLIED:
                    out.applied += 1
                else:
                    out.duplicates += 1
                touched.add(cid)
                out.rows.events.append(_event_row(e, new, partition, offset, now))
            elif kind == PARKED:
                out.parked += 1
                ps.parked_raw[e.id] = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw, offset)
                lots_touched.add(r.partition)
            else:  # rejected, duplicate_conflict
                code = "duplicate_conflict" if kind == DUPLICATE_CONFLICT else outcome.reason.split(" ")[0] or kind
                value = raw if isinstance(raw, bytes) else raw.encode()
                out.dead_letters.append(DeadLetter(value, cid.encode(), code, outcome.reason or kind, None,
                                                   partition, offset))
        if had_parked and cid not in ps.lot:
            lots_touched.add(r.partition)
        if resting is not None and cid not in touched:
            ps.contacts[cid] = resting  # nothing applied (parked, rejected): back to rest as it was

    def _lot_entry(self, p: int) -> tuple[int, bytes, bytes]:
        ps = self.partitions[p]
        live_ids = {row[2] for row in ps.lot.to_list()}
        ps.parked_raw = {k: v for k, v in ps.parked_raw.items() if k in live_ids}
        value = orjson.dumps({"p": p, "lot": ps.lot.to_list(), "raw": {k: list(v) for k, v in ps.parked_raw.items()}})
        return (p, LOT + str(p).encode(), _compact(value))

    # -- time-driven upkeep -------------------------------------------------------------------------
    def housekeeping(self, now: float) -> BatchOutput:
        """Parked events past the timeout go to dead letters; ended contacts past the dedup
        retention (processing time) leave memory and the changelog."""
        out = BatchOutput()
        tz = self.queue_settings.tz
        bound = eviction_bound(now, tz)
        for p, ps in self.partitions.items():
            expired = ps.lot.expire(now)
            if expired:
                for ev, reason in expired:
                    raw, offset = ps.parked_raw.pop(ev.id, ("", -1))
                    out.dead_letters.append(DeadLetter(raw.encode() if raw else orjson.dumps(ev.data), ev.subject.encode(),
                                                       reason.split(" ")[0], f"{reason}: waited {self.parking_timeout_s:.0f}s "
                                                       "for the event that makes it applicable", None, p, offset))
                out.changelog.append(self._lot_entry(p))
                out.partitions.add(p)
            gone = self._due_evictions(ps, now, bound)
            for cid in gone:
                ps.live.remove(ps.contacts.pop(cid))
                ps.last_seen.pop(cid, None)
                out.changelog.append((p, CONTACT + cid.encode(), None))
            if gone:
                out.partitions.add(p)
            ps.live.prune(now)
        return out

    def _due_evictions(self, ps: PartitionState, now: float, bound: float) -> list[str]:
        """Contacts to evict at `now`: ended, unseen for the dedup retention (processing time) and
        evictable (live_view.is_evictable, whose bound is `bound`). Pops the due entries of the
        queue; one seen since it was queued, or not evictable yet (today's), goes back with the
        time it may be."""
        cutoff = now - self.dedup_retention_s
        tz = self.queue_settings.tz
        queue, gone, later = ps.evictions, {}, set()
        budget = EVICTION_CHECKS_PER_ROUND  # the rest waits for the next round (the lock is held)
        while queue and queue[0][0] <= now and budget:
            budget -= 1
            _, cid = heapq.heappop(queue)
            if cid in gone or cid in later:
                continue  # queued twice (it ended again after a reopen): decided already
            s = ps.contacts.get(cid)
            if s is None or not s.ended:
                continue  # gone already, or reopened (its next end queues it again)
            seen = ps.last_seen.get(cid, now)
            if seen <= cutoff and s.last_event < bound:
                gone[cid] = None
                continue
            due = seen + self.dedup_retention_s if seen > cutoff else evictable_from(s.last_event, tz)
            later.add(cid)
            heapq.heappush(queue, (max(due, now + 1.0), cid))
        return list(gone)

    # -- live view ----------------------------------------------------------------------------------
    def partial(self, p: int, now: float) -> dict:
        """The partition's live partial at `now`: from the incremental index, in O(rows +
        waits not yet breached); equal to live_view.partial over every contact (tested)."""
        ps = self.partitions.get(p) or self.add_partition(p)
        return ps.live.partial(now, ps.agents.values())
