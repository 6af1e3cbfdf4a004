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
calendar = "office"                  # business calendar (default: calendars.default, else 24/7)
clock = "business"                   # SL threshold measured in "calendar" (default) or "business" time
resolution_target_s = 86400          # resolution SLA target (optional)

[calendars.office]                   # business hours (pipeline/calendars/business_time.py)
tz = "Europe/Madrid"                 # default: site_tz
hours = { mon = ["08:00-14:00", "15:00-18:00"], fri = ["08:00-15:00"] }   # days left out: closed
holidays = ["2026-12-24"]            # closed all day
public_holidays = { country = "ES", subdiv = "MD" }
days = { "2026-12-31" = ["09:00-13:00"] }   # a date's own hours ([] = closed)
```
A calendar named `default` applies to every queue without `calendar`.

A queue is configured for one channel. `for_queue(queue, channel)` returns the queue's policy
when both match, else the channel default (voice 20 s, chat 60 s, email 4 h) under that queue
name: a queue that receives a channel it was not configured for still gets a sane threshold.

Errors name the key path: `queues.billing.threshold_s: must be > 0`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from pipeline.calendars.business_time import (
    WEEKDAYS, Calendar, CalendarError, always_open, normalize_blocks, parse_block)
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
Clock = Literal["calendar", "business"]
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
    # -- business hours (issue 14) --
    clock: str = "calendar"                 # "calendar" | "business": the SL threshold's time
    calendar: Calendar | None = None        # the queue's business calendar (24/7 when none is set)
    resolution_target_s: float | None = None

    @property
    def business(self) -> bool:
        return self.clock == "business"

    @property
    def sl_business_seconds(self):
        """The business-seconds function the SL threshold is judged in, or None for calendar
        seconds (calendar clock, or a business clock on a 24/7 calendar)."""
        cal = self.calendar
        if self.clock != "business" or cal is None or cal.always_open:
            return None
        return cal.business_seconds

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
    clock: Clock = "calendar"
    resolution_target_s: float | None = Field(None, gt=0)
    concurrency: int | None = Field(None, ge=1, le=50, description="planning: contacts an agent takes at once")


class PublicHolidays(_Strict):
    country: str = Field(min_length=2, max_length=3, description="ISO 3166-1 alpha-2, e.g. ES")
    subdiv: str | None = Field(None, description="region code of the holidays package, e.g. MD")


class CalendarConfig(_Strict):
    """Business hours. Weekdays not listed in `hours` are closed."""
    tz: ZoneName | None = None
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]] = Field(default_factory=dict)
    holidays: list[dt.date] = Field(default_factory=list)
    public_holidays: PublicHolidays | None = None
    days: dict[dt.date, list[str]] = Field(default_factory=dict)

    def build(self, name: str, site_tz: str) -> Calendar:
        where = f"calendars.{name}"
        week = tuple(normalize_blocks((parse_block(b, f"{where}.hours.{d}") for b in self.hours.get(d, ())),
                                      f"{where}.hours.{d}") for d in WEEKDAYS)
        days = {d: normalize_blocks((parse_block(b, f"{where}.days.{d}") for b in blocks), f"{where}.days.{d}")
                for d, blocks in self.days.items()}
        ph = self.public_holidays
        try:
            return Calendar(self.tz or site_tz, week, frozenset(self.holidays), days,
                            ph.country.upper() if ph else None, ph.subdiv if ph else None, name)
        except CalendarError as exc:
            raise CalendarError(f"{where}.{exc}") from None


class QueueConfig(_Strict):
    channel: Channel
    threshold_s: float | None = Field(None, gt=0, description="None: the channel default")
    at_risk_fraction: float | None = Field(None, gt=0, le=1)
    short_abandon_s: float | None = Field(None, ge=0)
    sl_formula: SlFormula | None = None
    calendar: str | None = Field(None, description="a key of [calendars]; None: calendars.default or 24/7")
    clock: Clock | None = None
    resolution_target_s: float | None = Field(None, gt=0)
    concurrency: int | None = Field(None, ge=1, le=50, description="planning: contacts an agent takes at once")


class QueueSettings(_Strict):
    site_tz: ZoneName = "UTC"
    channels: dict[Channel, ChannelDefaults] = Field(default_factory=dict)
    queues: dict[str, QueueConfig] = Field(default_factory=dict)
    calendars: dict[str, CalendarConfig] = Field(default_factory=dict)
    _cache: dict = PrivateAttr(default_factory=dict)
    _tz: Any = PrivateAttr(default=None)
    _calendars: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_calendars(self) -> "QueueSettings":
        try:
            built = {n: c.build(n, self.site_tz) for n, c in self.calendars.items()}
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        for name, q in self.queues.items():
            if q.calendar is not None and q.calendar not in built:
                raise ValueError(f"queues.{name}.calendar: no calendar {q.calendar!r} "
                                 f"(define [calendars.{q.calendar}]; defined: {sorted(built) or 'none'})")
        return self

    def calendar_for(self, queue: str) -> Calendar:
        """The queue's business calendar: its own, else calendars.default, else 24/7 in site_tz."""
        q = self.queues.get(queue)
        name = q.calendar if q is not None and q.calendar else "default"
        cals = self._calendars
        if not cals:
            cals.update({n: c.build(n, self.site_tz) for n, c in self.calendars.items()})
            cals["\0always"] = always_open(self.site_tz)
        return cals.get(name) or cals["\0always"]

    @property
    def version(self) -> str:
        """Definition version: a short hash of the settings' canonical form (what they mean, not
        how the file is written). History rows carry it (contacts.settings_version)."""
        v = self._cache.get("\0version")
        if v is None:
            canon = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
            v = self._cache["\0version"] = hashlib.sha256(canon.encode()).hexdigest()[:12]
        return v


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
        clock, target = d.clock, d.resolution_target_s
        q = self.queues.get(queue)
        if q is not None and q.channel == channel:
            threshold = q.threshold_s or threshold
            frac = q.at_risk_fraction if q.at_risk_fraction is not None else frac
            short = q.short_abandon_s if q.short_abandon_s is not None else short
            formula = q.sl_formula or formula
            clock = q.clock or clock
            target = q.resolution_target_s or target
        return QueuePolicy(queue, channel, float(threshold), float(frac), float(short), formula,
                           float(frac) * float(threshold), clock, self.calendar_for(queue),
                           None if target is None else float(target))

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
    "date_from_datetime_parsing": lambda c: "must be a date like 2026-12-24",
    "date_parsing": lambda c: "must be a date like 2026-12-24",
}


def _line(err: dict) -> str:
    loc = err["loc"]
    if err["type"] == "literal_error" and loc and loc[-1] == "[key]":
        loc = loc[:-1]  # a bad key in channels: name the key itself
    path = ".".join(str(p) for p in loc if p != "[key]") or "(top level)"
    fmt = _MESSAGES.get(err["type"])
    msg = fmt(err.get("ctx") or {}) if fmt else err["msg"].removeprefix("Value error, ")
    if not loc and msg.split(":", 1)[0].replace(".", "").replace("_", "").isalnum():
        return msg  # a model-level check whose message already starts with the key path
    return f"{path}: {msg}"
