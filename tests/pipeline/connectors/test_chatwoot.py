"""Chatwoot webhook mapper: real payload shapes -> valid contract events, a legal conversation.

Fixtures and where they come from: tests/data/chatwoot/README.md.
"""
from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from pipeline.connectors.chatwoot import MAPPED_EVENTS, PayloadError, map_webhook
from pipeline.live.contact_state import replay
from pipeline.schemas.event import Event
from pipeline.schemas.validation import Rejection, validate_obj

DATA = Path(__file__).resolve().parents[2] / "data" / "chatwoot"
CONV = orjson.loads((DATA / "conversation_created.json").read_bytes())
MSG = orjson.loads((DATA / "message_created_incoming.json").read_bytes())
AGENT = {"id": 12, "name": "Ana Agent", "email": "ana@example.com", "type": "user"}
ASSIGNEE = {"id": 12, "name": "Ana Agent", "available_name": "Ana Agent", "avatar_url": "", "type": "user",
            "availability_status": "online", "thumbnail": ""}
T0 = 1747336240  # the real conversation's created_at


def conversation(event: str, *, status: str = "open", updated: float, assignee: dict | None = None,
                 changed: list | None = None, **extra) -> dict:
    p = copy.deepcopy(CONV)
    p.update(event=event, status=status, updated_at=updated, timestamp=int(updated), **extra)
    p["meta"]["assignee"] = assignee
    if changed is not None:
        p["changed_attributes"] = changed
    return p


def message(mid: int, at: str, *, mtype: str = "incoming", sender: dict | None = None, private: bool = False,
            first_reply: str | None = None, content_type: str = "text", event: str = "message_created",
            content_attributes: dict | None = None) -> dict:
    p = copy.deepcopy(MSG)
    conv = conversation("x", updated=T0 + 60)
    conv.pop("event")
    conv["first_reply_created_at"] = first_reply
    p.update(id=mid, created_at=at, message_type=mtype, private=private, conversation=conv,
             inbox={"id": 3, "name": "Website"}, content_type=content_type, event=event,
             content_attributes=content_attributes or {})
    p["sender"] = sender if sender is not None else copy.deepcopy(CONV["meta"]["sender"])
    return p


SEQUENCE = [
    copy.deepcopy(CONV),                                                               # created
    message(700, "2025-05-15T19:11:30.120Z"),                                         # customer writes
    message(701, "2025-05-15T19:11:31.000Z", mtype="activity", sender={}),            # "assigned to Ana"
    conversation("conversation_updated", updated=1747336291.25, assignee=ASSIGNEE,
                 changed=[{"assignee_id": {"previous_value": None, "current_value": 12}}]),
    message(702, "2025-05-15T19:11:40.000Z", mtype="outgoing", sender=AGENT, private=True),  # note
    message(703, "2025-05-15T19:12:10.500Z", mtype="outgoing", sender=AGENT,
            first_reply="2025-05-15T19:12:10.500Z"),                                  # first reply
    message(704, "2025-05-15T19:12:11.000Z", mtype="outgoing", sender={"id": 1, "name": "Bot", "type": "agent_bot"}),
    message(705, "2025-05-15T19:13:00.000Z", mtype="template", sender={}),
    message(706, "2025-05-15T19:14:20.000Z", mtype="outgoing", sender=AGENT,
            first_reply="2025-05-15T19:12:10.500Z"),                                  # second reply
    conversation("conversation_status_changed", status="resolved", updated=1747336500.0, assignee=ASSIGNEE,
                 changed=[{"status": {"previous_value": "open", "current_value": "resolved"}}]),
    message(707, "2025-05-15T19:30:05.500Z"),                                         # customer again
    conversation("conversation_status_changed", status="open", updated=1747337405.53, assignee=ASSIGNEE,
                 changed=[{"status": {"previous_value": "resolved", "current_value": "open"}}],
                 messages=[{"id": 707, "message_type": 0, "created_at": 1747337405, "private": False}]),
    conversation("conversation_status_changed", status="snoozed", updated=1747337500.0, assignee=ASSIGNEE,
                 snoozed_until="2025-05-16T08:00:00.000Z",
                 changed=[{"status": {"previous_value": "open", "current_value": "snoozed"}}]),
    message(708, "2025-05-15T20:00:00.000Z"),                                         # wakes it up
    message(709, "2025-05-15T20:01:00.000Z", mtype="outgoing", sender=AGENT,
            first_reply="2025-05-15T19:12:10.500Z"),
    conversation("conversation_status_changed", status="resolved", updated=1747339300.0, assignee=ASSIGNEE,
                 changed=[{"status": {"previous_value": "open", "current_value": "resolved"}}]),
    message(710, "2025-05-15T20:01:41.000Z", mtype="template", sender={}, content_type="input_csat",
            event="message_updated",
            content_attributes={"submitted_values": {"csat_survey_response": {"rating": 4,
                                                                              "feedback_message": "ok"}}}),
]


def _events(payloads) -> list[Event]:
    out = []
    for p in payloads:
        for raw in map_webhook(p) or []:
            ev = validate_obj(raw)
            assert isinstance(ev, Event), (ev, raw)
            out.append(ev)
    return out


def test_real_conversation_created():
    [ev] = _events([CONV])
    assert ev.type == "contact.created" and ev.subject == "chatwoot-207" and ev.time == T0
    assert ev.data == {"channel": "chat", "queue": "inbox-3", "customer": "chatwoot-contact-4",
                       "priority": 0, "tags": []}


def test_inbox_names_map_and_email_channel():
    p = copy.deepcopy(CONV)
    p.update(channel="Channel::Email", labels=["billing", "vip"], priority="high")
    [raw] = map_webhook(p, inbox_names={"3": "Billing mail"})
    assert raw["data"] == {"channel": "email", "queue": "Billing mail", "customer": "chatwoot-contact-4",
                           "priority": 3, "tags": ["billing", "vip"]}


def test_real_incoming_message_is_a_customer_reply():
    [ev] = _events([MSG])
    assert (ev.type, ev.subject, ev.id) == ("contact.customer_replied", "chatwoot-13098", "chatwoot-13098:customer_replied:77287")
    assert ev.time == pytest.approx(1752161782.262)


def test_a_whole_conversation_folds_legally():
    events = _events(SEQUENCE)
    kinds = [e.type.removeprefix("contact.") for e in events]
    assert kinds == ["created", "customer_replied", "assigned", "answered", "agent_replied", "agent_replied",
                     "closed", "customer_replied", "reopened", "snoozed", "customer_replied", "agent_replied",
                     "closed", "rated"]
    s = replay("chatwoot-207", events)
    assert s is not None and len(s.events) == len(events)  # every event applied, none parked
    assert s.first_assigned == 1747336291.25 and s.assignee == "Ana Agent"
    assert s.answered == pytest.approx(1747336330.5)  # the first agent reply answers the chat
    assert s.first_response == pytest.approx(1747336330.5)
    assert s.replies == 3 and s.customer_messages == 4 and s.reopened == 1
    assert s.closed == 1747339300.0 and s.csat == 4 and s.ended
    reopened = next(e for e in events if e.type == "contact.reopened")
    assert reopened.time == 1747337405  # dated at the reopening message's second, before the message


def test_redelivery_gives_the_same_ids():
    a = [e.id for e in _events(SEQUENCE)]
    assert a == [e.id for e in _events(SEQUENCE)] and len(set(a)) == len(a)


def test_first_reply_unknown_yet_answers():
    [answered, replied] = _events([message(800, "2025-05-15T19:12:10.500Z", mtype="outgoing", sender=AGENT)])
    assert answered.type == "contact.answered" and replied.type == "contact.agent_replied"


def test_email_replies_do_not_answer():
    p = message(801, "2025-05-15T19:12:10.500Z", mtype="outgoing", sender=AGENT)
    p["conversation"]["channel"] = "Channel::Email"
    assert [e.type for e in _events([p])] == ["contact.agent_replied"]


def test_saved_changes_form_of_changed_attributes():
    p = conversation("conversation_status_changed", status="open", updated=1747337405.53,
                     changed={"status": ["resolved", "open"]})
    assert [e["type"] for e in map_webhook(p)] == ["contact.reopened"]


@pytest.mark.parametrize("event", ["contact_created", "contact_updated", "webwidget_triggered",
                                   "conversation_typing_on", "conversation_typing_off"])
def test_other_events_are_ignored(event):
    assert map_webhook({"event": event, "id": 1}) is None


@pytest.mark.parametrize("status", ["pending", "open"])
def test_status_changes_that_say_nothing(status):
    p = conversation("conversation_status_changed", status=status, updated=T0 + 5,
                     changed=[{"status": {"previous_value": "pending" if status == "open" else "open",
                                          "current_value": status}}])
    assert map_webhook(p) == []


@pytest.mark.parametrize("payload, says", [
    ([1, 2], "JSON object"),
    ({"id": 1}, "event: missing"),
    ({"event": "message_created", "id": 5, "message_type": "incoming", "created_at": "2025-01-01T00:00:00Z"},
     "conversation: missing"),
    ({"event": "conversation_created", "inbox_id": 3, "created_at": 1747336240}, "conversation id"),
    ({"event": "conversation_created", "id": 9, "inbox_id": 3, "created_at": "yesterday"}, "created_at"),
    ({"event": "conversation_created", "id": 9, "created_at": 1747336240}, "inbox_id"),
])
def test_malformed_payloads_say_why(payload, says):
    with pytest.raises(PayloadError, match=says):
        map_webhook(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(event=st.sampled_from(sorted(MAPPED_EVENTS)), base=st.sampled_from([CONV, MSG]),
       key=st.sampled_from(["id", "created_at", "updated_at", "inbox_id", "labels", "priority", "meta", "status",
                            "conversation", "message_type", "sender", "changed_attributes", "snoozed_until",
                            "content_attributes", "content_type", "private", "messages", "inbox"]),
       value=json_values)
def test_any_shape_maps_or_says_why(event, base, key, value):
    p = copy.deepcopy(base)
    p["event"], p[key] = event, value
    try:
        out = map_webhook(p)
    except PayloadError:
        return
    for raw in out or []:
        assert isinstance(validate_obj(raw), (Event, Rejection))


def test_the_opening_message_is_the_creation_not_a_second_customer_message():
    opening = message(799, "2025-05-15T19:10:40.800Z")  # 0.8 s after the conversation was created
    assert map_webhook(opening) == []
    s = replay("chatwoot-207", _events([CONV, opening, *SEQUENCE[1:3]]))
    assert s.customer_messages == 2  # the creation (= the opening message) and message 700
