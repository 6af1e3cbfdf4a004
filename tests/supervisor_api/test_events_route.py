"""Issue 3: POST /api/v1/events against the real broker (kafka_bootstrap), read back with
kafka-python: what is acknowledged is on the topic with key = subject and value = the event JSON;
every item of a body gets one result; whole-request limits; Kafka down; a property test."""
from __future__ import annotations

import socket

import orjson
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from _app import ADMIN_TOKEN, create_topic, make_settings, read_topic, running_app
from pipeline.schemas.examples import EXAMPLE_TYPES, example
from supervisor_api.event_producer import EventProducer, events_topic

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NDJSON = {**H, "Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def env(tmp_path_factory, kafka_bootstrap, chdb_dir):
    settings = make_settings(tmp_path_factory.mktemp("ingest"), kafka_bootstrap, chdb_dir)
    topic = events_topic(settings)
    create_topic(kafka_bootstrap, topic)
    with running_app(settings, migrate=False) as (app, client):
        yield {"app": app, "client": client, "topic": topic, "bootstrap": kafka_bootstrap, "settings": settings}


def on_topic(env, ids) -> dict[str, list]:
    """Records of the topic whose event id is in `ids`: id -> [(key, value dict)]."""
    out: dict[str, list] = {}
    for rec in read_topic(env["bootstrap"], env["topic"]):
        value = orjson.loads(rec.value)
        if value.get("id") in ids:
            out.setdefault(value["id"], []).append((rec.key, value))
    return out


def ev(eid: str, event_type: str = "contact.created", **kw) -> dict:
    subject = kw.pop("subject", f"s-{eid}")
    if event_type not in EXAMPLE_TYPES:  # an unknown type on an otherwise valid envelope
        return example("contact.created", id=eid, subject=subject, type=event_type, **kw)
    return example(event_type, id=eid, subject=subject, **kw)


def test_one_event_is_on_the_topic_keyed_by_subject(env):
    e = ev("one-1", subject="contact-42")
    r = env["client"].post("/api/v1/events", content=orjson.dumps(e), headers=H)
    assert r.status_code == 202
    assert r.json() == {"accepted": 1, "rejected": 0, "results": [{"index": 0, "id": "one-1", "status": "accepted"}]}
    got = on_topic(env, {"one-1"})
    assert got == {"one-1": [(b"contact-42", e)]}


def test_json_array_and_agent_key(env):
    events = [ev("arr-1"), ev("arr-2", "contact.answered", subject="s-arr-1"),
              ev("arr-3", "agent.state_changed", subject="agent-7")]
    r = env["client"].post("/api/v1/events", content=orjson.dumps(events),
                           headers={**H, "Content-Type": "application/cloudevents-batch+json"})
    assert r.status_code == 202 and r.json()["accepted"] == 3
    got = on_topic(env, {"arr-1", "arr-2", "arr-3"})
    assert {k: [key for key, _ in v] for k, v in got.items()} == {
        "arr-1": [b"s-arr-1"], "arr-2": [b"s-arr-1"], "arr-3": [b"agent-7"]}
    assert [got[e["id"]][0][1] for e in events] == events


def test_ndjson_with_blank_lines(env):
    events = [ev(f"nd-{i}") for i in range(3)]
    body = b"\n".join(orjson.dumps(e) for e in events[:2]) + b"\n\n" + orjson.dumps(events[2]) + b"\n"
    r = env["client"].post("/api/v1/events", content=body, headers=NDJSON)
    assert r.status_code == 202
    assert [x["id"] for x in r.json()["results"]] == ["nd-0", "nd-1", "nd-2"]
    assert set(on_topic(env, {"nd-0", "nd-1", "nd-2"})) == {"nd-0", "nd-1", "nd-2"}


def test_mixed_valid_and_invalid_is_207_per_event(env):
    bad_time = ev("mx-2")
    bad_time["time"] = "2024-05-01T09:30:00"  # no zone
    items = [ev("mx-1"), bad_time, ev("mx-3", "contact.nonsense"), 42, ev("mx-5"),
             {k: v for k, v in ev("mx-6", "contact.answered").items() if k != "data"}]
    r = env["client"].post("/api/v1/events", content=orjson.dumps(items), headers=H)
    assert r.status_code == 207
    body = r.json()
    assert body["accepted"] == 2 and body["rejected"] == 4
    res = body["results"]
    assert [x["index"] for x in res] == list(range(6))
    assert [x["status"] for x in res] == ["accepted", "rejected", "rejected", "rejected", "accepted", "rejected"]
    assert res[1]["id"] == "mx-2" and res[1]["code"] == "invalid_field" and res[1]["field"] == "time"
    assert res[2]["code"] == "unknown_type" and res[2]["field"] == "type" and "contact.nonsense" in res[2]["reason"]
    assert res[3]["code"] == "not_object" and "id" not in res[3]
    assert res[5]["code"] == "invalid_field" and res[5]["field"].startswith("data") and res[5]["reason"]
    got = on_topic(env, {f"mx-{i}" for i in range(1, 7)})
    assert set(got) == {"mx-1", "mx-5"}  # rejected ones never reach Kafka


@pytest.mark.parametrize("body,ctype,code", [
    (b'{"specversion": "1.0", "id": ', "application/json", "malformed_json"),
    (b'{"id": "\xff\xfe"}', "application/json", "not_utf8"),
    (b"42", "application/json", "not_object"),
    (b'"an event"', "application/json", "not_object"),
    (b"", "application/json", "malformed_json"),
    (b'{"a": NaN}', "application/json", "malformed_json"),
])
def test_whole_body_unusable_is_400_with_one_item(env, body, ctype, code):
    r = env["client"].post("/api/v1/events", content=body, headers={**H, "Content-Type": ctype})
    assert r.status_code == 400
    data = r.json()
    assert data["accepted"] == 0 and data["rejected"] == 1
    assert data["results"][0]["code"] == code and data["results"][0]["index"] == 0


def test_all_invalid_is_400(env):
    items = [ev("ai-1", "contact.bogus"), {"id": "ai-2"}]
    r = env["client"].post("/api/v1/events", content=orjson.dumps(items), headers=H)
    assert r.status_code == 400 and r.json()["rejected"] == 2
    bad_line = b'{"broken\n' + orjson.dumps(ev("ai-3", "contact.bogus"))
    r = env["client"].post("/api/v1/events", content=bad_line, headers=NDJSON)
    assert r.status_code == 400
    first = r.json()["results"][0]
    assert first["code"] == "malformed_json" and first["reason"].startswith("line 1:")
    assert on_topic(env, {"ai-1", "ai-2", "ai-3"}) == {}


def test_unknown_type_and_time_without_zone_alone(env):
    r = env["client"].post("/api/v1/events", content=orjson.dumps(ev("ut-1", "contact.exploded")), headers=H)
    assert r.status_code == 400 and r.json()["results"][0]["code"] == "unknown_type"
    e = ev("tz-1", time="2024-05-01 09:30:00")
    r = env["client"].post("/api/v1/events", content=orjson.dumps(e), headers=H)
    res = r.json()["results"][0]
    assert r.status_code == 400 and res["code"] == "invalid_field" and res["field"] == "time"


def test_two_megabyte_event_is_rejected_too_large_per_event(env):
    """docs/events.md: an event over TABLERO_MAX_EVENT_BYTES is a per-event `too_large`
    rejection (its neighbours still go through); 413 is only for the whole body/count limits."""
    big = ev("big-1", data={"channel": "email", "queue": "billing", "tags": ["x" * (2 * 1024 * 1024)]})
    r = env["client"].post("/api/v1/events", content=orjson.dumps(big), headers=H)
    assert r.status_code == 400
    res = r.json()["results"][0]
    assert res["code"] == "too_large" and "65536" in res["reason"]
    r = env["client"].post("/api/v1/events", content=orjson.dumps([big, ev("big-2")]), headers=H)
    assert r.status_code == 207
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "accepted"]
    r = env["client"].post("/api/v1/events", content=orjson.dumps(big) + b"\n" + orjson.dumps(ev("big-3")),
                           headers=NDJSON)
    assert r.status_code == 207 and r.json()["results"][0]["code"] == "too_large"
    assert set(on_topic(env, {"big-1", "big-2", "big-3"})) == {"big-2", "big-3"}


def test_hundred_thousand_events_is_413_naming_the_limit(env):
    c = env["client"]
    tiny = b"[" + b",".join([b"{}"] * 100_000) + b"]"  # small body: the count limit answers
    r = c.post("/api/v1/events", content=tiny, headers=H)
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert "100000 events" in detail and "TABLERO_MAX_EVENTS_PER_REQUEST" in detail and "10000" in detail
    lines = b"\n".join(orjson.dumps(ev(f"hk-{i}")) for i in range(100_000))  # ~25 MB: the body limit
    r = c.post("/api/v1/events", content=lines, headers=NDJSON)
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert "TABLERO_MAX_BODY_BYTES" in detail and "TABLERO_MAX_EVENTS_PER_REQUEST" in detail
    assert on_topic(env, {"hk-0", "hk-99999"}) == {}


def test_same_id_twice_is_accepted_both_times_dedup_is_in_the_worker(env):
    e = ev("dup-1")
    for _ in range(2):
        assert env["client"].post("/api/v1/events", content=orjson.dumps(e), headers=H).status_code == 202
    r = env["client"].post("/api/v1/events", content=orjson.dumps([e, e]), headers=H)
    assert r.status_code == 202 and r.json()["accepted"] == 2
    assert len(on_topic(env, {"dup-1"})["dup-1"]) == 4


def test_kafka_unavailable_is_503_with_retry_after_and_nothing_accepted(env):
    app, c = env["app"], env["client"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # bound, never listening: connections are refused
        saved = app.state.event_producer
        app.state.event_producer = EventProducer(f"127.0.0.1:{closed_port}", env["topic"], timeout_s=2)
        try:
            r = c.post("/api/v1/events", content=orjson.dumps([ev("down-1"), ev("down-2")]), headers=H)
            assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
            assert "nothing was accepted" in r.json()["detail"] and "results" not in r.json()
            # invalid-only bodies need no Kafka: still answered per event
            r = c.post("/api/v1/events", content=b"42", headers=H)
            assert r.status_code == 400
        finally:
            c.portal.call(app.state.event_producer.stop)
            app.state.event_producer = saved
    assert on_topic(env, {"down-1", "down-2"}) == {}
    # the broker is back (the real producer): the same request goes through
    r = c.post("/api/v1/events", content=orjson.dumps([ev("down-1"), ev("down-2")]), headers=H)
    assert r.status_code == 202


# --- property: every item is accounted for, no 5xx ---------------------------------------------
_json = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
                     max_leaves=8)
_keys = ["specversion", "id", "source", "type", "time", "subject", "data", "tablerover", "extra"]


@st.composite
def mutated_event(draw):
    e = example(draw(st.sampled_from(EXAMPLE_TYPES)), id=f"prop-{draw(st.integers(0, 10**9))}")
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(_keys))
        action = draw(st.sampled_from(["drop", "set", "text"]))
        if action == "drop":
            e.pop(key, None)
        elif action == "set":
            e[key] = draw(_json)
        else:
            e[key] = draw(st.text(max_size=30))
    return e


@st.composite
def body_and_count(draw):
    kind = draw(st.sampled_from(["bytes", "one", "array", "ndjson"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=200))
        try:
            parsed = orjson.loads(raw)
            n = len(parsed) if isinstance(parsed, list) else 1
        except orjson.JSONDecodeError:
            n = 1
        return raw, "application/json", n
    if kind == "one":
        return orjson.dumps(draw(mutated_event())), "application/json", 1
    items = draw(st.lists(st.one_of(mutated_event(), _json), max_size=8))
    if kind == "array":
        return orjson.dumps(items), "application/json", len(items)
    return b"\n".join(orjson.dumps(i) for i in items), "application/x-ndjson", len(items)


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(case=body_and_count())
def test_property_every_item_accounted_for(env, case):
    body, ctype, n = case
    r = env["client"].post("/api/v1/events", content=body, headers={**H, "Content-Type": ctype})
    assert r.status_code in (202, 207, 400), (r.status_code, r.text)
    data = r.json()
    results = data["results"]
    assert len(results) == n == data["accepted"] + data["rejected"]
    assert [x["index"] for x in results] == list(range(n))
    assert sum(x["status"] == "accepted" for x in results) == data["accepted"]
    for x in results:
        if x["status"] == "rejected":
            assert x["code"] and x["reason"]
    expected = 202 if data["rejected"] == 0 else (207 if data["accepted"] else 400)
    assert r.status_code == expected
