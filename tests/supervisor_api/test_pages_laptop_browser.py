"""Pages a new user meets first, in headless Chromium (Debian's /usr/bin/chromium via Playwright)
against the real app (create_app served by uvicorn, chDB database of its own, session broker):

* /docs loads Swagger UI from the API's own files with every non-local request blocked (aborted),
  and lists the operations;
* the wallboard on a 1600x900 laptop screen with 200 agents shows every queue tile inside the
  first viewport, and the agent list scrolls inside its panel, not the page;
* the reports page's histogram y-axis is wide enough for its longest label ("120,000").
"""
from __future__ import annotations

import threading
import time

import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request
from playwright.sync_api import expect, sync_playwright

from _app import ADMIN_TOKEN, close_warehouse, make_settings
from _live_sample import make_view, queue_row
from supervisor_api import auth
from supervisor_api.live_hub import aggregate
from supervisor_api.main import create_app
from test_pages_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, free_port

LOAD_MS = 20000


@pytest.fixture(scope="module")
def server(tmp_path_factory, kafka_bootstrap, chdb_dir):
    settings = make_settings(tmp_path_factory.mktemp("laptop"), kafka_bootstrap, chdb_dir)
    app = create_app(settings, run_live_feed=False, migrate=True)

    @app.post("/__test__/publish", include_in_schema=False)  # test-only: feed the live hub
    async def publish(request: Request):
        request.app.state.live_hub.publish(orjson.loads(await request.body()))
        return {}

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 60
        while not srv.started:
            assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield {"url": f"http://127.0.0.1:{port}", "app": app}
    finally:
        srv.should_exit = True
        th.join(15)
        close_warehouse(app)
        auth.TOKENS.pop(settings.admin_token, None)


@pytest.fixture()
def page(server):
    """A 1600x900 page whose requests outside the server are aborted and recorded."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1600, "height": 900})
        blocked: list[str] = []
        local = (server["url"], server["url"].replace("http", "ws"), "data:", "blob:")

        def route(r):
            if r.request.url.startswith(local):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        ctx.close()
        browser.close()
    assert blocked == [], f"the page asked for files outside the API: {blocked}"
    assert errors == [], f"javascript errors: {errors}"


def test_docs_load_offline_and_list_the_operations(page, server):
    page.goto(server["url"] + "/docs")
    # Swagger UI rendered from /static/vendor/swagger-ui: the operations of the API are listed
    ops = page.locator(".opblock-summary-path")
    expect(ops.first).to_be_visible(timeout=LOAD_MS)
    paths = set(ops.all_inner_texts())
    assert {"/api/v1/events", "/api/v1/live", "/api/v1/reports/queues"} <= {p.replace("\u200b", "") for p in paths}
    assert page.evaluate("typeof SwaggerUIBundle") == "function"
    r = page.request.get(server["url"] + "/redoc")  # the CDN-based ReDoc page is not served
    assert r.status == 404


def _many_agents_view(n_agents: int) -> dict:
    view = make_view(billing_waiting=3, secret_waiting=7)
    # the demo's four queues plus the sample's three rows and one more: two rows of tiles at 1600 px
    extra = [queue_row(q, ch, 2, 1, 1, 0, 12.0) for q, ch in
             (("sales", "voice"), ("support", "chat"), ("backoffice", "email"), ("claims", "email"))]
    view["queues"] = view["queues"] + extra
    view["total"] = aggregate(view["queues"])
    states = ["available", "busy", "after_contact_work", "away"]
    view["agents"] = [{"agent": f"agent-{i:03d}", "state": states[i % 4], "reason": "", "since": time.time() - i,
                       "time_in_state_s": float(i), "open": {"voice": i % 2, "chat": 0, "email": i % 3},
                       "capacity": {"voice": 1, "chat": 3, "email": 10}, "load": 0.1}
                      for i in range(n_agents)]
    view["agent_states"] = {s: sum(1 for a in view["agents"] if a["state"] == s) for s in states} | {"offline": 0}
    return view


def panel_right(page) -> float:
    b = page.locator("#agents-panel").bounding_box()
    return b["x"] + b["width"]


def test_wallboard_on_a_laptop_with_200_agents_shows_every_queue_tile(page, server):
    view = _many_agents_view(200)
    r = page.request.post(server["url"] + "/__test__/publish", data=orjson.dumps(view),
                          headers={"content-type": "application/json"})
    assert r.ok
    page.goto(server["url"] + f"/?token={ADMIN_TOKEN}")
    tiles = page.locator("#tiles .tile")
    expect(tiles).to_have_count(len(view["queues"]), timeout=LOAD_MS)
    expect(page.locator("#agent-table tbody tr")).to_have_count(200)
    page.screenshot(path=str(SHOTS / "laptop_wallboard_200_agents.png"))
    boxes = [tiles.nth(i).bounding_box() for i in range(tiles.count())]
    outside = [(i, b) for i, b in enumerate(boxes) if b is None or b["y"] < 0 or b["y"] + b["height"] > 900
               or b["x"] + b["width"] > 1600]
    assert outside == [], f"queue tiles outside the first 1600x900 viewport: {outside}"
    # the agent list scrolls inside its panel; the panel ends inside the viewport
    wrap = page.locator(".agent-table-wrap")
    assert wrap.evaluate("e => e.scrollHeight > e.clientHeight + 100")
    # ...and only up and down: every column, the load bar last, fits across the panel
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), "the agent table scrolls sideways"
    load = page.locator("#agent-table tbody tr").first.locator(".load").bounding_box()
    assert load["x"] + load["width"] <= panel_right(page), load
    panel = page.locator("#agents-panel").bounding_box()
    assert panel["y"] + panel["height"] <= 900, panel
    wrap.evaluate("e => { e.scrollTop = e.scrollHeight }")
    expect(page.locator('#agent-table tr[data-agent="agent-199"]')).to_be_in_viewport()


def test_reports_histogram_y_axis_labels_are_whole(page, server):
    app = server["app"]
    buckets = {"<15m": 120_000, "15-30m": 80_000, "30-60m": 9_000, "1-2h": 0}
    thin = FastAPI()

    @thin.get("/api/v1/reports/{kind}")
    async def report(kind: str):
        return {"response_time_buckets": buckets, "handle_time_buckets": buckets} if kind == "conversations" \
            else {"rows": []}

    original = list(app.router.routes)
    app.router.routes.insert(0, thin.router.routes[-1])
    try:
        page.goto(server["url"] + f"/reports?token={ADMIN_TOKEN}")
        expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
        expect(page.locator("#chart-response canvas")).to_have_count(1)
        # every y label of the histogram fits in the axis uPlot laid out for it
        fit = page.evaluate("""() => {
            const u = window.tableroReports.charts.response, axis = u.axes[1];
            u.ctx.font = axis.font[0];
            const widest = Math.max(...axis._values.map((v) => u.ctx.measureText(v).width / devicePixelRatio));
            return {labels: axis._values, widest, room: axis._size - axis.ticks.size - axis.gap};
        }""")
        assert any(v.replace(",", "").replace(".", "").isdigit() and len(v) >= 7 for v in fit["labels"]), fit
        assert fit["widest"] <= fit["room"], fit
    finally:
        app.router.routes[:] = original
