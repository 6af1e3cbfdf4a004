"""`data` model of agent.* event types (contract v1)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from pipeline.schemas.fields import AgentState, Channel, Text


class AgentStateChangedData(BaseModel):
    # unknown keys ignored, as for contact data (see contact_events.py)
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    state: AgentState
    reason: Text | None = None
    # None: the publisher did not say (its meaning is up to the agent state logic)
    capacity: dict[Channel, Annotated[StrictInt, Field(ge=0, le=10000)]] | None = None
