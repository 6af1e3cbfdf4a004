"""Issue 3: the OpenAPI document is complete (summaries, documented errors) and the app keeps to
it: schemathesis (v4, ASGI) generates requests for every operation with an admin token and checks
no 5xx and that every response conforms to the documented status codes, content types and
schemas. Real app: chDB in a tmp dir, Kafka = the session broker (a 503 would be a failure)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from _app import ADMIN_TOKEN, create_topic, make_settings, running_app

from tests.contact_rows import fact
from pipeline.history import clickhouse_store as store
from supervisor_api.event_producer import events_topic
from _live_sample import make_view


@pytest.fixture(scope="module")
def app(tmp_path_factory, kafka_bootstrap, chdb_dir):
    settings = make_settings(tmp_path_factory.mktemp("openapi"), kafka_bootstrap, chdb_dir,
                             helpscout_secret="openapi-test-secret")
    create_topic(kafka_bootstrap, events_topic(settings))
    with running_app(settings) as (app, _client):
        app.state.live_hub.publish(make_view())
        app.state.warehouse.call_sync(store.insert_rows, "contacts", [
            fact("c1", "2024-03-04T09:00:00", queue="billing", channel="voice", agent="ana", agents=["ana"],
                 is_answered=1, wait_s=5.0, is_closed=1, handle_s=100.0, tags=["vip"], csat=4),
            fact("c2", "2024-03-05T10:00:00", queue="support", channel="email")])
        yield app


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


OPERATIONS = ["POST /api/v1/events", "GET /api/v1/live", "GET /api/v1/reports/queues",
              "GET /api/v1/reports/conversations", "GET /api/v1/reports/agents", "GET /api/v1/status",
              "GET /api/v1/planning/erlang", "GET /api/v1/planning/staffing",
              "POST /api/v1/connectors/chatwoot", "POST /api/v1/connectors/helpscout",
              "GET /api/v1/alerts", "POST /api/v1/alerts/{episode_id}/ack",
              "GET /api/v1/contacts", "GET /api/v1/contacts/{contact_id}",
              "GET /api/v1/customers/{customer}/contacts", "GET /api/v1/definitions",
              "POST /api/v1/recompute"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms(api_schema, label):
    # (schemathesis.pytest.from_fixture does not work with this pytest; drive hypothesis directly)
    ops = {op.label: op for op in (r.ok() for r in api_schema.get_all_operations())}
    assert set(ops) == set(OPERATIONS)

    @hsettings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=ops[label].as_strategy())
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS)

    run()


def test_every_operation_is_documented(app):
    doc = app.openapi()
    ops = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert {p for p, _, _ in ops} == {"/api/v1/events", "/api/v1/live", "/api/v1/reports/queues",
                                      "/api/v1/reports/conversations", "/api/v1/reports/agents",
                                      "/api/v1/status", "/api/v1/planning/erlang", "/api/v1/planning/staffing",
                                      "/api/v1/connectors/chatwoot", "/api/v1/connectors/helpscout",
                                      "/api/v1/alerts", "/api/v1/alerts/{episode_id}/ack",
                                      "/api/v1/contacts", "/api/v1/contacts/{contact_id}",
                                      "/api/v1/customers/{customer}/contacts", "/api/v1/definitions",
                                      "/api/v1/recompute"}
    for path, method, op in ops:
        assert op.get("summary"), (path, method)
        codes = set(op["responses"])
        if path == "/api/v1/connectors/helpscout":  # signed by Help Scout: no token, no roles
            assert {"401", "429"} <= codes, (path, codes)
        elif path != "/api/v1/status":  # status is open: no auth errors
            assert {"401", "403", "429"} <= codes, (path, codes)
        for code in codes - {"200", "202", "207", "422"}:
            assert op["responses"][code].get("description"), (path, code)
    events = doc["paths"]["/api/v1/events"]["post"]
    assert {"202", "207", "400", "413", "503"} <= set(events["responses"])
    assert "application/x-ndjson" in events["requestBody"]["content"]
    for name in ("queues", "conversations", "agents"):
        op = doc["paths"][f"/api/v1/reports/{name}"]["get"]
        assert {"400", "503"} <= set(op["responses"])
        assert {"application/json", "text/csv"} <= set(op["responses"]["200"]["content"])
    # 400 answers name the parameter
    err = doc["components"]["schemas"]["ParamError"]
    assert set(err["required"]) == {"param", "reason"}


@pytest.mark.parametrize("tz", ["Europe", "x" * 300, "UTC/", "Nowhere/City"])
def test_bad_time_zone_is_400_naming_tz(app, tz):
    """Found by schemathesis: tz=Europe (a directory) or an over-long name made ZoneInfo raise
    OSError, a 500."""
    from fastapi.testclient import TestClient

    r = TestClient(app).get("/api/v1/reports/queues", params={"from": "2024-03-04", "to": "2024-03-05", "tz": tz},
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 400 and r.json()["detail"]["param"] == "tz"
