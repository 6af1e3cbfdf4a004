"""`data` models of the contact.* event types (contract v1).

Unknown keys inside `data` are ignored (extra="ignore"), not rejected: publishers such as CRMs
attach their own fields, and a v1 consumer must keep accepting data that a newer publisher
enriched. Known keys are strict.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from pipeline.schemas.fields import Channel, EventTime, Id, Tags, Text


class _Data(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class ContactCreatedData(_Data):
    channel: Channel
    queue: Id
    customer: Id | None = None
    priority: Annotated[StrictInt, Field(ge=0, le=255)] = 0  # UInt8 in ClickHouse
    tags: Tags = []


class _AgentData(_Data):
    agent: Id


class ContactAssignedData(_AgentData):
    """Routing gave the contact to an agent (voice: ringing)."""


class ContactAnsweredData(_AgentData):
    """Voice/chat conversation connected."""


class ContactOpenedData(_AgentData):
    """An agent starts working an email/chat."""


class ContactAgentRepliedData(_AgentData):
    """An agent message to the customer."""


class ContactCustomerRepliedData(_Data):
    """A customer message; no fields."""


class ContactHeldData(_Data):
    """Voice hold; agent optional."""
    agent: Id | None = None


class ContactResumedData(_Data):
    agent: Id | None = None


class ContactTransferredData(_Data):
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["to_queue"], "properties": {"to_queue": {"type": "string"}}},
        {"required": ["to_agent"], "properties": {"to_agent": {"type": "string"}}},
    ]})

    to_queue: Id | None = None
    to_agent: Id | None = None

    @model_validator(mode="after")
    def _somewhere(self):
        if self.to_queue is None and self.to_agent is None:
            raise ValueError("needs to_queue, to_agent or both")
        return self


class ContactSnoozedData(_Data):
    until: EventTime


class ContactTaggedData(_Data):
    tags: Tags


class ContactClosedData(_Data):
    # optional: a system may close a contact (auto-close, spam) without an agent
    agent: Id | None = None
    resolution: Text | None = None


class ContactReopenedData(_Data):
    """No fields."""


class ContactAbandonedData(_Data):
    """The customer left before being answered; no fields."""


class ContactRatedData(_Data):
    score: Annotated[StrictInt, Field(ge=1, le=5)]
