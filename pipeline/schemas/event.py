"""The normalized event every stage after validation works with.

Validation (pipeline/schemas/validation.py) turns bytes into this; the contact state machine,
the live view and the ClickHouse row mapping consume it. Plain slotted dataclass, not frozen:
a frozen one sets each field through object.__setattr__, which made building it a sixth of
validation's cost. Treat it as read-only. No I/O, no pydantic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Event:
    id: str            # publisher-unique; the dedup key
    type: str          # e.g. "contact.created", "agent.state_changed"
    time: float        # event time, seconds since the Unix epoch (UTC)
    subject: str       # contact id, or agent id for agent events
    source: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    specversion: str = "1.0"

    @property
    def is_agent_event(self) -> bool:
        return self.type.startswith("agent.")
