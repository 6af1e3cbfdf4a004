"""Alert evaluation: rules + the live view + contact facts at `now` -> episode transitions. Pure.

No I/O and no clock: `Engine.step(now, view, contacts)` is called with the time, so every
time-driven behaviour (for_s, cooldown, the 24-hour escalation) is tested by moving `now`.

Episodes. One rule watches many *scopes* (a queue row, a channel, the site, a contact). For each
(rule, scope) the engine keeps a track: when the condition started holding (`pending_since`), the
open episode if any, and when the last one resolved. An episode:

* **fires once**: when the condition has held for `for_s` (0 = at the first evaluation that sees it)
  and at least `cooldown_s` have passed since the previous episode of the same (rule, scope)
  resolved. Its id is derived from (rule, scope, fire time), so it is stable across processes.
* **resolves once**: when the value is no longer past `clear` (hysteresis; default: the threshold),
  e.g. op ">" threshold 3600 clear 1800 fires above 3600 and resolves only at or below 1800.
  A contact scope that disappears (closed, evicted, rating older than `rating_within_s`) resolves.
  A queue scope that disappears, or whose value is None (no data: e.g. service level with nothing
  answered), keeps its state: "no data" is neither a breach nor a recovery.
* **can be acknowledged** (who, when) while firing or after; the first acknowledgement wins.
* A rule removed from the file resolves its open episodes at the next step.

The engine's whole memory is rebuilt from episodes (`restore`): open ones become the tracks' open
episodes, resolved ones give the cooldown start. A condition that was pending (not yet `for_s`) at a
restart starts its `for_s` again from the first evaluation after it: at worst one `for_s` late,
never twice.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from pipeline.alerts.rules import OPS, Rule, RuleSet

FIRED, RESOLVED, ACKED = "fired", "resolved", "acked"
FIRING = "firing"


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """What contact rules need of one contact (pipeline.alerts.contacts builds it from the state)."""

    contact: str
    channel: str
    queue: str
    agent: str                       # current assignee, else the last agent who handled it
    open: bool
    untouched_since: float | None    # start of the current stretch without agent work; None: n/a
    snooze_until: float | None = None
    csat: int | None = None
    rated_at: float | None = None


@dataclass(slots=True)
class Episode:
    id: str
    rule: str
    kind: str                        # queue | untouched | rating
    scope: dict                      # queue/channel, channel, {} (site) or contact/agent/queue/channel
    scope_key: str
    severity: str
    metric: str
    op: str
    threshold: float
    value: float | None
    started_at: float                # when the condition began holding
    fired_at: float
    state: str = FIRING              # firing | resolved
    resolved_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    escalate_to: str | None = None
    notify: list = field(default_factory=list)
    notifications: list = field(default_factory=list)   # delivery bookkeeping (pipeline.alerts.records)
    rev: int = 0                                         # bumped by the owner at every write

    @property
    def queue(self) -> str | None:
        return self.scope.get("queue")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Episode":
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})


def episode_id(rule: str, scope_key: str, fired_at: float) -> str:
    raw = f"{rule}\x1f{scope_key}\x1f{round(fired_at * 1000)}".encode()
    return hashlib.sha1(raw).hexdigest()[:20]


@dataclass(slots=True)
class _Track:
    pending_since: float | None = None
    episode: Episode | None = None
    last_resolved: float | None = None


# -- samples: (scope_key -> (scope, value)) per rule ------------------------------------------

def metric_value(rule: Rule, row: dict, view: dict | None = None) -> float | None:
    m = rule.metric
    if m.startswith("agents."):
        v = ((view or {}).get("agent_states") or {}).get(m[7:], 0)
    elif "." in m:
        w, f = m.split(".", 1)
        v = (row.get(w) or {}).get(f)
    else:
        v = row.get(m)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _queue_samples(rule: Rule, view: dict) -> dict[str, tuple[dict, float | None]]:
    out: dict[str, tuple[dict, float | None]] = {}
    if rule.per == "total":
        out["site"] = ({}, metric_value(rule, view.get("total") or {}, view))
    elif rule.per == "channel":
        for r in view.get("channels") or ():
            c = r.get("channel")
            if rule.channel is None or c == rule.channel:
                out[f"channel:{c}"] = ({"channel": c}, metric_value(rule, r))
    else:
        for r in view.get("queues") or ():
            q, c = r.get("queue"), r.get("channel")
            if (rule.queue is None or q == rule.queue) and (rule.channel is None or c == rule.channel):
                out[f"queue:{q}/{c}"] = ({"queue": q, "channel": c}, metric_value(rule, r))
    return out


def _contact_samples(rule: Rule, contacts: Iterable[ContactFacts], now: float
                     ) -> dict[str, tuple[dict, float | None]]:
    out: dict[str, tuple[dict, float | None]] = {}
    untouched = rule.untouched_for_s is not None
    for f in contacts:
        if (rule.queue is not None and f.queue != rule.queue) or (rule.channel is not None and f.channel != rule.channel):
            continue
        if untouched:
            if not f.open or f.untouched_since is None:
                continue
            if f.snooze_until is not None and f.snooze_until > now:
                continue  # hidden until then by an agent's decision
            since = f.untouched_since if f.snooze_until is None else max(f.untouched_since, f.snooze_until)
            value = max(0.0, now - since)
        else:
            if f.csat is None or f.rated_at is None or f.rated_at > now or now - f.rated_at > rule.rating_within_s:
                continue
            value = float(f.csat)
        scope = {"contact": f.contact, "agent": f.agent, "queue": f.queue, "channel": f.channel}
        out[f"contact:{f.contact}"] = (scope, value)
    return out


class Engine:
    def __init__(self, rules: RuleSet | Iterable[Rule] = ()):
        self.rules: dict[str, Rule] = {}
        self.tracks: dict[tuple[str, str], _Track] = {}
        self.episodes: dict[str, Episode] = {}   # open episodes by id
        self.set_rules(rules)

    # -- configuration ----------------------------------------------------------------------
    def set_rules(self, rules: RuleSet | Iterable[Rule]) -> None:
        """Replace the rules. Tracks of rules that still exist (same name) are kept; open
        episodes of removed rules resolve at the next step."""
        items = rules.rules if isinstance(rules, RuleSet) else tuple(rules)
        self.rules = {r.name: r for r in items}

    def restore(self, episodes: Iterable[Episode]) -> None:
        """Rebuild the tracks from stored episodes (newest state of each id)."""
        for ep in episodes:
            tr = self.tracks.setdefault((ep.rule, ep.scope_key), _Track())
            if ep.state == FIRING:
                if tr.episode is None or tr.episode.fired_at < ep.fired_at:
                    tr.episode = ep
                    self.episodes[ep.id] = ep
            elif ep.resolved_at is not None and (tr.last_resolved is None or ep.resolved_at > tr.last_resolved):
                tr.last_resolved = ep.resolved_at

    # -- evaluation -------------------------------------------------------------------------
    def step(self, now: float, view: dict | None, contacts: Iterable[ContactFacts] | None
             ) -> list[tuple[str, Episode]]:
        """Evaluate every rule at `now`. `view` None: queue rules are skipped (nothing known yet);
        `contacts` None: contact rules are skipped. Returns (event, episode) transitions."""
        out: list[tuple[str, Episode]] = []
        contact_list = list(contacts) if contacts is not None else None
        for rule in self.rules.values():
            if rule.kind == "queue":
                if view is None:
                    continue
                samples, vanish_resolves = _queue_samples(rule, view), False
            else:
                if contact_list is None:
                    continue
                samples, vanish_resolves = _contact_samples(rule, contact_list, now), True
            self._evaluate(rule, samples, vanish_resolves, now, out)
        # episodes of rules that no longer exist
        for (name, key), tr in list(self.tracks.items()):
            if name not in self.rules:
                if tr.episode is not None:
                    out.append((RESOLVED, self._resolve(tr, now, tr.episode.value)))
                del self.tracks[(name, key)]
        return out

    def _evaluate(self, rule: Rule, samples: dict, vanish_resolves: bool, now: float, out: list) -> None:
        op = OPS[rule.effective_op]
        threshold = rule.effective_threshold
        clear = rule.clear_value
        for_s = rule.for_s if rule.kind == "queue" else 0.0
        cooldown = rule.cooldown_s
        keys = set(samples)
        keys.update(k for (n, k) in self.tracks if n == rule.name)
        for key in keys:
            sample = samples.get(key)
            tr = self.tracks.get((rule.name, key))
            if sample is None:
                if tr is None:
                    continue
                if tr.episode is not None and vanish_resolves:
                    out.append((RESOLVED, self._resolve(tr, now, None)))
                if vanish_resolves:
                    tr.pending_since = None
                if tr.episode is None and tr.pending_since is None and (
                        tr.last_resolved is None or now - tr.last_resolved >= cooldown):
                    del self.tracks[(rule.name, key)]  # nothing left to remember
                continue
            scope, value = sample
            if tr is None:
                tr = self.tracks[(rule.name, key)] = _Track()
            ep = tr.episode
            if ep is not None:
                if value is None:
                    continue
                ep.value = value
                if not op(value, clear):
                    out.append((RESOLVED, self._resolve(tr, now, value)))
                continue
            if value is None or not op(value, threshold):
                tr.pending_since = None
                continue
            if tr.pending_since is None:
                tr.pending_since = now
            if now - tr.pending_since < for_s:
                continue
            if tr.last_resolved is not None and now - tr.last_resolved < cooldown:
                continue
            ep = Episode(
                id=episode_id(rule.name, key, now), rule=rule.name,
                kind=rule.contact_kind or "queue", scope=dict(scope), scope_key=key,
                severity=rule.severity, metric=rule.metric or rule.contact_kind,
                op=rule.effective_op, threshold=threshold, value=value,
                started_at=tr.pending_since if rule.kind == "queue" else self._contact_start(rule, value, now),
                fired_at=now, escalate_to=rule.escalate_to, notify=list(rule.notify))
            tr.episode = ep
            self.episodes[ep.id] = ep
            out.append((FIRED, ep))

    @staticmethod
    def _contact_start(rule: Rule, value: float, now: float) -> float:
        # untouched: the condition began when the contact crossed the threshold
        if rule.untouched_for_s is not None:
            return now - value + rule.untouched_for_s
        return now

    def _resolve(self, tr: _Track, now: float, value: float | None) -> Episode:
        ep = tr.episode
        ep.state = "resolved"
        ep.resolved_at = now
        if value is not None:
            ep.value = value
        tr.episode = None
        tr.pending_since = None
        tr.last_resolved = now
        self.episodes.pop(ep.id, None)
        return ep

    # -- acknowledgement --------------------------------------------------------------------
    def ack(self, ep: Episode, who: str, at: float) -> bool:
        """Acknowledge `ep` (open or resolved). False when it was already acknowledged."""
        if ep.acked_by is not None:
            return False
        ep.acked_by = who
        ep.acked_at = at
        return True

    def open_episodes(self) -> list[Episode]:
        return sorted(self.episodes.values(), key=lambda e: e.fired_at)
