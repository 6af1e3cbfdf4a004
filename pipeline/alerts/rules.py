"""Alert rules: the model of the rules file (TABLERO_ALERTS_FILE, TOML) and its validation. Pure.

A rules file is a list of ``[[rules]]`` tables. Three kinds:

* ``kind = "queue"`` (the default): a numeric field of the merged live view compared with a
  threshold. ``metric`` names the field: a queue row's ``waiting``, ``inside_sl``, ``at_risk``,
  ``breached``, ``oldest_wait_s``, ``unassigned``, ``in_progress``, or a window's field as
  ``today.<f>`` / ``last_30m.<f>`` (``offered``, ``answered``, ``abandoned``, ``short_abandoned``,
  ``answered_within_sl``, ``service_level`` (a fraction, 0.8 = 80 %), ``asa_s``, ``aht_s``,
  ``first_response_s``), or ``agents.<state>`` (agents available, busy, ... for the whole site).
  ``per`` says what one episode watches: ``"queue"`` (each queue row, narrowed by ``queue`` /
  ``channel``; neither = every queue), ``"channel"`` (each channel's aggregate) or ``"total"``
  (the site; required for ``agents.*``: agents belong to no queue in the event contract).
* ``kind = "contact"`` with ``untouched_for_s``: an open contact (assigned or waiting) with no agent
  activity for that long fires an episode naming it; ``escalate_to`` is carried in the notification.
* ``kind = "contact"`` with ``rating_at_most`` (1..4): a contact rated at or below it within the last
  ``rating_within_s`` (default 24 h) fires an episode naming the contact and the agent.

Validation errors name the rule (by its ``name`` or its position) and the field, and say what to do.
"""
from __future__ import annotations

import operator
import tomllib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROW_FIELDS = ("waiting", "inside_sl", "at_risk", "breached", "oldest_wait_s", "unassigned", "in_progress")
WINDOW_FIELDS = ("offered", "answered", "abandoned", "short_abandoned", "answered_within_sl",
                 "service_level", "asa_s", "aht_s", "first_response_s")
WINDOWS = ("today", "last_30m")
AGENT_STATES = ("offline", "available", "busy", "after_contact_work", "away")
QUEUE_METRICS = (ROW_FIELDS + tuple(f"{w}.{f}" for w in WINDOWS for f in WINDOW_FIELDS)
                 + tuple(f"agents.{s}" for s in AGENT_STATES))
SEVERITIES = ("info", "warning", "critical")
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
TARGET_SCHEMES = ("webhook", "slack", "email")


class RulesError(ValueError):
    """The rules file is not valid; the message has one line per problem, naming rule and field."""


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["queue", "contact"] = "queue"
    queue: str | None = None
    channel: Literal["voice", "chat", "email"] | None = None
    severity: Literal["info", "warning", "critical"] = "warning"
    notify: tuple[str, ...] = ()
    # queue rules
    metric: str | None = None
    per: Literal["queue", "channel", "total"] = "queue"
    op: Literal[">", ">=", "<", "<="] = ">"
    threshold: float | None = None
    for_s: float = Field(0, ge=0)
    clear: float | None = None
    cooldown_s: float = Field(0, ge=0)
    # contact rules
    untouched_for_s: float | None = Field(None, gt=0)
    escalate_to: str | None = None
    rating_at_most: int | None = Field(None, ge=1, le=4)
    rating_within_s: float = Field(86400, gt=0)

    @field_validator("notify")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            scheme, sep, rest = t.partition(":")
            if not sep or scheme not in TARGET_SCHEMES or not rest:
                raise ValueError(f"{t!r} is not a target: use webhook:http(s)://..., slack:https://... "
                                 "or email:someone@example.com")
            if scheme in ("webhook", "slack") and not rest.startswith(("http://", "https://")):
                raise ValueError(f"{t!r}: a {scheme} target is {scheme}:http(s)://host/path")
            if scheme == "email" and "@" not in rest:
                raise ValueError(f"{t!r}: an email target is email:someone@example.com")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "Rule":
        if self.kind == "queue":
            if self.metric is None:
                raise ValueError("metric: a queue rule needs a metric, e.g. metric = \"oldest_wait_s\"")
            if self.metric not in QUEUE_METRICS:
                raise ValueError(f"metric: {self.metric!r} is not a numeric field of the live view; "
                                 f"use one of {', '.join(QUEUE_METRICS)}")
            if self.threshold is None:
                raise ValueError("threshold: a queue rule needs a threshold")
            if self.metric.startswith("agents.") and self.per != "total":
                raise ValueError("per: agents belong to no queue; agents.* metrics need per = \"total\"")
            if self.per == "total" and (self.queue or self.channel):
                raise ValueError("per: per = \"total\" watches the whole site; drop queue/channel")
            if self.per == "channel" and self.queue:
                raise ValueError("per: per = \"channel\" watches channel aggregates; drop queue")
            if self.clear is not None:
                upward = self.op in (">", ">=")
                if (upward and self.clear > self.threshold) or (not upward and self.clear < self.threshold):
                    side = "at or below" if upward else "at or above"
                    raise ValueError(f"clear: with op {self.op!r} clear must be {side} the threshold "
                                     f"({self.threshold:g}); it is the value the metric must pass back")
            for f in ("untouched_for_s", "escalate_to", "rating_at_most"):
                if getattr(self, f) is not None:
                    raise ValueError(f"{f}: only for kind = \"contact\" rules")
        else:
            if (self.untouched_for_s is None) == (self.rating_at_most is None):
                raise ValueError("untouched_for_s: a contact rule needs exactly one of untouched_for_s "
                                 "(e.g. 86400) or rating_at_most (e.g. 2)")
            for f in ("metric", "threshold", "clear"):
                if getattr(self, f) is not None:
                    raise ValueError(f"{f}: only for kind = \"queue\" rules")
            if self.for_s:
                raise ValueError("for_s: only for kind = \"queue\" rules; a contact rule fires when "
                                 "untouched_for_s is reached or the rating arrives")
            if self.per != "queue":
                raise ValueError("per: only for kind = \"queue\" rules")
        return self

    # -- evaluation helpers (kept here so every kind reads the same way) ---------------------
    @property
    def trigger_op(self):
        return OPS[self.effective_op]

    @property
    def effective_op(self) -> str:
        if self.kind == "contact":
            return ">=" if self.untouched_for_s is not None else "<="
        return self.op

    @property
    def effective_threshold(self) -> float:
        if self.kind == "contact":
            return self.untouched_for_s if self.untouched_for_s is not None else float(self.rating_at_most)
        return self.threshold

    @property
    def clear_value(self) -> float:
        return self.effective_threshold if self.clear is None else self.clear

    @property
    def contact_kind(self) -> str | None:
        if self.kind != "contact":
            return None
        return "untouched" if self.untouched_for_s is not None else "rating"


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> "RuleSet":
        seen: set[str] = set()
        for r in self.rules:
            if r.name in seen:
                raise ValueError(f"name: two rules are called {r.name!r}; names identify alert episodes, "
                                 "make them unique")
            seen.add(r.name)
        return self


def _rule_label(raw: object, index: int) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"rule {name!r}" if isinstance(name, str) and name else f"rule #{index + 1}"


def parse_rules(data: dict, source: str = "rules") -> RuleSet:
    """Validate a parsed TOML document; RulesError names each bad rule and field."""
    if not isinstance(data, dict):
        raise RulesError(f"{source}: expected a table with [[rules]]")
    unknown = set(data) - {"rules"}
    if unknown:
        raise RulesError(f"{source}: unknown top-level key(s) {sorted(unknown)}; only [[rules]] tables")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RulesError(f"{source}: `rules` must be an array of tables ([[rules]])")
    problems: list[str] = []
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        label = _rule_label(raw, i)
        try:
            rules.append(Rule.model_validate(raw))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                if not loc and ":" in msg.split(" ")[0]:
                    loc, _, msg = msg.partition(": ")
                problems.append(f"{source}: {label}, field {loc or '?'}: {msg}")
    if problems:
        raise RulesError("\n".join(problems))
    try:
        return RuleSet(rules=tuple(rules))
    except ValidationError as exc:
        raise RulesError("\n".join(f"{source}: {e['msg'].removeprefix('Value error, ')}"
                                   for e in exc.errors())) from None


def parse_rules_toml(text: str, source: str = "rules") -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from None
    return parse_rules(data, source)
