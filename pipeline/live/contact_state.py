"""The contact state machine: pure, no I/O, no clock (times are event times; `now` is a parameter).

`apply(state | None, event) -> (state, Outcome)` with Outcome.kind one of:

* ``applied``            the event is now part of the contact.
* ``duplicate``          its id was already applied with the same content: idempotent no-op.
* ``duplicate_conflict`` its id was already applied with different content (time, type or the
                         data fields the state uses): first wins; goes to the dead-letter topic.
* ``parked``             not applicable *yet*; the caller keeps it in a `ParkingLot` and retries it
                         after each event applied to the same contact (`apply_parked` does all of
                         this). After the lot's timeout it goes to dead letters with its reason:
    - ``unknown_contact``     no contact.created seen for the subject;
    - ``contact_closed``      a working event (assigned, answered, opened, replies, hold, transfer,
                              snooze, abandon) or a second close on a closed/abandoned contact:
                              legal only if a contact.reopened before it is still missing;
    - ``contact_not_closed``  reopened while open (its close may still be missing);
    - ``already_answered``    answered while the call/chat is connected (no transfer or reopen
                              between), or abandoned while connected;
    - ``not_answered`` / ``already_held`` / ``not_held``  hold/resume outside a call / twice.
  These are state-dependent, so parking (not rejecting) is what makes reordering harmless:
  an event that arrives before the event that makes it legal waits for it.
* ``rejected``           never applicable whatever else arrives; dead letters with the reason:
  ``duplicate_created`` (a second contact.created), ``before_created`` (event time earlier than
  the contact's creation), ``wrong_channel`` (held/resumed off voice; opened, replies, snoozed on
  voice; answered on email), ``snooze_in_past`` (until <= event time), ``contact_event_limit``
  (more than MAX_EVENTS events), ``not_a_contact_event``.

Out-of-order rule (exactly order-independent): a contact keeps the list of its applied events
sorted by (time, type rank, id) -- TYPE_RANK orders same-instant events along the lifecycle:
created < tagged < transferred < assigned < answered < opened < held < resumed <
customer_replied < agent_replied < snoozed < abandoned < closed < reopened < rated.
One exception keeps a reopen's own instant usable: when an instant begins with the contact
closed or abandoned and holds a contact.reopened, that reopen folds first in its instant (then the
rest in rank order), so "reopened + assigned/customer_replied at the same time" applies instead of
parking the assignment forever ("closed + reopened at the same time" still folds close first).
The rule depends only on the events before the instant, so the state still depends only on the
set of events.
The derived fields are a fold over that list. An event that sorts after the last one is folded in
O(1) (not a reopen in the last event's instant); one that sorts earlier is inserted and the whole
list is re-folded (a contact has few events). An event is applied only if the whole re-folded list
stays legal, so the stored list is always a legal sequence and the state depends only on the *set*
of applied events.
Above MAX_SORTED_EVENTS (500) events, a contact falls back to arrival order: new events are
appended and folded against the current state without re-sorting (still deduplicated).
Events with equal time and type are ordered by id: publishers should give distinct times.

Waiting (glossary): starts at created, customer_replied (email/chat; an existing wait keeps its
start), reopened, a transfer without to_agent (restarts the wait: a new queue), and at a snooze's
`until`; ends at answered, agent_replied, closed, abandoned and snoozed. Any of these events
cancels a pending snooze.
Handle time: voice and chat segments start at answered, email/chat ones at opened; a segment ends
at agent_replied (email/chat), transferred, abandoned or closed; finished segments are summed.
After-contact work lives in agent.state_changed (another partition), so it is not in handle_s.
Response times: from the oldest customer message (created counts) not yet answered to the next
agent_replied, one value per such reply (email/chat).
SLA clock pauses (`pause_spans`): while snoozed (from contact.snoozed to its `until` or the event
that cancels it) and while waiting for the customer (from an agent_replied to the next
customer_replied, reopened, transfer into a queue without an agent, close or abandon).

`ContactState` is mutable and owned by the caller: the O(1) path updates it in place and returns
it; the re-fold path returns a new object. `to_dict()` stores only the id and the event list (the
derived fields are re-folded by `from_dict`), so the changelog stays small and a definition change
is picked up on restart.
"""
from __future__ import annotations

from sys import intern as _intern
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

from pipeline.schemas.event import Event

MAX_SORTED_EVENTS = 500
MAX_EVENTS = 5000

CREATED = "contact.created"
ASSIGNED = "contact.assigned"
ANSWERED = "contact.answered"
OPENED = "contact.opened"
AGENT_REPLIED = "contact.agent_replied"
CUSTOMER_REPLIED = "contact.customer_replied"
HELD = "contact.held"
RESUMED = "contact.resumed"
TRANSFERRED = "contact.transferred"
SNOOZED = "contact.snoozed"
TAGGED = "contact.tagged"
CLOSED = "contact.closed"
REOPENED = "contact.reopened"
ABANDONED = "contact.abandoned"
RATED = "contact.rated"
AGENT_STATE_CHANGED = "agent.state_changed"

TYPE_RANK = {t: i for i, t in enumerate((
    CREATED, TAGGED, TRANSFERRED, ASSIGNED, ANSWERED, OPENED, HELD, RESUMED, CUSTOMER_REPLIED,
    AGENT_REPLIED, SNOOZED, ABANDONED, CLOSED, REOPENED, RATED))}
_TYPES = {t: t for t in TYPE_RANK}  # to store the interned constant, not the event's string

APPLIED = "applied"
DUPLICATE = "duplicate"
DUPLICATE_CONFLICT = "duplicate_conflict"
PARKED = "parked"
REJECTED = "rejected"


class Outcome(NamedTuple):
    kind: str
    reason: str = ""


OK = Outcome(APPLIED)
DUP = Outcome(DUPLICATE)
CONFLICT = Outcome(DUPLICATE_CONFLICT, "same id, different content (first wins)")
UNKNOWN_CONTACT = Outcome(PARKED, "unknown_contact")

_NEEDS_OPEN = frozenset({ASSIGNED, ANSWERED, OPENED, AGENT_REPLIED, CUSTOMER_REPLIED, HELD, RESUMED,
                         TRANSFERRED, SNOOZED, ABANDONED})
_NOT_ON = {
    "voice": frozenset({OPENED, AGENT_REPLIED, CUSTOMER_REPLIED, SNOOZED}),
    "chat": frozenset({HELD, RESUMED}),
    "email": frozenset({ANSWERED, HELD, RESUMED}),
}


@dataclass(slots=True)
class ContactState:
    contact_id: str
    # applied events as (time, rank, id, type, arg); arg holds only what the fold needs
    events: list = field(default_factory=list)
    channel: str = ""
    queue: str = ""
    customer: str = ""
    priority: int = 0
    tags: tuple = ()
    created: float = 0.0
    first_assigned: float | None = None
    answered: float | None = None         # first answered (voice/chat)
    first_response: float | None = None   # voice: answered; email/chat: first agent_replied
    abandoned: float | None = None        # first abandon
    closed: float | None = None           # last close; None once reopened
    assignee: str = ""                    # current agent ('' = unassigned)
    agent: str = ""                       # last agent who handled it
    agents: tuple = ()                    # tuples, not lists: () is shared, most contacts have 0-1
    ended: bool = False                   # closed or abandoned (until reopened)
    connected: bool = False               # voice/chat conversation connected
    held: bool = False
    wait_start: float | None = None       # start of the current wait
    snooze_until: float | None = None     # snoozed; waits from `until` on
    pending_msg: float | None = None      # oldest customer message without an agent reply
    customer_messages: int = 0
    replies: int = 0
    response_times: tuple = ()
    handle_ms: int = 0                    # integer ms: sums are exact in any order
    handle_segments: int = 0
    seg_start: float | None = None
    # (start, end) of each response time and finished handle segment: the business-hours twins
    # are measured over these spans (pipeline.history.contact_facts)
    # (tuples, not lists: () is shared, so a contact without any costs nothing)
    response_spans: tuple = ()
    handle_spans: tuple = ()
    # SLA clock pauses (issue 14): snoozed, or waiting for the customer after an agent reply
    awaiting_customer: bool = False
    pause_start: float | None = None
    pause_spans: tuple = ()                               # finished pauses, (start, end)
    reopened: int = 0
    transfers: int = 0
    csat: int | None = None
    last_event: float = 0.0
    # what the contact last contributed to its partition's live index (pipeline/live/live_index.py
    # sets it): the "before" of the next event without recomputing it; not part of the state
    live_fp: tuple | None = field(default=None, compare=False, repr=False)

    # -- derived views ---------------------------------------------------------------------
    @property
    def version(self) -> int:
        return len(self.events)

    def waiting_since(self, now: float) -> float | None:
        """Start of the current wait at `now`, None when not waiting."""
        if self.wait_start is not None:
            return self.wait_start
        su = self.snooze_until
        if su is not None and su <= now:
            return su
        return None

    @property
    def answer_time(self) -> float | None:
        """When the contact counts as answered: answered (voice/chat), first reply (email)."""
        return self.first_response if self.channel == "email" else self.answered

    # -- changelog form ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON/orjson-able: {"c": id, "e": [[time, id, type, arg], ...]} in fold order."""
        return {"c": self.contact_id, "e": [[e[0], e[2], e[3], e[4]] for e in self.events]}

    @classmethod
    def from_dict(cls, d: dict) -> "ContactState":
        events = [(t, TYPE_RANK[typ], eid, _TYPES[typ], _thaw(arg)) for t, eid, typ, arg in d["e"]]
        if events and events[0][3] == CREATED:  # shared channel and queue strings, as in _arg
            e = events[0]
            a = e[4]
            events[0] = e[:4] + ((_intern(a[0]), _intern(a[1])) + a[2:4] + (_tag_set(a[4]),),)
        s = cls(d["c"], events)
        for e in events:  # stored order is the fold order (sorted, then arrival beyond the bound)
            _step(s, e[0], e[3], e[4])
        return s


def _thaw(arg: Any) -> Any:
    # JSON turns tuples into lists; args must compare equal to freshly built ones (dedup)
    if type(arg) is list:
        return tuple(tuple(x) if type(x) is list else x for x in arg)
    return arg


_TAG_SETS: dict[tuple, tuple] = {}
_MAX_TAG_SETS = 4096


def _tag_set(tags) -> tuple:
    """Sorted distinct tags. A few tag sets repeat on most contacts, so the first 4,096 distinct
    sets are kept and every contact with one of them shares its tuple and strings (about 100
    bytes per contact); later sets are not remembered, so unique tags cannot grow the memo."""
    t = tuple(sorted(set(tags or ())))
    if not t:
        return ()
    shared = _TAG_SETS.get(t)
    if shared is None:
        if len(_TAG_SETS) >= _MAX_TAG_SETS:
            return t
        shared = _TAG_SETS[t] = tuple(_intern(x) if type(x) is str else x for x in t)
    return shared


def _arg(typ: str, data: dict) -> Any:
    g = data.get
    if typ == CREATED:
        # channel and queue names repeat on every contact: one shared string each
        return (_intern(g("channel") or ""), _intern(g("queue") or ""), g("customer") or "",
                int(g("priority") or 0), _tag_set(g("tags")))
    if typ in (ASSIGNED, ANSWERED, OPENED, AGENT_REPLIED, CLOSED):
        return g("agent") or ""
    if typ == TRANSFERRED:
        return (g("to_queue") or "", g("to_agent") or "")
    if typ == SNOOZED:
        return float(g("until"))
    if typ == TAGGED:
        return _tag_set(g("tags"))
    if typ == RATED:
        return int(g("score"))
    return None


# -- the fold ---------------------------------------------------------------------------------

def _step(s: ContactState, t: float, typ: str, arg: Any) -> str | None:
    """Fold one event into `s`. Returns a park reason, leaving `s` untouched, when illegal."""
    # legality first: nothing below mutates before these checks
    if typ in _NEEDS_OPEN:
        if s.ended:
            return "contact_closed"
        if typ == ANSWERED and s.connected:
            return "already_answered"
        if typ == ABANDONED and s.connected:
            return "already_answered"
        if typ == HELD:
            if not s.connected:
                return "not_answered"
            if s.held:
                return "already_held"
        elif typ == RESUMED and not s.held:
            return "not_held"
    elif typ == CLOSED:
        if s.closed is not None:
            return "contact_closed"
    elif typ == REOPENED:
        if not s.ended:
            return "contact_not_closed"

    su = s.snooze_until
    if su is not None and su <= t:  # the snooze ended before this event: the wait began then
        s.wait_start = su
        s.snooze_until = None
        if s.pause_start is not None and not s.awaiting_customer:  # ...and the SLA clock resumed
            s.pause_spans += ((s.pause_start, su),)
            s.pause_start = None
    if t > s.last_event:
        s.last_event = t

    if typ == CREATED:
        s.channel, s.queue, s.customer, s.priority, s.tags = arg
        s.created = s.last_event = t
        s.wait_start = t
        s.customer_messages = 1
        if s.channel != "voice":
            s.pending_msg = t
    elif typ == ASSIGNED:
        s.assignee = arg
        if s.first_assigned is None:
            s.first_assigned = t
    elif typ == ANSWERED:
        s.connected = True
        if s.answered is None:
            s.answered = t
            if s.channel == "voice":
                s.first_response = t
        _handled(s, arg)
        s.wait_start = s.snooze_until = None
        if s.seg_start is None:
            s.seg_start = t
    elif typ == AGENT_REPLIED:
        s.awaiting_customer = True
        s.replies += 1
        if s.first_response is None:
            s.first_response = t
        if s.pending_msg is not None:
            s.response_times += (t - s.pending_msg,)
            s.response_spans += ((s.pending_msg, t),)
            s.pending_msg = None
        _handled(s, arg)
        s.wait_start = s.snooze_until = None
        _seg_end(s, t)
    elif typ == CUSTOMER_REPLIED:
        s.awaiting_customer = False
        s.customer_messages += 1
        if s.pending_msg is None:
            s.pending_msg = t
        s.snooze_until = None
        if s.wait_start is None:
            s.wait_start = t
    elif typ == OPENED:
        _handled(s, arg)
        if s.seg_start is None:
            s.seg_start = t
    elif typ == TRANSFERRED:
        to_queue, to_agent = arg
        s.transfers += 1
        _seg_end(s, t)
        s.connected = s.held = False
        if to_queue:
            s.queue = to_queue
        if to_agent:
            s.assignee = to_agent
        else:  # back into a queue without an agent: a new wait
            s.awaiting_customer = False
            s.assignee = ""
            s.wait_start = t
            s.snooze_until = None
    elif typ == SNOOZED:
        s.snooze_until = arg
        s.wait_start = None
    elif typ == TAGGED:
        if not set(arg) <= set(s.tags):
            s.tags = _tag_set(set(s.tags).union(arg))
    elif typ == CLOSED:
        s.awaiting_customer = False
        s.closed = t
        s.ended = True
        s.wait_start = s.snooze_until = s.pending_msg = None
        _seg_end(s, t)
        s.connected = s.held = False
        if arg:
            _handled(s, arg)
    elif typ == REOPENED:
        s.awaiting_customer = False
        s.reopened += 1
        s.closed = None
        s.ended = False
        s.wait_start = t
        s.snooze_until = None
    elif typ == ABANDONED:
        s.awaiting_customer = False
        if s.abandoned is None:
            s.abandoned = t
        s.ended = True
        s.wait_start = s.snooze_until = None
        _seg_end(s, t)
    elif typ == HELD:
        s.held = True
    elif typ == RESUMED:
        s.held = False
    elif typ == RATED:
        s.csat = arg
    if s.snooze_until is not None or s.awaiting_customer:
        if s.pause_start is None:
            s.pause_start = t
    elif s.pause_start is not None:
        s.pause_spans += ((s.pause_start, t),)
        s.pause_start = None
    return None


def _handled(s: ContactState, agent: str) -> None:
    if agent:
        s.assignee = s.agent = agent
        if agent not in s.agents:
            s.agents += (agent,)


def _seg_end(s: ContactState, t: float) -> None:
    if s.seg_start is not None:
        s.handle_ms += round((t - s.seg_start) * 1000)
        s.handle_spans += ((s.seg_start, t),)
        s.handle_segments += 1
        s.seg_start = None


def _refold(contact_id: str, events: list) -> tuple[ContactState | None, str]:
    """Fold `events` (sorted by key; reordered in place into the fold order: an instant that
    begins with the contact ended folds its first reopen first)."""
    s = ContactState(contact_id, events)
    prev_t = None
    for i in range(len(events)):
        t = events[i][0]
        if t != prev_t:
            prev_t = t
            if s.ended:
                _reopen_first(events, i)
        e = events[i]
        r = _step(s, t, e[3], e[4])
        if r is not None:
            return None, r
    return s, ""


def _reopen_first(events: list, i: int) -> None:
    """Move the first contact.reopened of the instant starting at `i` to `i`."""
    t = events[i][0]
    for j in range(i, len(events)):
        e = events[j]
        if e[0] != t:
            return
        if e[3] is REOPENED:
            if j > i:
                events.insert(i, events.pop(j))
            return


def replay(contact_id: str, events: Iterable[Event]) -> ContactState | None:
    """State from a set of events in any order (tests, backfills): apply with parking, no timeout."""
    lot = ParkingLot(timeout_s=float("inf"))
    s = None
    for ev in events:
        s, _ = apply_parked(s, ev, lot, 0.0)
    return s


# -- apply ------------------------------------------------------------------------------------

def _precheck(state: ContactState, event: Event) -> tuple[tuple | None, Outcome | None]:
    """Dedup and the order-independent rejections. Returns (entry, None) or (None, outcome)."""
    typ = event.type
    rank = TYPE_RANK.get(typ)
    if rank is None:
        return None, Outcome(REJECTED, "not_a_contact_event")
    t = event.time
    arg = _arg(typ, event.data)
    eid = event.id
    for e in state.events:
        if e[2] == eid:
            return None, (DUP if e[0] == t and e[3] == typ and e[4] == arg else CONFLICT)
    if typ == CREATED:
        return None, Outcome(REJECTED, "duplicate_created")
    if t < state.created:
        return None, Outcome(REJECTED, "before_created")
    if typ in _NOT_ON.get(state.channel, ()):
        return None, Outcome(REJECTED, "wrong_channel")
    if typ == SNOOZED and arg <= t:
        return None, Outcome(REJECTED, "snooze_in_past")
    return (t, rank, eid, _TYPES[typ], arg), None


def apply(state: ContactState | None, event: Event, policy: Any = None, *,
          max_sorted: int = MAX_SORTED_EVENTS, max_events: int = MAX_EVENTS
          ) -> tuple[ContactState | None, Outcome]:
    """Apply one contact event. `policy` is accepted for call-site symmetry and unused: thresholds
    are applied by the live view, so a settings change needs no state rebuild."""
    if state is None:
        if event.type != CREATED:
            return None, (UNKNOWN_CONTACT if event.type in TYPE_RANK
                          else Outcome(REJECTED, "not_a_contact_event"))
        entry = (event.time, 0, event.id, CREATED, _arg(CREATED, event.data))
        s = ContactState(event.subject, [entry])
        _step(s, entry[0], CREATED, entry[4])
        return s, OK
    entry, out = _precheck(state, event)
    if out is not None:
        return state, out
    events = state.events
    if len(events) >= max_events:
        return state, Outcome(REJECTED, "contact_event_limit")
    last = events[-1]
    if len(events) >= max_sorted or (entry[:3] > last[:3] and (entry[3] is not REOPENED or entry[0] != last[0])):
        # in order (or past the bound): fold in place. A reopen in the last event's instant may
        # have to fold first in it (see _refold)
        reason = _step(state, entry[0], entry[3], entry[4])
        if reason is not None:
            return state, Outcome(PARKED, reason)
        events.append(entry)
        return state, OK
    new_events = events.copy()
    new_events.append(entry)
    new_events.sort()  # (timsort: linear on a sorted list and one new entry)
    s, reason = _refold(state.contact_id, new_events)
    if s is None:
        return state, Outcome(PARKED, reason)
    return s, OK


def _apply_group(state: ContactState, events: list[Event]) -> ContactState | None:
    """All parked `events` together, or None: resolves events that only become legal jointly
    (e.g. a close and its reopen that arrived after later events)."""
    new_events = state.events.copy()
    for ev in events:
        entry, out = _precheck(state, ev)
        if out is not None:
            return None
        new_events.append(entry)
    if len(new_events) > min(MAX_SORTED_EVENTS, MAX_EVENTS):
        return None
    new_events.sort()
    s, _ = _refold(state.contact_id, new_events)
    return s


# -- parking ----------------------------------------------------------------------------------

class ParkingLot:
    """Events waiting for their contact (or for the event that makes them legal), per contact id.

    `now` is processing time given by the caller; after `timeout_s` an event is returned by
    `expire` for the dead-letter topic with the reason it was parked for."""

    __slots__ = ("timeout_s", "max_events", "_by", "_n")

    def __init__(self, timeout_s: float = 300.0, max_events: int = 100_000):
        self.timeout_s = timeout_s
        self.max_events = max_events
        self._by: dict[str, dict[str, tuple[float, Event, str]]] = {}
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __contains__(self, contact_id: str) -> bool:
        return contact_id in self._by

    def park(self, event: Event, now: float, reason: str = "unknown_contact") -> str:
        """'parked', 'duplicate' (same id already parked) or 'full' (dead-letter it now)."""
        slot = self._by.get(event.subject)
        if slot is not None and event.id in slot:
            return DUPLICATE
        if self._n >= self.max_events:
            return "full"
        if slot is None:
            slot = self._by[event.subject] = {}
        slot[event.id] = (now, event, reason)
        self._n += 1
        return PARKED

    def take(self, contact_id: str) -> list[tuple[float, Event, str]]:
        slot = self._by.pop(contact_id, None)
        if not slot:
            return []
        self._n -= len(slot)
        return list(slot.values())

    def put_back(self, parked_at: float, event: Event, reason: str) -> None:
        self._by.setdefault(event.subject, {})[event.id] = (parked_at, event, reason)
        self._n += 1

    def expire(self, now: float) -> list[tuple[Event, str]]:
        """Remove and return (event, reason) parked for `timeout_s` or longer."""
        out: list[tuple[Event, str]] = []
        limit = now - self.timeout_s
        for cid in list(self._by):
            slot = self._by[cid]
            for eid in [k for k, v in slot.items() if v[0] <= limit]:
                out.append(slot.pop(eid)[1:])
                self._n -= 1
            if not slot:
                del self._by[cid]
        out.sort(key=lambda x: (x[0].time, x[0].id))
        return out

    def to_list(self) -> list:
        """JSON-able form for a changelog: [[parked_at, reason, id, type, time, subject, source, data]]."""
        return [[at, r, e.id, e.type, e.time, e.subject, e.source, e.data]
                for slot in self._by.values() for at, e, r in slot.values()]

    @classmethod
    def from_list(cls, rows: list, **kw) -> "ParkingLot":
        lot = cls(**kw)
        for at, r, eid, typ, t, subj, src, data in rows:
            lot.put_back(at, Event(eid, typ, t, subj, src, data), r)
        return lot


def apply_parked(state: ContactState | None, event: Event, lot: ParkingLot, now: float
                 ) -> tuple[ContactState | None, list[tuple[Event, Outcome]]]:
    """apply + parking: parks what is not applicable yet and, after an event is applied, retries
    the contact's parked events until nothing more applies (one by one, then all together).
    Returns the new state and (event, outcome) for the event and every retried event that left
    the lot (parked ones that stay are not reported again). `rejected`/`duplicate_conflict`
    outcomes, and `parked` ones the lot refuses ('full'), are for the dead-letter topic."""
    state, out = apply(state, event)
    if out.kind == PARKED:
        r = lot.park(event, now, out.reason)
        if r == DUPLICATE:
            out = DUP
        elif r == "full":
            out = Outcome(REJECTED, f"parking_full ({out.reason})")
    results = [(event, out)]
    if state is not None and state.contact_id in lot and (
            out.kind == APPLIED or (out.kind == PARKED and len(lot._by[state.contact_id]) > 1)):
        # a newly parked event may be legal together with earlier parked ones (a close and its
        # reopen that both arrived after later events): try them as a group
        state = _drain(state, lot, results)
        if len(results) > 1 and results[0][1].kind == PARKED and any(e is event for e, _ in results[1:]):
            results.pop(0)  # the new event was applied right after being parked: report that
    return state, results


def _drain(state: ContactState, lot: ParkingLot, results: list) -> ContactState:
    cid = state.contact_id
    progress = True
    while progress and cid in lot:
        progress = False
        waiting = sorted(lot.take(cid), key=lambda p: (p[1].time, TYPE_RANK.get(p[1].type, 99), p[1].id))
        still = []
        for at, ev, _reason in waiting:
            state, out = apply(state, ev)
            if out.kind == PARKED:
                still.append((at, ev, out.reason))
            else:
                results.append((ev, out))
                progress = progress or out.kind == APPLIED
        if not progress and len(still) > 1:
            grouped = _apply_group(state, [p[1] for p in still])
            if grouped is not None:
                state = grouped
                results.extend((p[1], OK) for p in still)
                still = []
        for at, ev, reason in still:
            lot.put_back(at, ev, reason)
    return state


# -- agents -----------------------------------------------------------------------------------

@dataclass(slots=True)
class AgentState:
    agent: str
    state: str
    reason: str
    since: float
    capacity: dict = field(default_factory=dict)  # channel -> int
    recent_ids: tuple = ()                        # last few event ids: dedup of redeliveries
    # source position (Kafka offset in the agent's partition) of the last event applied, set by
    # the worker: after a crash, the events replayed up to it were all handled already
    offset: int = -1

    def to_dict(self) -> dict:
        return {"a": self.agent, "s": self.state, "r": self.reason, "t": self.since,
                "c": self.capacity, "i": list(self.recent_ids), "o": self.offset}

    @classmethod
    def from_dict(cls, d: dict) -> "AgentState":
        return cls(d["a"], d["s"], d["r"], d["t"], dict(d["c"]), tuple(d["i"]), d.get("o", -1))


_RECENT_IDS = 16


def apply_agent(state: AgentState | None, event: Event) -> tuple[AgentState | None, Outcome]:
    """agent.state_changed. Rules: same id as a recent event -> duplicate; event time before the
    current state's start -> rejected `stale_agent_state` (intervals already landed); same state
    and reason -> capacity update only (the interval goes on); otherwise a new interval starts at
    the event time. A missing capacity keeps the previous one."""
    if event.type != AGENT_STATE_CHANGED:
        return state, Outcome(REJECTED, "not_an_agent_event")
    d = event.data
    new_state = d.get("state") or "offline"
    reason = d.get("reason") or ""
    cap = d.get("capacity")
    if state is None:
        return AgentState(event.subject, new_state, reason, event.time, dict(cap or {}), (event.id,)), OK
    if event.id in state.recent_ids:
        return state, DUP
    if event.time < state.since:
        return state, Outcome(REJECTED, "stale_agent_state")
    ids = (state.recent_ids + (event.id,))[-_RECENT_IDS:]
    capacity = dict(cap) if cap is not None else state.capacity
    if new_state == state.state and reason == state.reason:
        return AgentState(state.agent, state.state, reason, state.since, capacity, ids), OK
    return AgentState(state.agent, new_state, reason, event.time, capacity, ids), OK
