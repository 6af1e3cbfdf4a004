"""POST /api/v1/connectors/helpscout on the real app and the session's Kafka: signatures, the
test event, unknown events, bad bodies, and what lands in tablero.events (fixtures: Help Scout's
PHP SDK payloads, tests/pipeline/connectors/fixtures/README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from _app import create_topic, make_settings, read_topic, running_app
from pipeline.connectors.helpscout import signature
from supervisor_api.event_producer import events_topic

SECRET = "hs-secret-for-tests"
FIXTURES = Path(__file__).resolve().parents[1] / "pipeline" / "connectors" / "fixtures"
URL = "/api/v1/connectors/helpscout"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory, kafka_bootstrap, chdb_dir):
    settings = make_settings(tmp_path_factory.mktemp("helpscout"), kafka_bootstrap, chdb_dir, helpscout_secret=SECRET)
    create_topic(kafka_bootstrap, events_topic(settings))
    with running_app(settings) as (app, client):
        yield app, client, settings


def post(client, event: str, body: bytes, secret: str = SECRET, sig: str | None = None):
    headers = {"X-HelpScout-Event": event, "Content-Type": "application/json",
               "X-HelpScout-Signature": sig if sig is not None else signature(body, secret)}
    return client.post(URL, content=body, headers=headers)


def test_signed_webhooks_become_events(app_client, kafka_bootstrap):
    app, client, settings = app_client
    convo = json.loads((FIXTURES / "helpscout_conversation.json").read_text())
    convo["status"] = "active"
    body = json.dumps(convo).encode()
    r = post(client, "convo.created", body)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "mapped" and r.json()["published"] == 1
    assert post(client, "convo.created", body).status_code == 200  # Help Scout retried: same event id
    rating = (FIXTURES / "helpscout_rating.json").read_bytes()
    assert post(client, "satisfaction.ratings", rating).json()["published"] == 1
    records = [orjson.loads(r.value) for r in read_topic(kafka_bootstrap, events_topic(settings))]
    assert sorted((e["type"], e["id"]) for e in records) == [  # partition order, not send order
        ("contact.created", "helpscout-123-created"), ("contact.created", "helpscout-123-created"),
        ("contact.rated", "helpscout-1560011-rated-5434")]
    by_type = {e["type"]: e for e in records}
    assert by_type["contact.created"]["data"]["queue"] == "mailbox-85"
    assert by_type["contact.rated"]["data"] == {"score": 5}


def test_bad_signatures_are_401_and_nothing_is_published(app_client):
    _, client, _ = app_client
    body = (FIXTURES / "helpscout_conversation.json").read_bytes()
    assert post(client, "convo.created", body, secret="not-the-secret").status_code == 401
    assert post(client, "convo.created", body, sig="").status_code == 401
    assert client.post(URL, content=body, headers={"X-HelpScout-Event": "convo.created"}).status_code == 401
    tampered = post(client, "convo.created", body + b" ", sig=signature(body, SECRET))
    assert tampered.status_code == 401 and "TABLERO_HELPSCOUT_SECRET" in tampered.json()["detail"]


def test_test_event_unknown_events_and_bad_bodies(app_client):
    _, client, _ = app_client
    r = post(client, "helpscout.test", b'{"id": 123}')
    assert r.status_code == 200 and r.json()["outcome"] == "test" and r.json()["published"] == 0
    for _ in range(2):
        r = post(client, "convo.note.created", (FIXTURES / "helpscout_conversation.json").read_bytes())
    assert r.status_code == 200 and r.json()["outcome"] == "ignored"
    assert r.json()["counts"]["ignored:convo.note.created"] == 2
    bad = post(client, "convo.created", b'{"subject": "no id"}')
    assert bad.status_code == 400 and "'id'" in bad.json()["detail"]
    assert post(client, "convo.created", b"not json").status_code == 400


def test_no_secret_configured_is_503_naming_it(tmp_path, kafka_bootstrap, chdb_dir):
    settings = make_settings(tmp_path, kafka_bootstrap, chdb_dir)
    with running_app(settings) as (_, client):
        r = post(client, "helpscout.test", b"{}")
    assert r.status_code == 503 and "TABLERO_HELPSCOUT_SECRET" in r.json()["detail"]
