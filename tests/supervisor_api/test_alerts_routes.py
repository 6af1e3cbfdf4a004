"""GET /api/v1/alerts and POST /api/v1/alerts/{id}/ack on the real app: its alert service runs on
the session's Kafka, the live hub gets a view, a real HTTP receiver takes the notification, the
lifecycle lands in chDB. Scoping and roles like the rest of the API."""
from __future__ import annotations

import time

import pytest

from _app import ADMIN_TOKEN, alerts_settings, running_app
from supervisor_api.auth import TokenStore
from tests.pipeline.alerts.receivers import HttpReceiver


def poll(fn, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def view(waiting: int) -> dict:
    return {"generated_at": time.time(), "queues": [
        {"queue": "sales", "channel": "voice", "waiting": waiting, "today": {}, "last_30m": {}}],
        "channels": [], "total": {}, "agents": [], "agent_states": {}}


@pytest.fixture
def receiver():
    r = HttpReceiver()
    yield r
    r.close()


def test_alerts_listed_scoped_acknowledged_and_kept_in_history(tmp_path, kafka_bootstrap, chdb_dir, receiver):
    settings = alerts_settings(tmp_path, kafka_bootstrap, chdb_dir,
                               f'[[rules]]\nname = "sales queue deep"\nqueue = "sales"\nmetric = "waiting"\n'
                               f'threshold = 5\nnotify = ["webhook:{receiver.url}/hook"]\n')
    store = TokenStore(settings.tokens_path)
    other = {"Authorization": "Bearer " + store.create("other", "supervisor", ["billing"])}
    wallboard = {"Authorization": "Bearer " + store.create("tv", "wallboard", ["sales"])}
    boss = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with running_app(settings, run_alerts=True) as (app, client):
        poll(lambda: client.get("/api/v1/alerts", headers=boss).json()["evaluating"], "the app to evaluate")
        app.state.live_hub.publish(view(9))
        body = poll(lambda: (b := client.get("/api/v1/alerts", headers=wallboard).json())["active"] and b,
                    "an active alert")
        ep = body["active"][0]
        assert (ep["rule"], ep["state"], ep["scope"], ep["value"]) == (
            "sales queue deep", "firing", {"queue": "sales", "channel": "voice"}, 9.0)
        poll(lambda: receiver.at("/hook"), "the webhook")
        assert client.get("/api/v1/alerts", headers=other).json()["active"] == []        # not its queue
        assert client.get("/api/v1/alerts?queue=sales", headers=other).status_code == 403
        assert client.post(f"/api/v1/alerts/{ep['id']}/ack", headers=other).status_code == 404
        assert client.post(f"/api/v1/alerts/{ep['id']}/ack", headers=wallboard).status_code == 403
        assert client.post("/api/v1/alerts/nope/ack", headers=boss).status_code == 404
        r = client.post(f"/api/v1/alerts/{ep['id']}/ack?by=Ana", headers=boss)
        assert r.status_code == 200 and r.json()["acked_by"].startswith("Ana (token ")
        poll(lambda: app.state.alerts.book.episodes[ep["id"]].acked_by, "the owner to record the ack")
        def acked_history():
            rows = client.get("/api/v1/alerts", headers=wallboard).json()["history"]
            return rows if any(h["event"] == "acked" for h in rows) else None

        history = poll(acked_history, "history rows")
        assert {"fired", "delivered", "acked"} <= {h["event"] for h in history}
        assert client.get("/api/v1/alerts", headers=other).json()["history"] == []
        assert len(receiver.at("/hook")) == 1
