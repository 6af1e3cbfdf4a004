"""The `tablero.alerts` topic's records, the book every API replica keeps from them, and the
delivery bookkeeping of an episode. Pure.

Records (compacted topic, one partition):

* key ``e:<episode id>``: ``{"event": fired|resolved|acked|delivered|retry|undeliverable|test,
  "at": epoch s, "episode": Episode.to_dict()}``. Only the owner of the evaluation writes these. Each
  write carries the episode's next ``rev``; the sequence of records of a key is the episode's
  lifecycle, compaction keeps its newest state. A tombstone removes an old, finished episode.
* key ``ack:<episode id>``: ``{"by": who, "at": epoch s}``, written by whichever replica took
  ``POST /api/v1/alerts/{id}/ack`` or by ``tablero alerts ack``; the owner folds it into the
  episode (first acknowledgement wins) and writes an ``acked`` episode record.

Notifications (``episode.notifications``): one entry per (state, target), created ``pending``
in the same record that announces the transition (so a crash after that write still delivers it),
then ``delivered`` or, after the last attempt, ``undeliverable`` with the reason. A notification is
due when it is pending, its ``next_at`` has come and every earlier notification of its target is
final (a "resolved" never overtakes its "firing").
"""
from __future__ import annotations

import orjson

from pipeline.alerts.engine import FIRING, Episode

PENDING, DELIVERED, UNDELIVERABLE = "pending", "delivered", "undeliverable"


def episode_key(episode_id: str) -> bytes:
    return b"e:" + episode_id.encode()


def ack_key(episode_id: str) -> bytes:
    return b"ack:" + episode_id.encode()


def encode_episode(ep: Episode, event: str, at: float) -> bytes:
    return orjson.dumps({"event": event, "at": at, "episode": ep.to_dict()})


def encode_ack(who: str, at: float) -> bytes:
    return orjson.dumps({"by": who, "at": at})


def add_notifications(ep: Episode, state: str, now: float) -> None:
    """Queue one pending notification per target of `ep` for its `state` (firing | resolved)."""
    for target in ep.notify:
        ep.notifications.append({"state": state, "target": target, "status": PENDING, "attempts": 0,
                                 "next_at": now, "error": None, "at": None})


def due_notifications(ep: Episode, now: float) -> list[int]:
    """Indexes of `ep.notifications` that may be attempted at `now`."""
    out = []
    blocked: set[str] = set()
    for i, n in enumerate(ep.notifications):
        if n["status"] != PENDING:
            continue
        if n["target"] not in blocked and n["next_at"] <= now:
            out.append(i)
        blocked.add(n["target"])
    return out


def backoff_s(attempts: int, base: float, cap: float) -> float:
    """Wait before attempt `attempts + 1`: base, 2 base, 4 base, ... capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def record_attempt(ep: Episode, index: int, error: str | None, now: float, *, max_attempts: int,
                   base_s: float, cap_s: float) -> str:
    """Fold one delivery attempt's outcome; returns the lifecycle event (delivered | retry | undeliverable)."""
    n = ep.notifications[index]
    n["attempts"] += 1
    if error is None:
        n.update(status=DELIVERED, at=now, error=None)
        return DELIVERED
    n["error"] = error
    if n["attempts"] >= max_attempts:
        n.update(status=UNDELIVERABLE, at=now)
        return UNDELIVERABLE
    n["next_at"] = now + backoff_s(n["attempts"], base_s, cap_s)
    return "retry"


def finished(ep: Episode) -> bool:
    return ep.state != FIRING and all(n["status"] != PENDING for n in ep.notifications)


class Book:
    """Every episode known from the topic (newest rev wins) and the acknowledgement requests."""

    def __init__(self) -> None:
        self.episodes: dict[str, Episode] = {}
        self.acks: dict[str, tuple[str, float]] = {}
        self.rev: dict[str, int] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if not key:
            return
        if key.startswith(b"e:"):
            eid = key[2:].decode()
            if value is None:
                self.episodes.pop(eid, None)
                self.rev.pop(eid, None)
                self.acks.pop(eid, None)
                return
            try:
                ep = Episode.from_dict(orjson.loads(value)["episode"])
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return
            if eid not in self.episodes or ep.rev > self.rev.get(eid, -1):
                self.episodes[eid] = ep
                self.rev[eid] = ep.rev
        elif key.startswith(b"ack:"):
            eid = key[4:].decode()
            if value is None:
                self.acks.pop(eid, None)
                return
            try:
                d = orjson.loads(value)
                self.acks.setdefault(eid, (str(d["by"]), float(d["at"])))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                return

    def put(self, ep: Episode) -> None:
        """The owner's own write, applied before it comes back from the topic."""
        self.episodes[ep.id] = ep
        self.rev[ep.id] = ep.rev

    def view(self, ep: Episode) -> dict:
        """An episode for display: a pending ack request shows as acknowledged."""
        d = ep.to_dict()
        if d["acked_by"] is None and ep.id in self.acks:
            d["acked_by"], d["acked_at"] = self.acks[ep.id]
        return d

    def active(self) -> list[Episode]:
        return sorted((e for e in self.episodes.values() if e.state == FIRING), key=lambda e: e.fired_at)

    def recent(self) -> list[Episode]:
        return sorted(self.episodes.values(), key=lambda e: e.fired_at, reverse=True)
