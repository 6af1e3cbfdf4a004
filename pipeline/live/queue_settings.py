"""Per-queue service-level settings, loaded from a TOML file (see config/queues.example.toml).

```toml
site_tz = "Europe/Madrid"            # optional; falls back to TABLERO_SITE_TZ

[channels.email]                     # optional: override a channel default
threshold_s = 28800

[queues.billing]
channel = "voice"
threshold_s = 20
at_risk_fraction = 0.8               # default 0.8
short_abandon_s = 5                  # default 5
sl_formula = "answered_and_late_abandons"   # default, see SL_FORMULAS
```

A queue is configured for one channel. `for_queue(queue, channel)` returns the queue's policy
when both match, else the channel default (voice 20 s, chat 60 s, email 4 h) under that queue
name: a queue that receives a channel it was not configured for still gets a sane threshold.

Errors name the key path: `queues.billing.threshold_s: must be > 0`.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from pipeline.calendars.zones import ZoneName

CHANNELS = ("voice", "chat", "email")
DEFAULT_THRESHOLDS = {"voice": 20.0, "chat": 60.0, "email": 14400.0}
DEFAULT_AT_RISK_FRACTION = 0.8
DEFAULT_SHORT_ABANDON_S = 5.0

# Service level = answered within threshold / denominator. The numerator is always the same.
SL_FORMULAS = {
    # answered + abandoned after the short-abandon time (glossary default)
    "answered_and_late_abandons": "within / (answered + abandoned - short_abandoned)",
    "answered_and_abandons": "within / (answered + abandoned)",
    "answered": "within / answered",
    "offered": "within / offered",
}
DEFAULT_SL_FORMULA = "answered_and_late_abandons"
SlFormula = Literal["answered_and_late_abandons", "answered_and_abandons", "answered", "offered"]
Channel = Literal["voice", "chat", "email"]


class QueueSettingsError(ValueError):
    """Invalid queue settings; one line per problem, each starting with the key path."""


@dataclass(slots=True, frozen=True)
class QueuePolicy:
    queue: str
    channel: str
    threshold_s: float
    at_risk_fraction: float
    short_abandon_s: float
    sl_formula: str
    at_risk_s: float  # at_risk_fraction * threshold_s, precomputed once: used on every item

    def sl_denominator(self, answered: int, abandoned: int, short_abandoned: int, offered: int) -> int:
        f = self.sl_formula
        if f == "answered_and_late_abandons":
            return answered + abandoned - short_abandoned
        if f == "answered_and_abandons":
            return answered + abandoned
        if f == "answered":
            return answered
        return offered


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelDefaults(_Strict):
    threshold_s: float | None = Field(None, gt=0)
    at_risk_fraction: float = Field(DEFAULT_AT_RISK_FRACTION, gt=0, le=1)
    short_abandon_s: float = Field(DEFAULT_SHORT_ABANDON_S, ge=0)
    sl_formula: SlFormula = DEFAULT_SL_FORMULA
    concurrency: int | None = Field(None, ge=1, le=50, description="planning: contacts an agent takes at once")


class QueueConfig(_Strict):
    channel: Channel
    threshold_s: float | None = Field(None, gt=0, description="None: the channel default")
    at_risk_fraction: float | None = Field(None, gt=0, le=1)
    short_abandon_s: float | None = Field(None, ge=0)
    sl_formula: SlFormula | None = None
    concurrency: int | None = Field(None, ge=1, le=50, description="planning: contacts an agent takes at once")


class QueueSettings(_Strict):
    site_tz: ZoneName = "UTC"
    channels: dict[Channel, ChannelDefaults] = Field(default_factory=dict)
    queues: dict[str, QueueConfig] = Field(default_factory=dict)
    _cache: dict = PrivateAttr(default_factory=dict)
    _tz: Any = PrivateAttr(default=None)


    @field_validator("queues")
    @classmethod
    def _names(cls, v: dict) -> dict:
        for name in v:
            if not name.strip():
                raise ValueError("queue names must not be empty")
        return v

    @property
    def tz(self) -> ZoneInfo:
        if self._tz is None:
            self._tz = ZoneInfo(self.site_tz)
        return self._tz

    def concurrency(self, queue: str, channel: str) -> int:
        """Planning: contacts an agent handles at once on (queue, channel); default 1."""
        q = self.queues.get(queue)
        if q is not None and q.channel == channel and q.concurrency:
            return q.concurrency
        d = self.channels.get(channel)
        return (d.concurrency if d is not None else None) or 1

    def for_queue(self, queue: str, channel: str) -> QueuePolicy:
        """Policy of (queue, channel); memoized, so the hot path is one dict lookup."""
        key = (queue, channel)
        p = self._cache.get(key)
        if p is None:
            p = self._cache[key] = self._build(queue, channel)
        return p

    def _build(self, queue: str, channel: str) -> QueuePolicy:
        d = self.channels.get(channel) or ChannelDefaults()
        threshold = d.threshold_s or DEFAULT_THRESHOLDS.get(channel, DEFAULT_THRESHOLDS["email"])
        frac, short, formula = d.at_risk_fraction, d.short_abandon_s, d.sl_formula
        q = self.queues.get(queue)
        if q is not None and q.channel == channel:
            threshold = q.threshold_s or threshold
            frac = q.at_risk_fraction if q.at_risk_fraction is not None else frac
            short = q.short_abandon_s if q.short_abandon_s is not None else short
            formula = q.sl_formula or formula
        return QueuePolicy(queue, channel, float(threshold), float(frac), float(short), formula,
                           float(frac) * float(threshold))

    def configured(self) -> list[tuple[str, str]]:
        """(queue, channel) of every configured queue: the wallboard shows them even when empty."""
        return sorted((name, q.channel) for name, q in self.queues.items())

    @classmethod
    def from_dict(cls, raw: dict, site_tz: str | None = None) -> "QueueSettings":
        raw = dict(raw)
        if site_tz and "site_tz" not in raw:
            raw["site_tz"] = site_tz
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise QueueSettingsError("invalid queue settings:\n  " + "\n  ".join(
                _line(e) for e in exc.errors(include_url=False))) from None

    @classmethod
    def from_toml(cls, text: str, site_tz: str | None = None) -> "QueueSettings":
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise QueueSettingsError(f"invalid queue settings: not TOML: {exc}") from None
        return cls.from_dict(raw, site_tz)


def load_queue_settings(path: str | Path | None, site_tz: str | None = None) -> QueueSettings:
    """Settings from `path` (None: defaults only). `site_tz` applies when the file sets none."""
    if path is None:
        return QueueSettings.from_dict({}, site_tz)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise QueueSettingsError(f"cannot read queue settings {p}: {exc.strerror}") from None
    try:
        return QueueSettings.from_toml(text, site_tz)
    except QueueSettingsError as exc:
        raise QueueSettingsError(f"{p}: {exc}") from None


_MESSAGES = {
    "greater_than": lambda c: f"must be > {c['gt']:g}",
    "greater_than_equal": lambda c: f"must be >= {c['ge']:g}",
    "less_than_equal": lambda c: f"must be <= {c['le']:g}",
    "extra_forbidden": lambda c: "unknown key",
    "missing": lambda c: "required",
    "literal_error": lambda c: f"must be one of {c['expected']}",
}


def _line(err: dict) -> str:
    loc = err["loc"]
    if err["type"] == "literal_error" and loc and loc[-1] == "[key]":
        loc = loc[:-1]  # a bad key in channels: name the key itself
    path = ".".join(str(p) for p in loc if p != "[key]") or "(top level)"
    fmt = _MESSAGES.get(err["type"])
    msg = fmt(err.get("ctx") or {}) if fmt else err["msg"].removeprefix("Value error, ")
    return f"{path}: {msg}"
