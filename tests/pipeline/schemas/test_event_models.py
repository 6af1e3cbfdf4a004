"""Contract v1 models: every type accepted, each bad-input class rejected where it should be."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.schemas.envelope import EnvelopeV1
from pipeline.schemas.examples import EXAMPLE_TYPES, example
from pipeline.schemas.registry import DATA_MODELS_V1, EVENT_TYPES, REGISTRY, model_for

BRIEF_TYPES = {
    "contact.created", "contact.assigned", "contact.answered", "contact.opened",
    "contact.agent_replied", "contact.customer_replied", "contact.held", "contact.resumed",
    "contact.transferred", "contact.snoozed", "contact.tagged", "contact.closed",
    "contact.reopened", "contact.abandoned", "contact.rated", "agent.state_changed",
}


def test_registry_covers_exactly_the_brief_table():
    assert set(EVENT_TYPES) == BRIEF_TYPES
    assert set(EXAMPLE_TYPES) == BRIEF_TYPES
    assert set(REGISTRY) == {(t, "1") for t in BRIEF_TYPES}


@pytest.mark.parametrize("event_type", sorted(BRIEF_TYPES))
def test_every_type_accepts_its_example(event_type):
    m = model_for(event_type).model_validate(example(event_type))
    assert m.type == event_type
    assert isinstance(m, EnvelopeV1)
    assert isinstance(m.data, DATA_MODELS_V1[event_type])


def _errors(event_type, event):
    with pytest.raises(ValidationError) as info:
        model_for(event_type).model_validate(event)
    return [(".".join(map(str, e["loc"])), e["type"]) for e in info.value.errors()]


@pytest.mark.parametrize("bad", [
    {"specversion": "0.3"}, {"id": ""}, {"id": "x" * 129}, {"id": "a\nb"}, {"id": 7},
    {"subject": None}, {"source": ""}, {"time": "2024-05-01 09:30:00"},
    {"time": "2024-05-01T09:30:00"}, {"time": "1900-01-01T00:00:00Z"},
    {"time": "9999-01-01T00:00:00Z"}, {"time": 1714555800}, {"time": "2024-02-30T00:00:00Z"},
    {"datacontenttype": "text/xml"}, {"tablerover": "2"},
])
def test_envelope_rejects(bad):
    event = example("contact.reopened", **bad)
    field = next(iter(bad))
    assert field in [loc for loc, _ in _errors("contact.reopened", event)]


@pytest.mark.parametrize("name,value", [
    ("Subject", "c-1"), ("data_base64", "AAAA"), ("averyveryverylongextension", "x"),
    ("ext", {"a": 1}), ("ext", [1]), ("ext", 1.5), ("ext", 2**40), ("ext", None),
])
def test_unknown_top_level_attributes_rejected(name, value):
    event = example("contact.reopened")
    event[name] = value
    with pytest.raises(ValidationError, match=name):
        model_for("contact.reopened").model_validate(event)


@pytest.mark.parametrize("name,value", [("traceparent", "00-abc-01"), ("partitionkey", "k"), ("hops", 3), ("test", True)])
def test_extension_attributes_accepted(name, value):
    event = example("contact.reopened")
    event[name] = value
    m = model_for("contact.reopened").model_validate(event)
    assert m.__pydantic_extra__ == {name: value}


def test_unknown_data_keys_are_ignored():
    event = example("contact.rated")
    event["data"]["crm_ticket"] = {"nested": [1, 2]}
    m = model_for("contact.rated").model_validate(event)
    assert m.data.model_dump() == {"score": 5}


@pytest.mark.parametrize("event_type,data,loc", [
    ("contact.created", {"queue": "q"}, "data.channel"),
    ("contact.created", {"channel": "fax", "queue": "q"}, "data.channel"),
    ("contact.created", {"channel": "email", "queue": "q", "priority": -1}, "data.priority"),
    ("contact.created", {"channel": "email", "queue": "q", "priority": "1"}, "data.priority"),
    ("contact.created", {"channel": "email", "queue": "q", "priority": True}, "data.priority"),
    ("contact.created", {"channel": "email", "queue": "q", "tags": "vip"}, "data.tags"),
    ("contact.created", {"channel": "email", "queue": "q", "tags": ["ok", ""]}, "data.tags.1"),
    ("contact.created", {"channel": "email", "queue": ""}, "data.queue"),
    ("contact.assigned", {}, "data.agent"),
    ("contact.answered", {"agent": 12}, "data.agent"),
    ("contact.opened", {"agent": None}, "data.agent"),
    ("contact.agent_replied", {"agent": "a\x00"}, "data.agent"),
    ("contact.transferred", {}, "data"),
    ("contact.transferred", {"to_queue": None, "to_agent": None}, "data"),
    ("contact.snoozed", {"until": "2024-05-02T08:00:00"}, "data.until"),
    ("contact.snoozed", {}, "data.until"),
    ("contact.tagged", {}, "data.tags"),
    ("contact.rated", {"score": 0}, "data.score"),
    ("contact.rated", {"score": 6}, "data.score"),
    ("contact.rated", {"score": 4.0}, "data.score"),
    ("contact.rated", {"score": float("nan")}, "data.score"),
    ("agent.state_changed", {"state": "lunch"}, "data.state"),
    ("agent.state_changed", {"state": "away", "capacity": {"voice": -1}}, "data.capacity.voice"),
    ("agent.state_changed", {"state": "away", "capacity": {"fax": 1}}, "data.capacity.fax.[key]"),
    ("agent.state_changed", {"state": "away", "capacity": {"chat": float("inf")}}, "data.capacity.chat"),
    ("agent.state_changed", {"state": "away", "reason": "x" * 1025}, "data.reason"),
])
def test_data_rejects(event_type, data, loc):
    event = example(event_type, data=data)
    assert loc in [l for l, _ in _errors(event_type, event)]


def test_missing_data_reports_the_missing_field():
    event = example("contact.assigned")
    del event["data"]
    assert ("data.agent", "missing") in _errors("contact.assigned", event)


def test_wrong_type_literal_rejected():
    assert "type" in [l for l, _ in _errors("contact.closed", example("contact.reopened"))]


def test_tags_are_sorted_and_distinct():
    m = model_for("contact.tagged").model_validate(example("contact.tagged", data={"tags": ["b", "a", "b"]}))
    assert m.data.tags == ["a", "b"]


def test_time_keeps_its_instant():
    m = model_for("contact.closed").model_validate(example("contact.closed", time="2024-05-01T11:30:00.250+02:00"))
    assert m.time.timestamp() == pytest.approx(1714555800.25)
