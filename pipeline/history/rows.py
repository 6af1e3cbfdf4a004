"""The rows one processed batch adds to history, per table (pure data: built by the worker's
batch step, landed by pipeline/history/landing.py). `dedup_token` makes a retried insert of the
same batch a no-op in ClickHouse."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Rows:
    events: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    agent_states: list[dict] = field(default_factory=list)
    dedup_token: str = ""

    def __bool__(self) -> bool:
        return bool(self.events or self.contacts or self.agent_states)

    def tables(self):
        yield "events", self.events
        yield "contacts", self.contacts
        yield "agent_states", self.agent_states
