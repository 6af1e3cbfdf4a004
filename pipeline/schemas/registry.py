"""(type, version) -> envelope model: the single place that says which events exist.

Version is the `tablerover` CloudEvents extension attribute (absent = "1"). To add a v2 of a
type, define its data model, build the envelope with `_event_model(type, DataV2, version="2")`
and add it under (type, "2"): v1 publishers, which send no `tablerover`, keep being accepted by
the v1 model, and validation dispatches on the pair before any model runs.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, create_model

from pipeline.schemas import agent_events as a
from pipeline.schemas import contact_events as c
from pipeline.schemas.envelope import DEFAULT_VERSION, EnvelopeV1

DATA_MODELS_V1: dict[str, type[BaseModel]] = {
    "contact.created": c.ContactCreatedData,
    "contact.assigned": c.ContactAssignedData,
    "contact.answered": c.ContactAnsweredData,
    "contact.opened": c.ContactOpenedData,
    "contact.agent_replied": c.ContactAgentRepliedData,
    "contact.customer_replied": c.ContactCustomerRepliedData,
    "contact.held": c.ContactHeldData,
    "contact.resumed": c.ContactResumedData,
    "contact.transferred": c.ContactTransferredData,
    "contact.snoozed": c.ContactSnoozedData,
    "contact.tagged": c.ContactTaggedData,
    "contact.closed": c.ContactClosedData,
    "contact.reopened": c.ContactReopenedData,
    "contact.abandoned": c.ContactAbandonedData,
    "contact.rated": c.ContactRatedData,
    "agent.state_changed": a.AgentStateChangedData,
}

EVENT_TYPES: tuple[str, ...] = tuple(DATA_MODELS_V1)


def _class_name(event_type: str, version: str) -> str:
    words = event_type.replace(".", "_").split("_")
    return "".join(w.capitalize() for w in words) + f"EventV{version}"


def _event_model(event_type: str, data_model: type[BaseModel], version: str = "1") -> type[EnvelopeV1]:
    required = any(f.is_required() for f in data_model.model_fields.values())
    # `data` may be omitted for types without required fields (customer_replied, reopened...);
    # validate_default makes a missing `data` report the missing inner field instead.
    data_field = Field(default_factory=dict, validate_default=True) if required else Field(default_factory=data_model)
    fields: dict = {
        "type": (Literal[event_type], Field(description="Event type.")),  # type: ignore[valid-type]
        "data": (data_model, data_field),
    }
    if version != DEFAULT_VERSION:  # later versions must say so; only v1 may omit tablerover
        fields["tablerover"] = (Literal[version], Field(description="Contract version of `data`."))  # type: ignore[valid-type]
    return create_model(
        _class_name(event_type, version),
        __base__=EnvelopeV1,
        __doc__=f"CloudEvents 1.0 event `{event_type}`, Tablero contract v{version}.",
        **fields,
    )


REGISTRY: dict[tuple[str, str], type[EnvelopeV1]] = {
    (t, DEFAULT_VERSION): _event_model(t, m) for t, m in DATA_MODELS_V1.items()
}


def model_for(event_type: str, version: str = DEFAULT_VERSION) -> type[EnvelopeV1] | None:
    return REGISTRY.get((event_type, version))
