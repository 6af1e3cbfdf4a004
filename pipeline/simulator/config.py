"""Simulator configuration (pydantic). Defaults make a small demo centre:

queues billing (voice), sales (voice), support (chat), backoffice (email); 12 agents in six groups
with shifts (weekday and weekend starts), skills and per-channel capacities (1 voice, 3 chats,
6 emails), staffed so that a default day has a realistic few percent of abandons.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Channel = Literal["voice", "chat", "email"]
CHANNELS: tuple[str, ...] = ("voice", "chat", "email")


class QueueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    channel: Channel
    volume_per_day: float = Field(ge=0, description="Expected arrivals on an average weekday.")
    day_factors: tuple[float, float, float, float, float, float, float] | None = Field(
        None, description="Volume factor Monday..Sunday; None: the channel's default (curves.DAY_FACTORS).")


class AgentGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=32, description="Agent ids are agent-<name>-<n>.")
    count: int = Field(ge=0, le=10000)
    skills: tuple[str, ...] = Field(min_length=1, description="Queue names the agents serve.")
    shift_start: time = time(8, 0)
    weekend_shift_start: time | None = Field(None, description="Shift start on Saturday/Sunday; None: shift_start.")
    shift_hours: float = Field(8.0, gt=0, le=16)
    stagger_min: float = Field(0.0, ge=0, le=720, description="Agent i of the group starts i * stagger later.")
    days: tuple[int, ...] = Field((0, 1, 2, 3, 4), description="Working weekdays, 0 = Monday.")
    capacity: dict[str, int] = Field(default_factory=lambda: {"voice": 1, "chat": 3, "email": 6})

    @field_validator("days")
    @classmethod
    def _days(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 or d > 6 for d in v):
            raise ValueError("days are 0 (Monday) .. 6 (Sunday)")
        return tuple(sorted(set(v)))

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, v: dict[str, int]) -> dict[str, int]:
        for ch, n in v.items():
            if ch not in CHANNELS or n < 0:
                raise ValueError(f"capacity keys are {CHANNELS}, values >= 0 (got {ch}={n})")
        return v


class Behaviour(BaseModel):
    """How customers and agents behave. Times in seconds; lognormal laws given as (mean, cv)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    voice_talk: tuple[float, float] = (270.0, 1.0)      # ~4.5 min; the 1999 bank data has cv 1.2
    voice_acw: tuple[float, float] = (35.0, 0.6)
    voice_ring: tuple[float, float] = (6.0, 0.4)
    voice_patience: tuple[float, float] = (150.0, 1.0)
    voice_hold_share: float = 0.15
    voice_hold: tuple[float, float] = (45.0, 0.7)
    chat_duration: tuple[float, float] = (480.0, 0.7)   # ~8 min conversation, agents run several
    chat_accept: tuple[float, float] = (8.0, 0.5)
    chat_patience: tuple[float, float] = (240.0, 1.0)
    email_handle: tuple[float, float] = (330.0, 0.8)    # one working session: open -> reply
    email_customer_reply: tuple[float, float] = (4 * 3600.0, 1.2)
    email_close_after_reply: float = 0.45   # agent closes right after a reply
    email_snooze_after_reply: float = 0.10  # agent snoozes after a reply
    email_snooze: tuple[float, float] = (20 * 3600.0, 0.5)
    transfer_share: float = 0.05            # contacts transferred to another queue of the channel
    reopen_share: dict[str, float] = Field(default_factory=lambda: {"voice": 0.0, "chat": 0.02, "email": 0.07})
    reopen_after: tuple[float, float] = (26 * 3600.0, 1.0)
    csat_share: dict[str, float] = Field(default_factory=lambda: {"voice": 0.15, "chat": 0.3, "email": 0.12})
    csat_after: tuple[float, float] = (600.0, 1.5)
    tag_share: float = 0.25
    high_priority_share: float = 0.05
    customers_per_contact: float = 4.0      # customer pool size per queue / daily volume (repeat callers)


def _default_queues() -> list[QueueConfig]:
    return [
        QueueConfig(name="billing", channel="voice", volume_per_day=160),
        QueueConfig(name="sales", channel="voice", volume_per_day=80),
        QueueConfig(name="support", channel="chat", volume_per_day=200),
        QueueConfig(name="backoffice", channel="email", volume_per_day=60),
    ]


def _default_agents() -> list[AgentGroup]:
    week = (0, 1, 2, 3, 4)
    return [
        AgentGroup(name="v-early", count=4, skills=("billing", "sales"), shift_start=time(7, 0),
                   weekend_shift_start=time(9, 30), shift_hours=8.5, stagger_min=45, days=week + (5,)),
        AgentGroup(name="v-late", count=2, skills=("billing", "sales"), shift_start=time(12, 0),
                   weekend_shift_start=time(9, 30), shift_hours=8.5, stagger_min=45, days=week + (6,)),
        AgentGroup(name="c-early", count=2, skills=("support",), shift_start=time(8, 0),
                   weekend_shift_start=time(10, 0), shift_hours=8.0, stagger_min=60, days=(0, 1, 2, 3, 4, 5, 6)),
        AgentGroup(name="c-late", count=2, skills=("support",), shift_start=time(13, 0),
                   shift_hours=8.0, stagger_min=60, days=(0, 1, 2, 3, 4, 5, 6)),
        AgentGroup(name="mail", count=1, skills=("backoffice",), shift_start=time(8, 30),
                   shift_hours=8.0, days=week),
        AgentGroup(name="blend", count=1, skills=("backoffice", "support"), shift_start=time(10, 0),
                   shift_hours=8.0, days=week),
    ]


class SimConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 1
    start: datetime = Field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))
    duration_s: float = Field(8 * 3600.0, gt=0, le=400 * 86400.0)
    tz: str = Field("UTC", description="IANA zone of the site: curves and shifts are local times.")
    queues: list[QueueConfig] = Field(default_factory=_default_queues, min_length=1)
    agents: list[AgentGroup] = Field(default_factory=_default_agents)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    source: str = "tablero-simulator"

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _check(self) -> "SimConfig":
        if self.start.tzinfo is None:
            object.__setattr__(self, "start", self.start.replace(tzinfo=ZoneInfo(self.tz)))
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError("queue names must be unique")
        groups = [g.name for g in self.agents]
        if len(set(groups)) != len(groups):
            raise ValueError("agent group names must be unique")
        for g in self.agents:
            unknown = set(g.skills) - set(names)
            if unknown:
                raise ValueError(f"agent group {g.name!r} has skills for unknown queues {sorted(unknown)}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start_epoch(self) -> float:
        return self.start.timestamp()

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    def run_tag(self) -> str:
        """Short digest of the whole configuration: prefixes event and contact ids, so two runs
        with different seeds, starts or settings never share an id, and one run always repeats them."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:8]

    def scaled(self, factor: float) -> "SimConfig":
        """The same centre `factor` times bigger: volumes and agent groups multiplied."""
        if factor == 1:
            return self
        queues = [q.model_copy(update={"volume_per_day": q.volume_per_day * factor}) for q in self.queues]
        agents = [g.model_copy(update={"count": max(1, round(g.count * factor))}) for g in self.agents]
        return self.model_copy(update={"queues": queues, "agents": agents})
