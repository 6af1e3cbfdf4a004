"""Wallboard and reports pages in headless Chromium (Debian's /usr/bin/chromium, via Playwright).

The fixture serves the live router + static files with a hub the test feeds directly, and canned
report JSON from a test-only route. (The lead may later switch the fixture to the real app.)
Screenshots land in docs/screenshots/.
"""
from __future__ import annotations

import copy
import csv
import io
import socket
import threading
import time
from pathlib import Path

import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from playwright.sync_api import expect, sync_playwright

from _live_sample import TOKENS, make_view
from supervisor_api import auth
from supervisor_api.live_hub import LiveHub
from supervisor_api.routes.live import router as live_router

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "supervisor_api" / "static"
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 1000  # every live change must show within 1 s


def canned_queues():
    rows = []
    base = 1_700_000_000  # 2023-11-14T22:13:20Z
    for q in ("billing", "support"):
        for i in range(24):
            offered = 20 + (i * 7) % 13 + (5 if q == "billing" else 0)
            answered = offered - 2 - i % 3
            rows.append({"queue": q, "start": base + i * 3600, "offered": offered,
                         "answered": answered, "abandoned": offered - answered,
                         "short_abandoned": i % 2, "answered_within_sl": answered - i % 4,
                         "asa_s": 10.0 + i % 5, "aht_s": 200.0 + 3 * i,
                         "service_level": (answered - i % 4) / offered})
    return {"rows": rows, "previous": {"offered": 900, "answered": 850}}


def canned_conversations():
    buckets = ["<15m", "15–30m", "30–60m", "1–2h", "2–3h", "3–6h", "6–12h", "12–24h", "1–2d", ">2d"]
    return {
        "summary": {"conversations": 1234, "customers": 1001, "replies": 3456,
                    "first_response_s": 812.5, "resolution_s": 7200.0, "csat": 0.87},
        "response_time_buckets": [{"bucket": b, "count": 100 - 9 * i} for i, b in enumerate(buckets)],
        "handle_time_buckets": [{"bucket": b, "count": c} for b, c in
                                zip(["<1m", "1–2m", "2–5m", "5–10m", ">10m"], [50, 80, 120, 60, 20])],
        "busiest": [{"weekday": d, "hour": h, "count": (d * 7 + h * 3) % 40}
                    for d in range(1, 8) for h in range(24)],
        "tags": [{"tag": "refund", "count": 40}, {"tag": "login", "count": 25}],
        "previous": {"conversations": 1100, "customers": 950},
    }


def canned_agents():
    return {"rows": [
        {"agent": "ana", "handled": 40, "replies": 90, "closed": 35, "closed_without_reply": 1,
         "handle_s": 9000.0, "aht_s": 225.0, "first_response_s": 300.0, "customers": 38, "csat": 0.9},
        {"agent": "bob", "handled": 55, "replies": 70, "closed": 50, "closed_without_reply": 4,
         "handle_s": 7000.0, "aht_s": 127.0, "first_response_s": 500.0, "customers": 51, "csat": 0.8},
        {"agent": "cyd", "handled": 12, "replies": 20, "closed": 10, "closed_without_reply": 0,
         "handle_s": 3000.0, "aht_s": 250.0, "first_response_s": 150.0, "customers": 12, "csat": None},
    ]}


def to_csv(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def build_app(hub: LiveHub) -> FastAPI:
    app = FastAPI()
    app.state.live_hub = hub
    app.include_router(live_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.report_requests = []

    @app.get("/")
    async def wallboard():
        return FileResponse(STATIC / "wallboard.html")

    @app.get("/reports")
    async def reports():
        return FileResponse(STATIC / "reports.html")

    @app.post("/__test__/publish")  # test-only: feed the hub from the test thread
    async def publish(request: Request):
        hub.publish(orjson.loads(await request.body()))
        return {"version": hub.version}

    canned = {"queues": canned_queues, "conversations": canned_conversations, "agents": canned_agents}

    @app.get("/api/v1/reports/{kind}")  # test-only canned report backend
    async def report(kind: str, request: Request):
        p = await auth.authenticate_token((request.headers.get("authorization") or "")[7:])
        if p is None:
            return JSONResponse({"detail": "unauthorized"}, status_code=401)
        app.state.report_requests.append((kind, dict(request.query_params)))
        data = canned[kind]()
        if request.query_params.get("format") == "csv":
            return Response(to_csv(data["rows"]), media_type="text/csv")
        return data

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    hub = LiveHub(heartbeat_s=5.0)
    app = build_app(hub)

    async def fake_auth(token):
        return TOKENS.get(token)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "authenticate_token", fake_auth)
        port = free_port()
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        th = threading.Thread(target=srv.run, daemon=True)
        th.start()
        deadline = time.monotonic() + 20
        while not srv.started:
            assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield {"url": f"http://127.0.0.1:{port}", "app": app, "hub": hub}
        srv.should_exit = True
        th.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    external = []

    def on_request(req):
        if not req.url.startswith(server["url"].replace("http", "ws")) and not req.url.startswith(server["url"]) \
                and not req.url.startswith(("data:", "blob:")):
            external.append(req.url)

    pg.on("request", on_request)
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert external == [], f"page loaded from outside the server: {external}"
    assert errors == [], f"javascript errors: {errors}"


def publish(server, page, view):
    r = page.request.post(server["url"] + "/__test__/publish", data=orjson.dumps(view),
                          headers={"content-type": "application/json"})
    assert r.ok


def tile(page, queue, channel):
    return page.locator(f'#tiles .tile[data-queue="{queue}"][data-channel="{channel}"]')


def test_wallboard_live_updates_and_screenshot(page, server):
    publish(server, page, make_view(billing_waiting=3, secret_waiting=7))
    page.goto(server["url"] + "/?token=admin-token")
    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=5000)
    waiting = tile(page, "billing", "voice").locator('[data-testid="waiting"]')
    expect(waiting).to_have_text("3", timeout=TIMEOUT_MS)
    expect(page.locator('#totals [data-testid="waiting"]')).to_have_text("11", timeout=TIMEOUT_MS)
    expect(page.locator("#agent-table tbody tr")).to_have_count(2, timeout=TIMEOUT_MS)
    # colour is never the only signal: each count carries a text label
    counts = tile(page, "billing", "voice").locator(".count-label")
    expect(counts).to_have_text(["✓ Inside SL", "! At risk", "✕ Breached"])

    publish(server, page, make_view(billing_waiting=6, secret_waiting=7))
    expect(waiting).to_have_text("6", timeout=TIMEOUT_MS)
    expect(page.locator('#totals [data-testid="waiting"]')).to_have_text("14", timeout=TIMEOUT_MS)
    # oldest wait counts up client-side between updates
    oldest = tile(page, "billing", "voice").locator(".oldest-val")
    first = oldest.inner_text()
    expect(oldest).not_to_have_text(first, timeout=2500)
    page.screenshot(path=str(SHOTS / "wallboard.png"))


def test_wallboard_scoped_token_sees_only_its_queue(page, server):
    publish(server, page, make_view(billing_waiting=4, secret_waiting=9))
    page.goto(server["url"] + "/?token=billing-token")
    expect(tile(page, "billing", "voice").locator('[data-testid="waiting"]')).to_have_text("4", timeout=5000)
    expect(page.locator("#tiles .tile")).to_have_count(1)
    expect(page.locator('#totals [data-testid="waiting"]')).to_have_text("4")
    assert "secret" not in page.content()
    expect(page.locator("#agents-hidden")).to_be_visible()
    publish(server, page, make_view(billing_waiting=5, secret_waiting=12))
    expect(page.locator('#totals [data-testid="waiting"]')).to_have_text("5", timeout=TIMEOUT_MS)
    assert "secret" not in page.content()


def test_wallboard_filters_in_url_and_tv_mode(page, server):
    publish(server, page, make_view(billing_waiting=2, secret_waiting=3))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(server["url"] + "/?token=admin-token&channel=chat&tv=1")
    expect(page.locator("#tiles .tile")).to_have_count(1, timeout=5000)
    expect(tile(page, "secret-vip", "chat")).to_be_visible()
    expect(page.locator('#totals [data-testid="waiting"]')).to_have_text("1")
    # TV mode: nothing scrolls
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    page.screenshot(path=str(SHOTS / "wallboard-tv.png"))
    page.goto(server["url"] + "/?token=admin-token")
    expect(page.locator("#tiles .tile")).to_have_count(3, timeout=5000)
    page.select_option("#channel-filter", "voice")
    expect(page.locator("#tiles .tile")).to_have_count(2, timeout=TIMEOUT_MS)
    assert "channel=voice" in page.url


def test_wallboard_reconnects_with_fresh_snapshot(page, server):
    publish(server, page, make_view(billing_waiting=1))
    page.goto(server["url"] + "/?token=admin-token")
    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=5000)
    page.evaluate("window.tablero.state.ws.close()")  # drop the connection
    expect(page.locator("#status")).not_to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)
    publish(server, page, make_view(billing_waiting=8))
    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=5000)
    expect(tile(page, "billing", "voice").locator('[data-testid="waiting"]')).to_have_text("8", timeout=TIMEOUT_MS)


def test_wallboard_rejects_bad_token(page, server):
    page.goto(server["url"] + "/?token=planner-token")
    expect(page.locator("#status")).to_have_attribute("data-state", "denied", timeout=5000)
    expect(page.locator("#token-form")).to_be_visible()


def test_reports_charts_tables_and_csv(page, server, tmp_path):
    server["app"].state.report_requests.clear()
    page.goto(server["url"] + "/reports?token=sup-token&range=7&queue=billing&channel=voice&tz=Europe/Madrid")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=5000)
    # each endpoint asked once with the filters and the range
    reqs = {k: p for k, p in server["app"].state.report_requests}
    assert set(reqs) == {"queues", "conversations", "agents"}
    assert reqs["queues"]["queue"] == "billing" and reqs["queues"]["channel"] == "voice"
    assert reqs["queues"]["tz"] == "Europe/Madrid" and reqs["queues"]["by"] == "hour"
    assert reqs["queues"]["from"] < reqs["queues"]["to"]
    # charts drew (uPlot renders to canvas)
    for chart in ("volume", "sl", "response", "handle"):
        expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#heatmap .hm-cell")).to_have_count(7 * 24)
    expect(page.locator('#summary .card[data-key="conversations"] .card-value')).to_have_text("1,234")
    # staff table sorts by any column
    agents = page.locator("#table-agents tbody tr td:first-child")
    expect(agents).to_have_text(["ana", "bob", "cyd"])
    page.click('#table-agents th[data-key="handled"] button')
    expect(agents).to_have_text(["bob", "ana", "cyd"], timeout=TIMEOUT_MS)  # numbers: largest first
    page.click('#table-agents th[data-key="handled"] button')
    expect(agents).to_have_text(["cyd", "ana", "bob"], timeout=TIMEOUT_MS)
    page.click('#table-agents th[data-key="csat"] button')
    expect(agents).to_have_text(["ana", "bob", "cyd"], timeout=TIMEOUT_MS)  # missing csat last
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)

    # CSV: server CSV for the staff table, client-side CSV for tables the server has no CSV for
    with page.expect_download(timeout=5000) as dl:
        page.click('button[data-csv="agents"]')
    path = tmp_path / "agents.csv"
    dl.value.save_as(path)
    rows = list(csv.DictReader(path.open()))
    assert [r["agent"] for r in rows] == ["ana", "bob", "cyd"] and rows[1]["handled"] == "55"
    assert ("agents", "csv") in {(k, p.get("format")) for k, p in server["app"].state.report_requests}
    with page.expect_download(timeout=5000) as dl:
        page.click('button[data-csv="tags"]')
    path = tmp_path / "tags.csv"
    dl.value.save_as(path)
    assert list(csv.DictReader(path.open())) == [{"tag": "refund", "count": "40"}, {"tag": "login", "count": "25"}]


def test_reports_tolerate_missing_keys(page, server, monkeypatch):
    app = server["app"]
    # a backend that answers with almost nothing must not break the page
    original = list(app.router.routes)
    sparse = FastAPI()

    @sparse.get("/api/v1/reports/{kind}")
    async def thin(kind: str):
        return {"rows": [{"queue": "billing", "start": "2024-03-01T10:00:00Z", "offered": 3}]} \
            if kind == "queues" else {}

    app.router.routes.insert(0, sparse.router.routes[-1])
    try:
        page.goto(server["url"] + "/reports?token=sup-token")
        expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=5000)
        expect(page.locator("#chart-volume canvas")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(page.locator("#table-agents tbody td")).to_have_text("No rows.")
        expect(page.locator("#load-status")).to_contain_text("Updated")
    finally:
        app.router.routes[:] = original
