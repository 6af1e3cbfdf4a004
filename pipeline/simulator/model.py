"""Discrete-event model of a contact centre (heapq). Pure: no I/O, no wall clock.

`simulate(config)` yields CloudEvents envelope dicts (the brief's contract v1) in **global
event-time order**: every event's `time` is >= the previous event's `time` (events that share a
millisecond keep the order in which the model produced them, which is causal: a contact's
`created` precedes its `assigned`, an agent's `busy` follows the assignment that caused it).
Per subject the order is therefore also the causal order, as Kafka needs it.

Same config (including `seed` and `start`) -> the same events, byte for byte.

The model:
- arrivals per queue: a non-homogeneous Poisson process, rate piecewise constant per 15-minute
  slot of local time (curves.py), scaled by the queue's weekday volume and the day-of-week factor;
- voice: ring, talk (lognormal), optional hold, optional transfer to another voice queue,
  after-contact work; customers abandon when their patience (lognormal) runs out before an agent
  is assigned;
- chat: accept, a conversation of alternating agent/customer messages (lognormal duration), several
  chats per agent up to its capacity; abandons like voice; rare reopen;
- email: assignment into the agent's personal inbox (up to its email capacity), worked one at a
  time (opened -> agent_replied), then closed, snoozed, or waiting for the customer's reply which
  puts it back in the queue (preferring the last agent); transfers; reopenings days later;
- CSAT: `contact.rated` a while after a share of closes;
- agents: shifts per group and weekday, two short breaks and a lunch (taken once the agent's work
  is done), routing of each waiting contact to the eligible agent with the lowest load and the
  longest idle time; `agent.state_changed` whenever the derived state changes:
  offline (off shift), away (reason break/lunch), busy (any open contact), after_contact_work
  (after a voice call), available.
Contacts still open when the window ends simply stop (no events after `start + duration`).
"""
from __future__ import annotations

import heapq
import math
import random
import time as _time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator

from pipeline.simulator import curves
from pipeline.simulator.config import CHANNELS, SimConfig

_CHANNEL_ORDER = {"voice": 0, "chat": 1, "email": 2}
_TAGS = {
    "voice": ("payment", "card", "complaint", "upgrade", "address_change"),
    "chat": ("login", "bug", "how_to", "refund", "shipping"),
    "email": ("invoice", "refund", "contract", "documents", "complaint"),
}
_CSAT_WEIGHTS = (0.05, 0.05, 0.12, 0.3, 0.48)


def format_time(t: float) -> str:
    """Epoch seconds -> RFC 3339 UTC with milliseconds and 'Z'."""
    ms = round(t * 1000)
    s, frac = divmod(ms, 1000)
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(s)) + f".{frac:03d}Z"


def _lognormal(rng: random.Random, law: tuple[float, float]) -> float:
    mean, cv = law
    sigma2 = math.log1p(cv * cv)
    return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(slots=True, eq=False)
class Contact:
    id: str
    queue: str
    channel: str
    created: float
    state: str = "new"   # waiting, ringing, connected, assigned, working, with_customer, snoozed, closed, abandoned
    agent: "Agent | None" = None
    last_agent: "Agent | None" = None
    wait_since: float = 0.0
    priority: int = 0
    answered: bool = False
    rounds: int = 0
    closes: int = 0
    transfers: int = 0
    reopens: int = 0
    waited_s: float = 0.0
    wait_no: int = 0     # bumps at every enqueue; stale queue entries carry an older number


@dataclass(slots=True, eq=False)
class Agent:
    id: str
    skills: tuple[str, ...]
    capacity: dict[str, int]
    on_shift: bool = False
    away: str = ""               # break reason while away
    pending: tuple | None = None  # ("offline",) or ("away", reason, duration_s)
    acw: bool = False
    voice: Contact | None = None
    chats: list = field(default_factory=list)
    inbox: deque = field(default_factory=deque)
    email_active: Contact | None = None
    idle_since: float = 0.0
    state: str = ""
    reason: str = ""

    def load(self) -> int:
        return (self.voice is not None) + len(self.chats) + len(self.inbox) + (self.email_active is not None)

    def load_fraction(self, channel: str) -> float:
        cap = self.capacity.get(channel, 0) or 1
        n = {"voice": self.voice is not None, "chat": len(self.chats),
             "email": len(self.inbox) + (self.email_active is not None)}[channel]
        return n / cap

    def can_take(self, channel: str) -> bool:
        if not self.on_shift or self.away or self.pending or self.acw:
            return False
        cap = self.capacity.get(channel, 0)
        if cap <= 0 or self.voice is not None:
            return False
        emails = len(self.inbox) + (self.email_active is not None)
        if channel == "voice":
            return not self.chats and not emails
        if channel == "chat":
            return not emails and len(self.chats) < cap
        return not self.chats and emails < cap


class Simulator:
    def __init__(self, config: SimConfig):
        self.cfg = config
        self.b = config.behaviour
        self.rng = random.Random(f"{config.seed}:behaviour")
        self.tag = config.run_tag()
        self.t0 = config.start_epoch
        self.t_end = self.t0 + config.duration_s
        self.heap: list = []
        self._seq = 0
        self._event_seq = 0
        self._contact_seq = 0
        self.out: list[dict] = []
        self.queues = {q.name: q for q in config.queues}
        self.waiting: dict[str, list] = {q.name: [] for q in config.queues}
        self.agents: list[Agent] = []
        for g in config.agents:
            caps = {ch: g.capacity.get(ch, 0) for ch in CHANNELS
                    if any(self.queues[s].channel == ch for s in g.skills)}
            for i in range(g.count):
                self.agents.append(Agent(id=f"agent-{g.name}-{i + 1:02d}", skills=g.skills, capacity=caps))
        self.by_queue: dict[str, list[Agent]] = {
            q: [a for a in self.agents if q in a.skills] for q in self.queues}
        self.same_channel: dict[str, list[str]] = {
            q.name: [o.name for o in config.queues if o.channel == q.channel and o.name != q.name]
            for q in config.queues}
        total = sum(q.volume_per_day for q in config.queues)
        self.customer_pool = max(10, int(total * self.b.customers_per_contact))
        self.dirty: dict[str, Agent] = {}

    # -- scheduling -------------------------------------------------------------------------
    def at(self, t: float, handler, *args) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (t, self._seq, handler, args))

    def emit(self, t: float, type_: str, subject: str, data: dict[str, Any]) -> None:
        self._event_seq += 1
        self.out.append({
            "specversion": "1.0",
            "id": f"sim-{self.tag}-{self._event_seq:09d}",
            "source": self.cfg.source,
            "type": type_,
            "time": format_time(t),
            "subject": subject,
            "data": data,
        })

    def run(self) -> Iterator[dict]:
        self._schedule_shifts()
        for q in self.cfg.queues:
            gen = self._arrivals(q)
            self.at(self.t0, self._next_arrival, q.name, gen, None)
        for a in self.agents:
            self.dirty[a.id] = a
        self._settle(self.t0)
        yield from self.out
        self.out.clear()
        heap = self.heap
        while heap:
            t, _, handler, args = heapq.heappop(heap)
            if t >= self.t_end:
                break
            handler(t, *args)
            if self.dirty:
                self._settle(t)
            if self.out:
                yield from self.out
                self.out.clear()

    # -- arrivals -----------------------------------------------------------------------------
    def _arrivals(self, q) -> Iterator[float]:
        """Arrival times >= t0 of a Poisson process with a piecewise-constant rate per slot."""
        rng = random.Random(f"{self.cfg.seed}:arrivals:{q.name}")
        zone = self.cfg.zone
        day = self.cfg.start.astimezone(zone).date()
        factors = q.day_factors or curves.DAY_FACTORS[q.channel]
        while True:
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
            nxt = day + timedelta(days=1)
            next_midnight = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp()
            if midnight >= self.t_end:
                return
            wd = day.weekday()
            weights = curves.curve(q.channel, wd)
            volume = q.volume_per_day * factors[wd]
            for k, w in enumerate(weights):
                a = midnight + k * curves.SLOT_S
                b = min(a + curves.SLOT_S, next_midnight)
                if b <= self.t0 or a >= b:
                    continue
                rate = volume * w / curves.SLOT_S
                if rate <= 0:
                    continue
                t = max(a, self.t0)
                while True:
                    t += rng.expovariate(rate)
                    if t >= b:
                        break
                    yield t
            day = nxt

    def _next_arrival(self, t: float, queue: str, gen, _t_prev) -> None:
        if _t_prev is not None:
            self._create(t, queue)
        nt = next(gen, None)
        if nt is not None and nt < self.t_end:
            self.at(nt, self._next_arrival, queue, gen, nt)

    def _create(self, t: float, queue: str) -> None:
        rng, b = self.rng, self.b
        q = self.queues[queue]
        self._contact_seq += 1
        c = Contact(id=f"c-{self.tag}-{self._contact_seq:07d}", queue=queue, channel=q.channel, created=t)
        c.priority = 1 if rng.random() < b.high_priority_share else 0
        data = {"channel": q.channel, "queue": queue,
                "customer": f"cust-{rng.randrange(self.customer_pool):06d}",
                "priority": c.priority, "tags": ["vip"] if c.priority else []}
        self.emit(t, "contact.created", c.id, data)
        self._enqueue(t, c)
        if q.channel in ("voice", "chat"):
            law = b.voice_patience if q.channel == "voice" else b.chat_patience
            self.at(t + _lognormal(rng, law), self._abandon, c)

    # -- queueing and routing -------------------------------------------------------------------
    def _enqueue(self, t: float, c: Contact) -> None:
        c.state = "waiting"
        c.agent = None
        c.wait_since = t
        c.wait_no += 1
        self._seq += 1
        heapq.heappush(self.waiting[c.queue], (-c.priority, t, self._seq, c, c.wait_no))
        best = None
        best_key = None
        la = c.last_agent
        if la is not None and c.queue in la.skills and la.can_take(c.channel):
            best = la
        else:
            for a in self.by_queue[c.queue]:
                if a.can_take(c.channel):
                    key = (a.load_fraction(c.channel), a.idle_since, a.id)
                    if best_key is None or key < best_key:
                        best, best_key = a, key
        if best is not None:
            self._pop_waiting(c.queue, c)
            self._assign(t, c, best)

    def _pop_waiting(self, queue: str, c: Contact) -> None:
        # c was just pushed, or is the head: mark it taken (its entry becomes stale), clean the head.
        c.state = "routing"
        self._head(queue)

    def _head(self, queue: str) -> Contact | None:
        h = self.waiting[queue]
        while h:
            c, no = h[0][3], h[0][4]
            if c.state == "waiting" and c.wait_no == no and c.queue == queue:
                return c
            heapq.heappop(h)
        return None

    def _fill(self, t: float, a: Agent) -> None:
        """Give the agent waiting work while it can take some: oldest wait first, voice first."""
        while True:
            best = None
            best_key = None
            for q in a.skills:
                ch = self.queues[q].channel
                if not a.can_take(ch):
                    continue
                c = self._head(q)
                if c is None:
                    continue
                key = (_CHANNEL_ORDER[ch], -c.priority, c.wait_since, c.id)
                if best_key is None or key < best_key:
                    best, best_key = c, key
            if best is None:
                return
            self._pop_waiting(best.queue, best)
            self._assign(t, best, a)

    def _assign(self, t: float, c: Contact, a: Agent) -> None:
        c.agent = a
        c.last_agent = a
        c.waited_s += t - c.wait_since
        self.dirty[a.id] = a
        self.emit(t, "contact.assigned", c.id, {"agent": a.id})
        rng, b = self.rng, self.b
        if c.channel == "voice":
            c.state = "ringing"
            a.voice = c
            self.at(t + _lognormal(rng, b.voice_ring), self._voice_answer, c)
        elif c.channel == "chat":
            c.state = "ringing"
            a.chats.append(c)
            self.at(t + _lognormal(rng, b.chat_accept), self._chat_answer, c)
        else:
            c.state = "assigned"
            a.inbox.append(c)
            if a.email_active is None:
                self._email_open_next(t, a)

    def _abandon(self, t: float, c: Contact) -> None:
        if c.state == "waiting" and not c.answered:
            c.state = "abandoned"
            self.emit(t, "contact.abandoned", c.id, {})

    # -- voice ----------------------------------------------------------------------------------
    def _voice_answer(self, t: float, c: Contact) -> None:
        rng, b = self.rng, self.b
        a = c.agent
        c.state = "connected"
        c.answered = True
        self.emit(t, "contact.answered", c.id, {"agent": a.id})
        talk = _lognormal(rng, b.voice_talk)
        others = self.same_channel[c.queue]
        if others and c.transfers == 0 and rng.random() < b.transfer_share:
            self.at(t + talk * rng.uniform(0.15, 0.5), self._voice_transfer, c, rng.choice(others))
            return
        hold = 0.0
        if rng.random() < b.voice_hold_share:
            hold = _lognormal(rng, b.voice_hold)
            h0 = t + talk * rng.uniform(0.2, 0.8)
            self.at(h0, self._simple, c, "contact.held", True)
            self.at(h0 + hold, self._simple, c, "contact.resumed", True)
        if rng.random() < self.b.tag_share:
            self.at(t + talk * 0.5, self._tag, c)
        self.at(t + talk + hold, self._voice_close, c)

    def _simple(self, t: float, c: Contact, type_: str, with_agent: bool) -> None:
        self.emit(t, type_, c.id, {"agent": c.agent.id} if with_agent else {})

    def _tag(self, t: float, c: Contact) -> None:
        if c.state in ("closed", "abandoned"):
            return
        self.emit(t, "contact.tagged", c.id, {"tags": [self.rng.choice(_TAGS[c.channel])]})

    def _voice_transfer(self, t: float, c: Contact, to_queue: str) -> None:
        a = c.agent
        a.voice = None
        self._after_voice(t, a)
        c.transfers += 1
        self.emit(t, "contact.transferred", c.id, {"to_queue": to_queue})
        c.queue = to_queue
        self._enqueue(t, c)

    def _voice_close(self, t: float, c: Contact) -> None:
        a = c.agent
        a.voice = None
        self._close(t, c, a)
        self._after_voice(t, a)

    def _after_voice(self, t: float, a: Agent) -> None:
        a.acw = True
        a.idle_since = t
        self.dirty[a.id] = a
        self.at(t + _lognormal(self.rng, self.b.voice_acw), self._acw_end, a)

    def _acw_end(self, t: float, a: Agent) -> None:
        a.acw = False
        a.idle_since = t
        self.dirty[a.id] = a

    # -- chat -----------------------------------------------------------------------------------
    def _chat_answer(self, t: float, c: Contact) -> None:
        rng, b = self.rng, self.b
        a = c.agent
        c.state = "connected"
        if not c.answered:
            c.answered = True
            self.emit(t, "contact.answered", c.id, {"agent": a.id})
        self.emit(t, "contact.opened", c.id, {"agent": a.id})
        duration = _lognormal(rng, b.chat_duration)
        exchanges = 1 + min(6, int(rng.expovariate(1 / 2.0)))
        marks = sorted(rng.uniform(0.05, 0.95) * duration for _ in range(2 * exchanges - 1))
        steps = [(t + m, "contact.agent_replied" if i % 2 == 0 else "contact.customer_replied")
                 for i, m in enumerate(marks)]
        for ts, type_ in steps:
            self.at(ts, self._simple, c, type_, type_ == "contact.agent_replied")
        if rng.random() < b.tag_share:
            self.at(t + duration * 0.5, self._tag, c)
        self.at(t + duration, self._chat_close, c)

    def _chat_close(self, t: float, c: Contact) -> None:
        a = c.agent
        a.chats.remove(c)
        a.idle_since = t
        self.dirty[a.id] = a
        self._close(t, c, a)

    # -- email ----------------------------------------------------------------------------------
    def _email_open_next(self, t: float, a: Agent) -> None:
        if a.email_active is not None or not a.inbox:
            return
        rng, b = self.rng, self.b
        c = a.inbox.popleft()
        a.email_active = c
        c.state = "working"
        self.dirty[a.id] = a
        self.emit(t, "contact.opened", c.id, {"agent": a.id})
        handle = _lognormal(rng, b.email_handle)
        if c.rounds == 0 and rng.random() < b.tag_share:
            self.at(t + handle * 0.3, self._tag, c)
        others = self.same_channel[c.queue]
        if others and c.transfers == 0 and rng.random() < b.transfer_share:
            self.at(t + handle * 0.3, self._email_transfer, c, rng.choice(others))
        else:
            self.at(t + handle, self._email_reply, c)

    def _email_release(self, t: float, a: Agent) -> None:
        a.email_active = None
        a.idle_since = t
        self.dirty[a.id] = a
        self._email_open_next(t, a)

    def _email_transfer(self, t: float, c: Contact, to_queue: str) -> None:
        a = c.agent
        c.transfers += 1
        self.emit(t, "contact.transferred", c.id, {"to_queue": to_queue})
        c.queue = to_queue
        c.last_agent = None
        self._email_release(t, a)
        self._enqueue(t, c)

    def _email_reply(self, t: float, c: Contact) -> None:
        rng, b = self.rng, self.b
        a = c.agent
        c.rounds += 1
        self.emit(t, "contact.agent_replied", c.id, {"agent": a.id})
        p_close = b.email_close_after_reply + 0.15 * (c.rounds - 1)
        u = rng.random()
        if u < p_close:
            self._close(t, c, a)
        elif u < p_close + b.email_snooze_after_reply:
            until = t + _lognormal(rng, b.email_snooze)
            c.state = "snoozed"
            c.agent = None
            self.emit(t, "contact.snoozed", c.id, {"until": format_time(until)})
            self.at(until, self._wake, c, c.rounds)
        else:
            c.state = "with_customer"
            c.agent = None
            self.at(t + _lognormal(rng, b.email_customer_reply), self._customer_reply, c, c.rounds)
        self._email_release(t, a)

    def _wake(self, t: float, c: Contact, rounds: int) -> None:
        if c.state == "snoozed" and c.rounds == rounds:
            self._enqueue(t, c)

    def _customer_reply(self, t: float, c: Contact, rounds: int) -> None:
        if c.state == "with_customer" and c.rounds == rounds:
            self.emit(t, "contact.customer_replied", c.id, {})
            self._enqueue(t, c)

    # -- closing, CSAT, reopening -----------------------------------------------------------------
    def _close(self, t: float, c: Contact, a: Agent) -> None:
        rng, b = self.rng, self.b
        c.state = "closed"
        c.agent = None
        c.closes += 1
        self.emit(t, "contact.closed", c.id, {"agent": a.id, "resolution": "resolved"})
        if rng.random() < b.csat_share.get(c.channel, 0.0):
            self.at(t + _lognormal(rng, b.csat_after), self._rate, c, c.closes)
        if c.reopens == 0 and rng.random() < b.reopen_share.get(c.channel, 0.0):
            self.at(t + _lognormal(rng, b.reopen_after), self._reopen, c, c.closes)

    def _rate(self, t: float, c: Contact, closes: int) -> None:
        if c.state != "closed" or c.closes != closes:
            return
        weights = _CSAT_WEIGHTS
        if c.waited_s > 120:  # long waits make unhappier customers
            weights = (0.12, 0.1, 0.18, 0.3, 0.3)
        score = self.rng.choices((1, 2, 3, 4, 5), weights)[0]
        self.emit(t, "contact.rated", c.id, {"score": score})

    def _reopen(self, t: float, c: Contact, closes: int) -> None:
        if c.state != "closed" or c.closes != closes:
            return
        c.reopens += 1
        self.emit(t, "contact.reopened", c.id, {})
        self._enqueue(t, c)

    # -- agents: shifts, breaks, state ----------------------------------------------------------
    def _schedule_shifts(self) -> None:
        zone = self.cfg.zone
        first = (self.cfg.start.astimezone(zone) - timedelta(days=1)).date()
        last = self.cfg.end.astimezone(zone).date()
        rng = random.Random(f"{self.cfg.seed}:shifts")
        agents = iter(self.agents)
        for g in self.cfg.agents:
            for i in range(g.count):
                a = next(agents)
                day = first
                while day <= last:
                    jitter = rng.uniform(-300, 300)
                    breaks = [(2.0 * 3600 + rng.uniform(-900, 900), "break", 900.0),
                              (g.shift_hours * 1800 + rng.uniform(-1200, 1200), "lunch", 1800.0),
                              ((g.shift_hours - 1.75) * 3600 + rng.uniform(-900, 900), "break", 900.0)]
                    if day.weekday() in g.days:
                        start = g.shift_start
                        if day.weekday() >= 5 and g.weekend_shift_start is not None:
                            start = g.weekend_shift_start
                        s = (datetime.combine(day, start, tzinfo=zone).timestamp()
                             + i * g.stagger_min * 60 + jitter)
                        e = s + g.shift_hours * 3600
                        if s <= self.t0 < e:
                            a.on_shift = True
                            a.idle_since = self.t0
                        elif self.t0 < s < self.t_end:
                            self.at(s, self._shift_start, a)
                        if self.t0 <= e < self.t_end:
                            self.at(e, self._shift_end, a)
                        for off, reason, dur in breaks:
                            if g.shift_hours >= (6 if reason == "lunch" else 4):
                                bt = s + off
                                if self.t0 <= bt < min(e - dur, self.t_end):
                                    self.at(bt, self._break_due, a, reason, dur, e)
                    day += timedelta(days=1)

    def _shift_start(self, t: float, a: Agent) -> None:
        a.on_shift = True
        a.pending = None
        a.away = ""
        a.idle_since = t
        self.dirty[a.id] = a

    def _shift_end(self, t: float, a: Agent) -> None:
        a.pending = ("offline",)
        self.dirty[a.id] = a

    def _break_due(self, t: float, a: Agent, reason: str, duration: float, shift_end: float) -> None:
        if a.on_shift and a.pending is None and not a.away:
            a.pending = ("away", reason, duration, shift_end)
            self.dirty[a.id] = a

    def _break_end(self, t: float, a: Agent) -> None:
        if a.away:
            a.away = ""
            a.idle_since = t
            self.dirty[a.id] = a

    def _settle(self, t: float) -> None:
        while self.dirty:
            batch = list(self.dirty.values())
            self.dirty.clear()
            for a in batch:
                if a.pending and a.load() == 0 and not a.acw:
                    p = a.pending
                    a.pending = None
                    if p[0] == "offline":
                        a.on_shift = False
                        a.away = ""
                    else:
                        _, reason, duration, shift_end = p
                        # a break that would run past the shift end is skipped
                        if t + duration < shift_end:
                            a.away = reason
                            self.at(t + duration, self._break_end, a)
                if a.on_shift and not a.away and not a.pending and not a.acw:
                    # the agent is free again (available, zero seconds when work waits), then takes work
                    self._emit_state(t, a)
                    self._fill(t, a)
                    self.dirty.pop(a.id, None)
                self._emit_state(t, a)

    def _emit_state(self, t: float, a: Agent) -> None:
        if not a.on_shift:
            state, reason = "offline", ""
        elif a.away:
            state, reason = "away", a.away
        elif a.load() > 0:
            state, reason = "busy", ""
        elif a.acw:
            state, reason = "after_contact_work", ""
        else:
            state, reason = "available", ""
        if state != a.state or reason != a.reason:
            a.state, a.reason = state, reason
            self.emit(t, "agent.state_changed", a.id,
                      {"state": state, "reason": reason, "capacity": dict(a.capacity)})


def simulate(config: SimConfig | None = None) -> Iterator[dict]:
    """Yield the envelope dicts of a simulated run, in event-time order."""
    return Simulator(config or SimConfig()).run()
