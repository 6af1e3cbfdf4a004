"""POST /api/v1/connectors/chatwoot against the real broker: token in the query, HMAC signature,
answers after Kafka acknowledged, 400 with the reason, ignored events."""
from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import orjson
import pytest

from _app import ADMIN_TOKEN, create_topic, make_settings, read_topic, running_app
from supervisor_api.event_producer import events_topic

DATA = Path(__file__).resolve().parents[1] / "data" / "chatwoot"  # real payloads; see the README there
CONV = orjson.loads((DATA / "conversation_created.json").read_bytes())
MSG = orjson.loads((DATA / "message_created_incoming.json").read_bytes())

SECRET = "cw-webhook-secret"
URL = f"/api/v1/connectors/chatwoot?token={ADMIN_TOKEN}"


@pytest.fixture(scope="module")
def env(tmp_path_factory, kafka_bootstrap, chdb_dir):
    settings = make_settings(tmp_path_factory.mktemp("chatwoot"), kafka_bootstrap, chdb_dir,
                             chatwoot_secret=SECRET, chatwoot_inboxes={"3": "Website chat"})
    topic = events_topic(settings)
    create_topic(kafka_bootstrap, topic)
    with running_app(settings, migrate=False) as (app, client):
        yield {"client": client, "topic": topic, "bootstrap": kafka_bootstrap}


def signed(body: bytes, ts: int | None = None, secret: str = SECRET) -> dict:
    ts = int(time.time()) if ts is None else ts
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Chatwoot-Timestamp": str(ts), "X-Chatwoot-Signature": f"sha256={sig}",
            "Content-Type": "application/json"}


def test_signed_conversation_created_lands_after_ack(env):
    body = orjson.dumps(CONV)
    r = env["client"].post(URL, content=body, headers=signed(body))
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "accepted", "event": "conversation_created", "events": ["chatwoot-207:created"]}
    on_topic = [orjson.loads(m.value) for m in read_topic(env["bootstrap"], env["topic"])]
    [created] = [e for e in on_topic if e["id"] == "chatwoot-207:created"]
    assert created["data"]["queue"] == "Website chat" and created["subject"] == "chatwoot-207"


def test_token_in_the_authorization_header_works_too(env):
    body = orjson.dumps(MSG)
    r = env["client"].post("/api/v1/connectors/chatwoot", content=body,
                           headers={**signed(body), "Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200 and r.json()["events"] == ["chatwoot-13098:customer_replied:77287"]


@pytest.mark.parametrize("headers, says", [
    (lambda b: {"Content-Type": "application/json"}, "required"),
    (lambda b: signed(b, ts=int(time.time()) - 3600), "away from now"),
    (lambda b: signed(b, secret="not-the-secret"), "does not match"),
    (lambda b: {**signed(b), "X-Chatwoot-Timestamp": "yesterday"}, "Unix time"),
])
def test_missing_stale_or_wrong_signature_is_401(env, headers, says):
    body = orjson.dumps(CONV)
    r = env["client"].post(URL, content=body, headers=headers(body))
    assert r.status_code == 401 and says in r.json()["detail"]


def test_no_token_is_401(env):
    body = orjson.dumps(CONV)
    r = env["client"].post("/api/v1/connectors/chatwoot", content=body, headers=signed(body))
    assert r.status_code == 401


@pytest.mark.parametrize("body, says", [
    (b"{not json", "not JSON"),
    (b'{"id": 1}', "event: missing"),
    (orjson.dumps({"event": "message_created", "id": 1, "message_type": "incoming",
                   "created_at": "2025-01-01T00:00:00Z"}), "conversation: missing"),
])
def test_malformed_body_is_400_with_the_reason(env, body, says):
    r = env["client"].post(URL, content=body, headers=signed(body))
    assert r.status_code == 400 and says in r.json()["detail"]


def test_events_tablero_does_not_use_are_acknowledged(env):
    body = orjson.dumps({"event": "contact_created", "id": 4, "name": "Casey Example"})
    r = env["client"].post(URL, content=body, headers=signed(body))
    assert r.status_code == 200 and r.json() == {"status": "ignored", "event": "contact_created", "events": []}
