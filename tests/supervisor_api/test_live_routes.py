"""GET /api/v1/live and the /api/v1/live/ws websocket: auth, scoping, snapshot/update, subscribe."""
from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from _live_sample import TOKENS, make_view
from supervisor_api import auth
from supervisor_api.live_hub import LiveHub
from supervisor_api.routes.live import router


@pytest.fixture()
def hub():
    return LiveHub(heartbeat_s=3600)


@pytest.fixture()
def client(hub, monkeypatch):
    async def fake_auth(token):
        return TOKENS.get(token)

    monkeypatch.setattr(auth, "authenticate_token", fake_auth)
    app = FastAPI()
    app.include_router(router)
    app.state.live_hub = hub
    hub.publish(make_view(billing_waiting=3, secret_waiting=7))
    with TestClient(app) as c:
        yield c


def queues_of(view):
    return sorted({r["queue"] for r in view["queues"]})


def test_http_requires_valid_token(client):
    assert client.get("/api/v1/live").status_code == 401
    r = client.get("/api/v1/live", params={"token": "nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/live", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_http_without_live_rights_is_forbidden(client):
    assert client.get("/api/v1/live", params={"token": "planner-token"}).status_code == 403


def test_http_snapshot_scoped_to_principal(client):
    r = client.get("/api/v1/live", headers={"Authorization": "Bearer billing-token"})
    assert r.status_code == 200
    assert "secret" not in r.text
    v = r.json()
    assert queues_of(v) == ["billing"] and v["total"]["waiting"] == 3 and v["agents"] == []
    # asking for a queue it cannot see: 403, the same answer as for a nonexistent queue
    hidden = client.get("/api/v1/live", params={"token": "billing-token", "queue": "secret-vip"})
    missing = client.get("/api/v1/live", params={"token": "billing-token", "queue": "nope"})
    assert hidden.status_code == missing.status_code == 403
    assert hidden.json() == missing.json() and "secret" not in hidden.text


def test_http_query_filters_for_unscoped(client):
    v = client.get("/api/v1/live", params={"token": "admin-token"}).json()
    assert queues_of(v) == ["billing", "secret-vip"] and v["total"]["waiting"] == 11
    v = client.get("/api/v1/live", params=[("token", "admin-token"), ("channel", "chat")]).json()
    assert [(r["queue"], r["channel"]) for r in v["queues"]] == [("secret-vip", "chat")]
    assert v["total"]["waiting"] == 1
    v = client.get("/api/v1/live", params=[("token", "sup-token"), ("queue", "billing"),
                                           ("queue", "secret-vip"), ("channel", "voice")]).json()
    assert queues_of(v) == ["billing", "secret-vip"] and v["total"]["waiting"] == 10


def test_ws_rejects_missing_or_invalid_token(client):
    for url in ("/api/v1/live/ws", "/api/v1/live/ws?token=nope"):
        with client.websocket_connect(url) as ws:
            with pytest.raises(WebSocketDisconnect) as e:
                ws.receive_json()
            assert e.value.code == 4401


def test_ws_rejects_principal_without_live_rights(client):
    with client.websocket_connect("/api/v1/live/ws?token=planner-token") as ws:
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_json()
        assert e.value.code == 4403


def test_ws_snapshot_then_updates_scoped(client, hub):
    with client.websocket_connect("/api/v1/live/ws?token=billing-token") as ws:
        snap = ws.receive_json()
        assert snap["type"] == "snapshot"
        assert queues_of(snap["view"]) == ["billing"] and snap["view"]["total"]["waiting"] == 3
        client.portal.call(hub.publish, make_view(billing_waiting=5, secret_waiting=9))
        text = ws.receive_text()
        assert "secret" not in text
        upd = json.loads(text)
        assert upd["type"] == "update" and upd["view"]["total"]["waiting"] == 5


def test_ws_subscribe_changes_filter_and_hides_invisible(client, hub):
    with client.websocket_connect("/api/v1/live/ws?token=admin-token") as ws:
        assert queues_of(ws.receive_json()["view"]) == ["billing", "secret-vip"]
        ws.send_json({"subscribe": {"queues": ["secret-vip"], "channels": ["chat"]}})
        msg = ws.receive_json()
        assert msg["type"] == "snapshot"
        assert [(r["queue"], r["channel"]) for r in msg["view"]["queues"]] == [("secret-vip", "chat")]
        ws.send_json({"subscribe": {"queues": None, "channels": None}})
        assert queues_of(ws.receive_json()["view"]) == ["billing", "secret-vip"]
    with client.websocket_connect("/api/v1/live/ws?token=billing-token") as ws:
        ws.receive_json()
        ws.send_text("not json")  # ignored
        ws.send_json({"subscribe": {"queues": ["secret-vip"]}})
        msg = ws.receive_json()
        assert msg["type"] == "snapshot" and msg["view"]["queues"] == []
        assert msg["view"]["total"]["waiting"] == 0


def test_ws_token_via_subprotocol_and_query_filter(client):
    with client.websocket_connect("/api/v1/live/ws?channel=voice",
                                  subprotocols=["tablero.v1", "bearer.sup-token"]) as ws:
        assert ws.accepted_subprotocol == "tablero.v1"
        v = ws.receive_json()["view"]
        assert {r["channel"] for r in v["queues"]} == {"voice"}
    with client.websocket_connect("/api/v1/live/ws",
                                  headers={"Authorization": "Bearer billing-token"}) as ws:
        assert queues_of(ws.receive_json()["view"]) == ["billing"]
