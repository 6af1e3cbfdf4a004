"""Issue 6: who may do what, against the real app (create_app): every role x scope x route,
queue scoping of live state and reports (rows in chDB for two queues), 401/403/429, the status
route's openness, and the token CLI (hashed storage, immediate revocation)."""
from __future__ import annotations

import json

import orjson
import pytest
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from _app import ADMIN_TOKEN, create_topic, make_settings, running_app

from tests.contact_rows import fact
from _live_sample import make_view
from pipeline.history import clickhouse_store as store
from pipeline.schemas.examples import example
from supervisor_api.auth import TokenStore
from supervisor_api.event_producer import events_topic
from supervisor_api.rate_limit import RateLimiter

A, B = "billing", "secret-vip"  # queue A is in the scoped tokens' scope, B is not
ROLES = ("admin", "supervisor", "planner", "publisher", "wallboard")
SCOPES = {"all": None, "A": [A]}
REPORTS = ("queues", "conversations", "agents")
RANGE = {"from": "2024-03-04", "to": "2024-03-04"}

LIVE_ROLES = {"admin", "supervisor", "wallboard"}
REPORT_ROLES = {"admin", "supervisor", "planner"}
PUBLISH_ROLES = {"admin", "publisher"}


@pytest.fixture(scope="module")
def env(tmp_path_factory, kafka_bootstrap, chdb_dir):
    tmp = tmp_path_factory.mktemp("acl")
    settings = make_settings(tmp, kafka_bootstrap, chdb_dir)
    create_topic(kafka_bootstrap, events_topic(settings))
    store_ = TokenStore(settings.tokens_path)
    tokens = {(role, scope): store_.create(f"{role}-{scope}", role, queues)
              for role in ROLES for scope, queues in SCOPES.items()}
    with running_app(settings) as (app, client):
        app.state.live_hub.publish(make_view(billing_waiting=3, secret_waiting=7))
        rows = [fact("a1", "2024-03-04T09:00:00", queue=A, channel="voice", agent="ana", agents=["ana"],
                     is_answered=1, wait_s=5.0, is_closed=1, handle_s=100.0),
                fact("a2", "2024-03-04T10:00:00", queue=A, channel="voice"),
                fact("b1", "2024-03-04T09:30:00", queue=B, channel="voice", agent="zed", agents=["zed"],
                     is_answered=1, wait_s=9.0, is_closed=1, handle_s=300.0),
                fact("b2", "2024-03-04T11:00:00", queue=B, channel="chat", tags=["vip-only"]),
                fact("b3", "2024-03-04T12:00:00", queue=B, channel="chat")]
        app.state.warehouse.call_sync(store.insert_rows, "contacts", rows)
        yield {"app": app, "client": client, "tokens": tokens, "settings": settings}


@pytest.fixture(autouse=True)
def fresh_login_limiter(env):
    """Each test starts with the app's default failed-login budget (401 tests spend it)."""
    env["app"].state.auth_failures = RateLimiter(rate_per_s=0.5, burst=20)


def auth_header(token):
    return {"Authorization": f"Bearer {token}"}


def _event(i: str) -> bytes:
    return orjson.dumps(example("contact.created", id=f"acl-{i}", subject=f"acl-{i}"))


CASES = [(role, scope) for role in ROLES for scope in SCOPES]


@pytest.mark.parametrize("role,scope", CASES)
def test_role_matrix(env, role, scope):
    c, token = env["client"], env["tokens"][(role, scope)]
    h = auth_header(token)

    r = c.post("/api/v1/events", content=_event(f"{role}-{scope}"), headers=h)
    assert r.status_code == (202 if role in PUBLISH_ROLES else 403), r.text

    r = c.get("/api/v1/live", headers=h)
    assert r.status_code == (200 if role in LIVE_ROLES else 403), r.text
    if r.status_code == 200:
        queues = {row["queue"] for row in r.json()["queues"]}
        assert queues == ({A} if scope == "A" else {A, B})
    # wallboards put the token in the URL
    assert c.get("/api/v1/live", params={"token": token}).status_code == r.status_code

    for name in REPORTS:
        for fmt in ("json", "csv"):
            r = c.get(f"/api/v1/reports/{name}", params={**RANGE, "format": fmt}, headers=h)
            assert r.status_code == (200 if role in REPORT_ROLES else 403), (name, fmt, r.text)
            if r.status_code == 200:
                assert r.headers["content-type"].startswith("text/csv" if fmt == "csv" else "application/json")

    assert c.get("/api/v1/status", headers=h).status_code == 200

    with c.websocket_connect(f"/api/v1/live/ws?token={token}") as ws:
        if role in LIVE_ROLES:
            msg = ws.receive_json()
            assert msg["type"] == "snapshot"
            assert {row["queue"] for row in msg["view"]["queues"]} == ({A} if scope == "A" else {A, B})
        else:
            with pytest.raises(WebSocketDisconnect) as e:
                ws.receive_json()
            assert e.value.code == 4403


def test_role_matrix_covers_every_role():
    from supervisor_api.deps import ROLES as DEFINED

    assert set(ROLES) == set(DEFINED)


def test_scoped_supervisor_sees_neither_live_state_nor_reports_of_other_queue(env):
    c = env["client"]
    h = auth_header(env["tokens"][("supervisor", "A")])
    # explicit out-of-scope queue: 403, and the same answer for a queue that does not exist
    for path, extra in [("/api/v1/live", {})] + [(f"/api/v1/reports/{n}", RANGE) for n in REPORTS]:
        hidden = c.get(path, params={**extra, "queue": B}, headers=h)
        missing = c.get(path, params={**extra, "queue": "no-such-queue"}, headers=h)
        assert hidden.status_code == missing.status_code == 403, path
        assert hidden.json() == missing.json() and B not in hidden.text
        assert c.get(path, params={**extra, "queue": A}, headers=h).status_code == 200
    # several queues at once: one out of scope is enough
    assert c.get("/api/v1/live", params=[("queue", A), ("queue", B)], headers=h).status_code == 403
    # websocket: an out-of-scope ?queue= closes with 4403
    with c.websocket_connect(f"/api/v1/live/ws?queue={B}", headers=h) as ws:
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive_json()
        assert e.value.code == 4403

    # no filter: B's rows are left out (allowed_queues reaches pipeline.history.reports)
    q = c.get("/api/v1/reports/queues", params=RANGE, headers=h).json()
    assert {r["queue"] for r in q["rows"]} == {A} and q["total"]["offered"] == 2
    conv = c.get("/api/v1/reports/conversations", params=RANGE, headers=h).json()
    assert conv["conversations"] == 2 and conv["tags"] == []
    agents = c.get("/api/v1/reports/agents", params=RANGE, headers=h).json()
    assert [r["agent"] for r in agents["rows"]] == ["ana"]
    csv_text = c.get("/api/v1/reports/queues", params={**RANGE, "format": "csv"}, headers=h).text
    assert B not in csv_text and A in csv_text
    live = c.get("/api/v1/live", headers=h)
    assert B not in live.text and live.json()["total"]["waiting"] == 3

    # the unscoped supervisor sees both (the data is there)
    h_all = auth_header(env["tokens"][("supervisor", "all")])
    q = c.get("/api/v1/reports/queues", params=RANGE, headers=h_all).json()
    assert {r["queue"] for r in q["rows"]} == {A, B} and q["total"]["offered"] == 5
    assert c.get("/api/v1/reports/agents", params={**RANGE, "queue": B}, headers=h_all).json()["rows"][0]["agent"] == "zed"


@pytest.mark.parametrize("path,method", [("/api/v1/events", "post"), ("/api/v1/live", "get"),
                                         ("/api/v1/reports/queues", "get"),
                                         ("/api/v1/reports/conversations", "get"),
                                         ("/api/v1/reports/agents", "get")])
@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer tb_deadbeef_wrong", "Basic abc", "Bearer "])
def test_missing_or_invalid_token_is_401(env, path, method, header):
    headers = {"Authorization": header} if header else {}
    kwargs = {"content": _event("x")} if method == "post" else {"params": RANGE}
    r = getattr(env["client"], method)(path, headers=headers, **kwargs)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "detail" in r.json()


def test_ws_missing_invalid_token_closes_4401(env):
    for url in ("/api/v1/live/ws", "/api/v1/live/ws?token=nope"):
        with env["client"].websocket_connect(url) as ws:
            with pytest.raises(WebSocketDisconnect) as e:
                ws.receive_json()
            assert e.value.code == 4401


def test_bootstrap_admin_token_works(env):
    r = env["client"].get("/api/v1/live", headers=auth_header(ADMIN_TOKEN))
    assert r.status_code == 200


def test_status_is_open_and_leaks_no_secret(env):
    c, settings = env["client"], env["settings"]
    r = c.get("/api/v1/status")
    assert r.status_code == 200
    body = r.text
    data = r.json()
    assert data["kafka"]["up"] is True and data["clickhouse"]["up"] is True
    assert data["clickhouse"]["rows"]["contacts"] >= 5
    for secret in [ADMIN_TOKEN, str(settings.tokens_path), "sha256"] + \
            [t.split("_", 2)[2] for t in env["tokens"].values()]:
        assert secret not in body


async def test_status_masks_passwords_in_dsn_and_errors(tmp_path, kafka_bootstrap):
    from supervisor_api.routes.status import collect_status

    dsn = "http://tablero:pa55w0rd-xyz@127.0.0.1:1/db"
    settings = make_settings(tmp_path, kafka_bootstrap, tmp_path, clickhouse=dsn)

    class DownWarehouse:
        async def health(self):
            return {"up": False, "rows": {}, "error": f"OperationalError: cannot reach {dsn} (pa55w0rd-xyz)"}

    data = await collect_status(settings, DownWarehouse())
    text = json.dumps(data)
    assert "pa55w0rd-xyz" not in text and ADMIN_TOKEN not in text
    assert data["clickhouse"]["dsn"] == "http://tablero:****@127.0.0.1:1/db"
    assert data["clickhouse"]["up"] is False and "****" in data["clickhouse"]["error"]


def test_ingest_rate_limit_per_token_429_with_retry_after(env):
    app, c = env["app"], env["client"]
    saved = app.state.ingest_limiter
    app.state.ingest_limiter = RateLimiter(rate_per_s=0.0001, burst=1)  # one request, then none
    try:
        pub = auth_header(env["tokens"][("publisher", "all")])
        assert c.post("/api/v1/events", content=_event("rl-1"), headers=pub).status_code == 202
        r = c.post("/api/v1/events", content=_event("rl-2"), headers=pub)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        # another token has its own budget
        other = auth_header(env["tokens"][("publisher", "A")])
        assert c.post("/api/v1/events", content=_event("rl-3"), headers=other).status_code == 202
    finally:
        app.state.ingest_limiter = saved


def test_failed_logins_per_address_429(env):
    app, c = env["app"], env["client"]
    saved = app.state.auth_failures
    app.state.auth_failures = RateLimiter(rate_per_s=0.0001, burst=3)
    try:
        good = env["tokens"][("admin", "all")]
        assert c.get("/api/v1/live", headers=auth_header(good)).status_code == 200  # success costs nothing
        for _ in range(3):
            assert c.get("/api/v1/live", headers=auth_header("bad")).status_code == 401
        r = c.get("/api/v1/live", headers=auth_header("bad"))
        assert r.status_code == 429 and r.headers["retry-after"] == "60"
        # the address is throttled for every route, even with a good token, websocket included
        assert c.get("/api/v1/reports/queues", params=RANGE, headers=auth_header(good)).status_code == 429
        with c.websocket_connect(f"/api/v1/live/ws?token={good}") as ws:
            with pytest.raises(WebSocketDisconnect) as e:
                ws.receive_json()
            assert e.value.code == 4429
    finally:
        app.state.auth_failures = saved


def test_revoked_token_is_401_immediately(env, monkeypatch):
    c, settings = env["client"], env["settings"]
    monkeypatch.setenv("TABLERO_TOKENS_FILE", str(settings.tokens_path))
    from pipeline.cli import app as cli
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(cli, ["token", "create", "--role", "supervisor", "--queue", A, "--name", "Ana"])
        assert out.exit_code == 0, out.output
        token = out.output.strip().splitlines()[-1]
        assert c.get("/api/v1/live", headers=auth_header(token)).status_code == 200
        token_id = token.split("_")[1]
        out = CliRunner().invoke(cli, ["token", "revoke", token_id])
        assert out.exit_code == 0 and f"revoked {token_id}" in out.output
        r = c.get("/api/v1/live", headers=auth_header(token))
        assert r.status_code == 401
        with c.websocket_connect(f"/api/v1/live/ws?token={token}") as ws:
            with pytest.raises(WebSocketDisconnect) as e:
                ws.receive_json()
            assert e.value.code == 4401
    finally:
        get_settings.cache_clear()


def test_token_cli_create_list_revoke_stores_only_hashes(tmp_path, monkeypatch):
    path = tmp_path / "tokens.json"
    monkeypatch.setenv("TABLERO_TOKENS_FILE", str(path))
    from pipeline.cli import app as cli
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(cli, ["token", "create", "--role", "wallboard", "--queue", "billing",
                                  "--queue", "sales", "--name", "TV floor 2"])
        assert out.exit_code == 0, out.output
        token = out.output.strip().splitlines()[-1]
        prefix, token_id, secret = token.split("_", 2)
        assert prefix == "tb" and len(secret) >= 24
        raw = path.read_text()
        assert secret not in raw and token not in raw
        record = json.loads(raw)[token_id]
        assert record["role"] == "wallboard" and record["queues"] == ["billing", "sales"]
        assert len(record["sha256"]) == 64
        assert (path.stat().st_mode & 0o077) == 0  # owner-only

        listed = runner.invoke(cli, ["token", "list"], env={"COLUMNS": "200"})
        assert listed.exit_code == 0 and token_id in listed.output and "TV floor 2" in listed.output
        assert secret not in listed.output

        store_ = TokenStore(path)
        assert store_.authenticate(token).queues == frozenset({"billing", "sales"})
        assert store_.authenticate(f"tb_{token_id}_wrong") is None

        out = runner.invoke(cli, ["token", "revoke", token_id])
        assert out.exit_code == 0
        assert store_.authenticate(token) is None  # the same store instance re-reads the file
        assert "yes" in runner.invoke(cli, ["token", "list"], env={"COLUMNS": "200"}).output

        bad = runner.invoke(cli, ["token", "create", "--role", "root"])
        assert bad.exit_code == 2 and "--role must be one of" in bad.output
        missing = runner.invoke(cli, ["token", "revoke", "nope"])
        assert missing.exit_code == 1 and "no token with id" in missing.output
    finally:
        get_settings.cache_clear()
