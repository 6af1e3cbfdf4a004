"""Live view fan-out: newest merged view in, filtered views out to many websocket clients.

Design (issue 6):

* ``LiveHub.publish(view)`` is synchronous and O(subscribers) of cheap work only (bump a version,
  drop the serialisation cache, set one ``asyncio.Event`` per subscriber). It never awaits, never
  serialises, never touches a socket: a slow client cannot slow the publisher.
* Each subscriber has a single-slot "latest" mailbox: it remembers the version it last delivered
  and, when it is ready for more, takes whatever the hub holds *now*. Versions published while a
  client was busy sending are skipped, never queued, so memory per client is constant.
* ``filter_view`` is a pure function. Serialisation (orjson) happens at most once per
  (version, filter group); every client of a group shares the same encoded string.
* Must be used from one event loop (the API's). From another thread use ``publish_threadsafe``.

Visibility rules of ``filter_view`` (nothing about a hidden queue may leak):

* Queue rows the principal cannot see, or outside the client's subscription, are dropped.
* ``channels`` and ``total`` are recomputed from the visible rows only whenever any row was dropped
  (when nothing was dropped the pipeline's own aggregates are passed through unchanged).
* Agents: the event contract gives agents no queue membership (``agent.state_changed`` carries no
  queue), so an agent list cannot be scoped to queues. Agents (``agents`` and ``agent_states``) are
  therefore only included for unscoped principals (``principal.queues is None``); scoped principals
  get ``agents: []``, ``agent_states: {}`` and ``agents_hidden: true``.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import orjson

from supervisor_api.deps import Principal

# Keys of a queue row / aggregate that are plain counts (summed) and maxima.
SUM_KEYS = ("waiting", "inside_sl", "at_risk", "breached", "unassigned", "in_progress")
MAX_KEYS = ("oldest_wait_s",)
PERIOD_KEYS = ("today", "last_30m")
PERIOD_COUNT_KEYS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within_sl")
# Means weighted by the number of answered contacts (the best weight the view carries).
PERIOD_MEAN_KEYS = ("asa_s", "aht_s", "first_response_s")
MAX_WAITING_ITEMS = 50

EMPTY_VIEW: dict[str, Any] = {
    "generated_at": None,
    "site_tz": None,
    "queues": [],
    "channels": [],
    "total": {},
    "agents": [],
    "agent_states": {},
}


def _num(x: Any) -> float:
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else 0


def _aggregate_period(periods: list[dict]) -> dict:
    out: dict[str, Any] = {}
    for k in PERIOD_COUNT_KEYS:
        out[k] = sum(_num(p.get(k)) for p in periods)
    answered = out["answered"]
    for k in PERIOD_MEAN_KEYS:
        num = 0.0
        weight = 0.0
        for p in periods:
            v = p.get(k)
            w = _num(p.get("answered"))
            if isinstance(v, (int, float)) and w > 0:
                num += v * w
                weight += w
        out[k] = (num / weight) if weight > 0 else None
    # glossary: answered within threshold / (answered + abandoned after the short-abandon time)
    denom = answered + out["abandoned"] - out["short_abandoned"]
    out["service_level"] = (out["answered_within_sl"] / denom) if denom > 0 else None
    return out


def aggregate(rows: list[dict]) -> dict:
    """Aggregate queue rows into a channel/total row (sums, maxima, weighted means)."""
    out: dict[str, Any] = {}
    for k in SUM_KEYS:
        out[k] = sum(_num(r.get(k)) for r in rows)
    for k in MAX_KEYS:
        vals = [r.get(k) for r in rows if isinstance(r.get(k), (int, float))]
        out[k] = max(vals) if vals else None
    items: list[dict] = []
    for r in rows:
        items.extend(r.get("waiting_items") or ())
    items.sort(key=lambda i: -_num(i.get("wait_s")))
    out["waiting_items"] = items[:MAX_WAITING_ITEMS]
    for pk in PERIOD_KEYS:
        out[pk] = _aggregate_period([r.get(pk) or {} for r in rows])
    return out


def _norm(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset(v for v in values if isinstance(v, str) and v)


def filter_view(
    view: dict | None,
    principal: Principal,
    queues: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
) -> dict:
    """The part of `view` that `principal` may see, narrowed to the subscription.

    `queues` / `channels` None means "no narrowing"; an empty collection means "nothing".
    A subscribed queue the principal cannot see yields nothing (its existence is never revealed).
    """
    if view is None:
        view = EMPTY_VIEW
    q_sub = _norm(queues)
    c_sub = _norm(channels)
    rows_in = view.get("queues") or []
    rows = [
        r
        for r in rows_in
        if principal.can_see(r.get("queue"))
        and (q_sub is None or r.get("queue") in q_sub)
        and (c_sub is None or r.get("channel") in c_sub)
    ]
    dropped = len(rows) != len(rows_in)
    out: dict[str, Any] = {
        "generated_at": view.get("generated_at"),
        "site_tz": view.get("site_tz"),
        "queues": rows,
    }
    if not dropped and c_sub is None and view.get("total"):
        out["channels"] = view.get("channels") or []
        out["total"] = view.get("total") or {}
    else:
        by_channel: dict[str, list[dict]] = {}
        for r in rows:
            by_channel.setdefault(r.get("channel") or "", []).append(r)
        out["channels"] = [
            {"channel": ch, **aggregate(rs)} for ch, rs in sorted(by_channel.items())
        ]
        out["total"] = aggregate(rows)
    if principal.queues is None:
        out["agents"] = view.get("agents") or []
        out["agent_states"] = view.get("agent_states") or {}
    else:
        out["agents"] = []
        out["agent_states"] = {}
        out["agents_hidden"] = True
    return out


def dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


FilterKey = tuple[frozenset[str] | None, frozenset[str] | None, frozenset[str] | None]


class Subscriber:
    """One client: its principal, its subscription and a single-slot 'latest' mailbox."""

    __slots__ = ("hub", "principal", "queues", "channels", "_event", "_seen", "_need_snapshot",
                 "_next_heartbeat", "closed")

    def __init__(self, hub: LiveHub, principal: Principal,
                 queues: Iterable[str] | None = None, channels: Iterable[str] | None = None):
        self.hub = hub
        self.principal = principal
        self.queues = _norm(queues)
        self.channels = _norm(channels)
        self._event = asyncio.Event()
        self._seen = -1
        self._need_snapshot = True
        self._next_heartbeat = time.monotonic() + hub.heartbeat_s
        self.closed = False

    @property
    def key(self) -> FilterKey:
        return (self.principal.queues, self.queues, self.channels)

    def subscribe(self, queues: Iterable[str] | None, channels: Iterable[str] | None) -> None:
        """Change the subscription; the next message is a fresh snapshot."""
        self.queues = _norm(queues)
        self.channels = _norm(channels)
        self._need_snapshot = True
        self._event.set()

    def _wake(self) -> None:
        self._event.set()

    def pending(self) -> bool:
        return self._need_snapshot or self._seen < self.hub.version

    async def next_message(self) -> str:
        """Wait for the next message to send (snapshot, update or heartbeat) and return it as text.

        Takes the newest view at the moment it is called: anything published while the caller
        was busy sending the previous message is skipped (latest-wins mailbox).
        """
        while True:
            hub = self.hub
            if self._need_snapshot or self._seen < hub.version:
                kind = "snapshot" if self._need_snapshot else "update"
                self._need_snapshot = False
                self._seen = hub.version
                self._event.clear()
                return hub.message(kind, self.key)
            now = time.monotonic()
            if now >= self._next_heartbeat:
                self._next_heartbeat = now + hub.heartbeat_s
                return dumps({"type": "heartbeat", "t": time.time()})
            self._event.clear()
            if self.pending():  # published between the check and the clear
                continue
            try:
                await asyncio.wait_for(self._event.wait(), self._next_heartbeat - now)
            except TimeoutError:
                pass

    def close(self) -> None:
        self.closed = True
        self.hub.unsubscribe(self)


class LiveHub:
    """Holds the newest merged live view and fans it out to subscribers."""

    def __init__(self, heartbeat_s: float = 5.0):
        self.heartbeat_s = heartbeat_s
        self.view: dict | None = None
        self.version = 0
        self._subs: set[Subscriber] = set()
        # (version, filter key) -> serialised filtered view; cleared on every publish.
        self._cache: dict[FilterKey, str] = {}
        self.serializations = 0  # for tests and metrics: encodes since start

    # -- publishing -----------------------------------------------------------------------
    def publish(self, view: dict) -> None:
        """Store `view` as the newest and wake subscribers. Never blocks, never awaits."""
        self.view = view
        self.version += 1
        self._cache = {}
        for sub in self._subs:
            sub._wake()

    def publish_threadsafe(self, loop: asyncio.AbstractEventLoop, view: dict) -> None:
        loop.call_soon_threadsafe(self.publish, view)

    # -- subscribing ----------------------------------------------------------------------
    def subscribe(self, principal: Principal, queues: Iterable[str] | None = None,
                  channels: Iterable[str] | None = None) -> Subscriber:
        sub = Subscriber(self, principal, queues, channels)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    # -- views ----------------------------------------------------------------------------
    def snapshot(self, principal: Principal, queues: Iterable[str] | None = None,
                 channels: Iterable[str] | None = None) -> dict:
        return filter_view(self.view, principal, queues, channels)

    @staticmethod
    def filter_key(principal: Principal, queues: Iterable[str] | None = None,
                   channels: Iterable[str] | None = None) -> FilterKey:
        return (principal.queues, _norm(queues), _norm(channels))

    def view_json(self, key: FilterKey) -> str:
        """Serialised filtered view for a filter group, encoded once per published version."""
        s = self._cache.get(key)
        if s is None:
            pq, q, c = key
            principal = Principal(token_id="", role="", queues=pq)
            s = dumps(filter_view(self.view, principal, q, c))
            self._cache[key] = s
            self.serializations += 1
        return s

    def message(self, kind: str, key: FilterKey) -> str:
        return '{"type":"%s","view":%s}' % (kind, self.view_json(key))
