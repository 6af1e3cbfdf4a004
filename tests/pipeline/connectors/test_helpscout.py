"""Help Scout webhook bodies -> events (pure). Fixtures: Help Scout's PHP SDK payloads and the
webhook docs' Rating example (fixtures/README.md says where each comes from)."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.live import contact_state
from pipeline.connectors.helpscout import (
    HelpScoutPayloadError, map_webhook, signature, signature_ok,
)
from pipeline.schemas.validation import Rejection, validate_obj

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2017, 4, 21, 15, 0, tzinfo=timezone.utc)


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def conversation(**changes) -> dict:
    body = load("helpscout_conversation.json")
    body.update(changes)
    return body


def events(event: str, body) -> list[dict]:
    mapped = map_webhook(event, body, NOW)
    for e in mapped.events:
        assert not isinstance(validate_obj(e), Rejection), (e, validate_obj(e))
    return mapped.events


def test_signature_like_the_sdk():
    # helpscout-api-php tests/Webhooks/IncomingWebhookTest.php: base64(hmac_sha1(body, secret, raw))
    body = json.dumps({"id": 123}).encode()
    sig = signature(body, "asdffdsa")
    assert signature_ok(body, "asdffdsa", sig)
    assert not signature_ok(body, "asdffdsa", "asdfasdfasdfasdf")
    assert not signature_ok(body + b" ", "asdffdsa", sig)
    assert not signature_ok(body, "", sig) and not signature_ok(body, "asdffdsa", None)


def test_created_from_sdk_conversation():
    (e,) = events("convo.created", conversation(status="active"))
    assert e["type"] == "contact.created" and e["subject"] == "helpscout-123"
    assert e["time"] == "2017-04-21T14:39:56.000Z"
    assert e["data"] == {"channel": "email", "queue": "mailbox-85", "tags": ["vip"],
                         "customer": "customer.one@example.test"}
    no_email = conversation(createdBy={"id": 12, "type": "customer"})
    assert events("convo.created", no_email)[0]["data"]["customer"] == "helpscout-customer-238604"
    (chat,) = events("convo.created", conversation(type="chat", mailbox={"id": 85, "name": "Support"}))
    assert chat["data"]["channel"] == "chat" and chat["data"]["queue"] == "Support"


def test_whole_conversation_folds():
    created = events("convo.created", conversation(status="active"))
    assigned = events("convo.assigned", conversation())
    assert assigned[0]["data"] == {"agent": "agent.one@example.test"}
    reply = conversation()
    thread = load("helpscout_thread.json") | {"id": 77, "type": "reply", "createdAt": "2017-04-21T14:41:00Z",
                                              "createdBy": {"id": 1, "type": "user", "email": "agent.two@example.test"}}
    reply["_embedded"]["threads"].insert(0, thread)
    agent = events("convo.agent.reply.created", reply)
    assert agent[0]["data"] == {"agent": "agent.two@example.test"} and agent[0]["id"] == "helpscout-123-thread-77"
    customer = events("convo.customer.reply.created", conversation())
    assert customer[0]["id"] == "helpscout-123-thread-1"
    closed = events("convo.status", conversation())
    assert closed[0]["type"] == "contact.closed" and closed[0]["time"] == "2017-04-21T14:43:24.000Z"
    assert closed[0]["data"] == {"resolution": "closed", "agent": "helpscout-user-17"}
    reopened = events("convo.status", conversation(status="active", userUpdatedAt="2017-04-21T14:50:00Z"))
    tagged = events("convo.tags", conversation(tags=[{"id": 1, "tag": "refund"}, {"id": 2, "tag": "vip"}],
                                               userUpdatedAt="2017-04-21T14:51:00Z"))
    moved = events("convo.moved", conversation(mailboxId=99, userUpdatedAt="2017-04-21T14:52:00Z"))
    assert moved[0]["data"] == {"to_queue": "mailbox-99"} and tagged[0]["data"] == {"tags": ["refund", "vip"]}
    rating = load("helpscout_rating.json") | {"ticketId": 123, "modifiedAt": "2017-04-21T14:53:00Z"}
    rated = events("satisfaction.ratings", rating)
    assert rated[0]["data"] == {"score": 5} and rated[0]["id"] == "helpscout-123-rated-5434"
    deleted = events("convo.deleted", {"id": 123})
    all_events = created + assigned + customer + agent + closed + reopened + tagged + moved + rated + deleted
    state = None
    for e in all_events:
        state, outcome = contact_state.apply(state, validate_obj(e))
        assert outcome.kind == "applied", (e, outcome)
    assert state.replies == 1 and state.reopened == 1 and state.csat == 5 and state.queue == "mailbox-99"
    assert state.ended and state.tags == ("refund", "vip")


@pytest.mark.parametrize("word,score", [("Great", 5), ("Okay", 3), ("Not Good", 1), ("Bad", 1)])
def test_rating_scores(word, score):
    assert events("satisfaction.ratings", load("helpscout_rating.json") | {"rating": word})[0]["data"] == {"score": score}


def test_redelivery_gives_the_same_ids():
    body = conversation()
    assert map_webhook("convo.status", body, NOW).events == map_webhook("convo.status", copy.deepcopy(body),
                                                                        datetime.now(timezone.utc)).events


def test_test_unknown_and_bad_bodies():
    assert map_webhook("helpscout.test", {"id": 123}, NOW).outcome == "test"
    for name in ("convo.note.created", "customer.created", "beacon.chat.created", "", "convo.merged"):
        mapped = map_webhook(name, conversation(), NOW)
        assert mapped.outcome == "ignored" and not mapped.events
    assert map_webhook("convo.status", conversation(status="pending"), NOW).outcome == "ignored"
    with pytest.raises(HelpScoutPayloadError) as err:
        map_webhook("convo.created", {"subject": "no id"}, NOW)
    assert err.value.field == "id"
    with pytest.raises(HelpScoutPayloadError, match="rating"):
        map_webhook("satisfaction.ratings", {"ticketId": 1, "rating": "meh"}, NOW)
    with pytest.raises(HelpScoutPayloadError):
        map_webhook("convo.created", [1, 2], NOW)


# any JSON body, for every mapped event: events that validate, or a HelpScoutPayloadError (a 400)
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402
from pipeline.connectors.helpscout import EVENTS  # noqa: E402

_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                     max_leaves=20)
_KEYS = st.sampled_from(["id", "mailboxId", "mailbox", "tags", "_embedded", "assignee", "createdBy", "createdAt",
                         "primaryCustomer", "status", "closedAt", "closedBy", "closedByUser", "userUpdatedAt",
                         "type", "ticketId", "rating", "threads"])


@hsettings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(EVENTS), st.one_of(_JSON, st.dictionaries(_KEYS, _JSON, max_size=8)))
def test_any_body_maps_or_is_a_payload_error(event, body):
    try:
        mapped = map_webhook(event, body, NOW)
    except HelpScoutPayloadError as exc:
        assert exc.field
        return
    for e in mapped.events:
        validate_obj(e)  # may be a Rejection (the route answers 400), never an exception
