"""Wallboard and reports pages in headless Chromium (Debian's /usr/bin/chromium, via Playwright),
against the REAL app: create_app(settings, run_live_feed=False, migrate=True) served by uvicorn,
chDB in a database of the session's chDB directory, the session Kafka broker, a Kafka namespace of
its own, the bootstrap admin token plus tokens made with the app's TokenStore.

The one test-only addition is POST /__test__/publish, which puts a merged live view into
app.state.live_hub (the live feed from Kafka is covered by the system tests). The reports page
reads the Anonymous Bank month (Feb 1999), landed once per module through WorkerState.process
and clickhouse_store.insert_rows, without Kafka (tests/supervisor_api/_bank_history.py).
Screenshots land in tests/artifacts/screenshots/ (git-ignored); copy them to docs/screenshots/
by hand when the pages change.
"""
from __future__ import annotations

import csv
import re
import threading
import time
from pathlib import Path

import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request
from playwright.sync_api import expect, sync_playwright

from _app import ADMIN_TOKEN, close_warehouse, make_settings
from _bank_history import land_bank_month
from _live_sample import make_view
from supervisor_api import auth
from supervisor_api.auth import TokenStore
from supervisor_api.main import create_app

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
SHOTS.mkdir(parents=True, exist_ok=True)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 3000  # a live change crossing the websocket (a wait, not a timing assertion)
LOAD_MS = 20000    # a page's first load: report queries over the whole month
BANK_QUEUES = {"PS", "PE", "IN", "NE", "NW", "TT"}
MONTH = "from=1999-02-01&to=1999-02-28&tz=UTC"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_test_routes(app: FastAPI) -> None:
    @app.post("/__test__/publish", include_in_schema=False)  # test-only: feed the live hub
    async def publish(request: Request):
        hub = request.app.state.live_hub
        hub.publish(orjson.loads(await request.body()))
        return {"version": hub.version}


@pytest.fixture(scope="module")
def server(tmp_path_factory, kafka_bootstrap, chdb_dir):
    tmp = tmp_path_factory.mktemp("pages")
    settings = make_settings(tmp, kafka_bootstrap, chdb_dir)
    store = TokenStore(settings.tokens_path)
    tokens = {"admin": ADMIN_TOKEN,
              "supervisor": store.create("pages-supervisor", "supervisor"),
              "planner": store.create("pages-planner", "planner"),
              "billing": store.create("pages-wallboard-billing", "wallboard", ["billing"])}
    app = create_app(settings, run_live_feed=False, migrate=True)
    add_test_routes(app)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 60
        while not srv.started:  # set after the lifespan ran: token store configured, migrations applied
            assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        landed = app.state.warehouse.call_sync(land_bank_month)
        assert landed["dead_letters"] == 0 and landed["contacts"] == 31_094, landed
        yield {"url": f"http://127.0.0.1:{port}", "app": app, "tokens": tokens, "settings": settings}
    finally:
        srv.should_exit = True
        th.join(15)
        close_warehouse(app)
        auth.TOKENS.pop(settings.admin_token, None)


def api_json(page, server, kind: str, query: str) -> dict:
    r = page.request.get(f"{server['url']}/api/v1/reports/{kind}?{query}",
                         headers={"Authorization": f"Bearer {server['tokens']['supervisor']}"})
    assert r.ok, r.text()
    return r.json()


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
    page.goto(server["url"] + f"/?token={server['tokens']['admin']}")
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


def test_wallboard_business_clock_paused(page, server):
    """Issue 14: a queue on the business clock whose calendar is closed says until when, and its
    oldest wait does not count up meanwhile."""
    view = make_view(billing_waiting=3, secret_waiting=7)
    row = view["queues"][0]
    row.update({"clock": "business", "clock_resumes_at": 1_900_000_000.0, "oldest_wait_s": 600.0})
    publish(server, page, view)
    page.goto(server["url"] + f"/?token={server['tokens']['admin']}")
    t = tile(page, "billing", "voice")
    expect(t.locator('[data-testid="clock-paused"]')).to_contain_text("Clock paused (closed) until", timeout=5000)
    expect(t.locator(".tile-thr")).to_contain_text("(business hours)")
    oldest = t.locator(".oldest-val")
    expect(oldest).to_have_attribute("data-oldest", "")
    first = oldest.inner_text()
    page.wait_for_timeout(1500)  # the other tiles tick every second; this one must not
    assert oldest.inner_text() == first
    expect(tile(page, "secret-vip", "voice").locator('[data-testid="clock-paused"]')).to_have_count(0)


def test_wallboard_scoped_token_sees_only_its_queue(page, server):
    publish(server, page, make_view(billing_waiting=4, secret_waiting=9))
    page.goto(server["url"] + f"/?token={server['tokens']['billing']}")
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
    page.goto(server["url"] + f"/?token={server['tokens']['admin']}&channel=chat&tv=1")
    expect(page.locator("#tiles .tile")).to_have_count(1, timeout=5000)
    expect(tile(page, "secret-vip", "chat")).to_be_visible()
    expect(page.locator('#totals [data-testid="waiting"]')).to_have_text("1")
    # TV mode: nothing scrolls
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    page.screenshot(path=str(SHOTS / "wallboard-tv.png"))
    page.goto(server["url"] + f"/?token={server['tokens']['admin']}")
    expect(page.locator("#tiles .tile")).to_have_count(3, timeout=5000)
    page.select_option("#channel-filter", "voice")
    expect(page.locator("#tiles .tile")).to_have_count(2, timeout=TIMEOUT_MS)
    assert "channel=voice" in page.url


def test_wallboard_reconnects_with_fresh_snapshot(page, server):
    publish(server, page, make_view(billing_waiting=1))
    page.goto(server["url"] + f"/?token={server['tokens']['admin']}")
    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=5000)
    page.evaluate("window.tablero.state.ws.close()")  # drop the connection
    expect(page.locator("#status")).not_to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)
    publish(server, page, make_view(billing_waiting=8))
    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=5000)
    expect(tile(page, "billing", "voice").locator('[data-testid="waiting"]')).to_have_text("8", timeout=TIMEOUT_MS)


def test_wallboard_rejects_bad_token(page, server):
    page.goto(server["url"] + f"/?token={server['tokens']['planner']}")
    expect(page.locator("#status")).to_have_attribute("data-state", "denied", timeout=5000)
    expect(page.locator("#token-form")).to_be_visible()


def test_reports_anonymous_bank_month(page, server, tmp_path):
    api_requests = []
    page.on("request", lambda req: api_requests.append(req.url) if "/api/v1/reports/" in req.url else None)
    page.goto(server["url"] + f"/reports?token={server['tokens']['supervisor']}&{MONTH}&by=day")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    expect(page.locator("#load-status")).to_contain_text("Updated")
    # a date `to` is inclusive in the API: the page sends the last day shown, not the day after
    asked = [u for u in api_requests if "from=1999-02-01" in u]
    assert {u.split("/api/v1/reports/")[1].split("?")[0] for u in asked} == {"queues", "conversations", "agents"}
    assert all("to=1999-02-28" in u and "by=day" in u and "tz=UTC" in u for u in asked), asked
    # ... and the previous period of the same length right before it, for the comparison
    assert any("from=1999-01-04" in u and "to=1999-01-31" in u for u in api_requests), api_requests

    query = MONTH + "&by=day"
    queues = api_json(page, server, "queues", query)
    convs = api_json(page, server, "conversations", query)
    agents = api_json(page, server, "agents", query)
    assert queues["total"]["offered"] == 31_094 == convs["conversations"]

    # headline with the previous-period comparison (January 1999 holds nothing)
    offered = page.locator('#summary .card[data-key="offered"]')
    expect(offered.locator(".card-value")).to_have_text("31,094")
    expect(offered.locator(".delta")).to_have_text("previous: 0")
    expect(page.locator('#summary .card[data-key="conversations"] .card-value')).to_have_text("31,094")
    expect(page.locator('#summary .card[data-key="service_level"] .card-value')).to_have_text(
        f"{queues['total']['service_level'] * 100:.1f}%")
    expect(page.locator('#summary .card[data-key="first_response_s"] .card-sub')).to_contain_text("p90")
    expect(page.locator("#previous-range")).to_have_text("(compared with 1999-01-04 – 1999-01-31)")

    # charts: uPlot canvases, with the report's numbers in them
    for chart in ("volume", "sl", "handle"):
        expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
    volume = page.evaluate("window.tableroReports.charts.volume.data")
    assert len(volume[0]) == 28 and sum(volume[1]) == 31_094 and sum(volume[3]) == queues["total"]["abandoned"]
    handle = page.evaluate("window.tableroReports.charts.handle.data[1]")
    assert handle == list(convs["handle_time_buckets"].values()) and sum(handle) > 0
    # voice only: no customer message was ever answered, so the response-time chart says so
    assert not any(convs["response_time_buckets"].values())
    expect(page.locator("#chart-response")).to_contain_text("No response times")
    # busiest times: a 7 x 24 heatmap; the non-empty cells are the report's weekday/hour pairs
    expect(page.locator("#heatmap .hm-cell")).to_have_count(7 * 24)
    cells = page.locator("#heatmap .hm-cell").all_inner_texts()
    assert sum(int(t) for t in cells if t) == 31_094
    assert sum(1 for t in cells if t) == len(convs["busiest"])

    # interval table: a row per queue and day
    table = page.locator("#table-queues tbody tr")
    expect(table).to_have_count(len(queues["rows"]))
    assert set(page.locator("#table-queues tbody tr td:first-child").all_inner_texts()) == BANK_QUEUES

    # staff table sorts by any column (numbers: largest first, then smallest)
    names = page.locator("#table-agents tbody tr td:first-child")
    expect(names).to_have_count(len(agents["rows"]))
    expect(names.first).to_have_text(sorted(r["agent"] for r in agents["rows"])[0])
    by_handled = sorted(agents["rows"], key=lambda r: r["handled"])
    page.click('#table-agents th[data-key="handled"] button')
    expect(names.first).to_have_text(by_handled[-1]["agent"], timeout=TIMEOUT_MS)
    expect(page.locator('#table-agents th[data-key="handled"]')).to_have_attribute("aria-sort", "descending")
    page.click('#table-agents th[data-key="handled"] button')
    expect(names.first).to_have_text(by_handled[0]["agent"], timeout=TIMEOUT_MS)
    page.click('#table-agents th[data-key="aht_s"] button')
    expect(names.first).to_have_text(max(agents["rows"], key=lambda r: r["aht_s"] or 0)["agent"], timeout=TIMEOUT_MS)
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)

    # CSV: the server's CSV for the interval and staff tables, the page's own for the others
    def download(name):
        with page.expect_download(timeout=10000) as dl:
            page.click(f'button[data-csv="{name}"]')
        path = tmp_path / f"{name}.csv"
        dl.value.save_as(path)
        with path.open(newline="") as f:
            return list(csv.reader(f))

    rows = download("queues")
    assert rows[0][:5] == ["queue", "channel", "start", "offered", "answered"]
    assert len(rows) - 1 == len(queues["rows"]) and {r[0] for r in rows[1:]} == BANK_QUEUES
    assert sum(int(r[3]) for r in rows[1:]) == 31_094
    rows = download("agents")
    assert rows[0][:3] == ["agent", "handled", "replies"] and "csat.mean" in rows[0]
    assert [r[0] for r in rows[1:]] == [r["agent"] for r in agents["rows"]]
    assert [int(r[1]) for r in rows[1:]] == [r["handled"] for r in agents["rows"]]
    rows = download("busiest")
    assert rows[0] == ["weekday", "hour", "conversations"] and len(rows) - 1 == len(convs["busiest"])
    assert sum(int(r[2]) for r in rows[1:]) == 31_094
    rows = download("conversations")
    assert rows[0][0] == "conversations" and rows[1][0] == "31094"
    assert any(u.endswith("format=csv") or "format=csv" in u for u in api_requests)


def test_reports_show_the_api_reason_for_a_bad_range(page, server):
    page.goto(server["url"] + f"/reports?token={server['tokens']['planner']}&from=1999-01-01&to=1999-12-31"
                              "&by=15m&tz=UTC")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    expect(page.locator("#err-queues")).to_contain_text("at most 92 days")
    expect(page.locator("#load-status")).to_contain_text("3 of 3 reports failed")


def test_reports_tolerate_missing_keys(page, server):
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
        page.goto(server["url"] + f"/reports?token={server['tokens']['supervisor']}")
        expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
        expect(page.locator("#chart-volume canvas")).to_have_count(1)
        expect(page.locator("#table-agents tbody td")).to_have_text("No rows.")
        expect(page.locator("#load-status")).to_contain_text("Updated")
    finally:
        app.router.routes[:] = original


# ---- drill-down (issue 17): a figure opens its list, a list opens a contact ----------------------
def test_reports_figure_opens_its_list_and_a_contact(page, server):
    queues = api_json(page, server, "queues", MONTH + "&by=day")
    page.goto(server["url"] + f"/reports?token={server['tokens']['supervisor']}&{MONTH}&by=day")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    card = page.locator('#summary a.card[data-key="abandoned"]')
    expect(card).to_have_attribute("title", re.compile("left before being answered"))  # the definition
    card.click()
    expect(page).to_have_url(re.compile(r"/contacts\?.*outcome=abandoned"))
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    expect(page.locator("#total")).to_have_text(f"{queues['total']['abandoned']:,}")
    expect(page.locator("#definition")).to_contain_text("customer left before being answered")
    rows = page.locator("#table-contacts tbody tr")
    expect(rows).to_have_count(100)
    page.click("#more")
    expect(rows).to_have_count(200, timeout=TIMEOUT_MS)
    assert "format=csv" in page.locator("#csv").get_attribute("href")

    first = rows.first.get_attribute("data-id")
    rows.first.locator("td a").first.click()
    expect(page).to_have_url(re.compile(r"/contact\?id="))
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    expect(page.locator("#contact-id")).to_have_text(first)
    expect(page.locator('#table-events tbody tr[data-type="contact.abandoned"]')).to_have_count(1)
    expect(page.locator('#table-explain tbody tr[data-key="is_within_sl"]')).to_contain_text("threshold_s")
    expect(page.locator('#applied dd[data-key="SL threshold"]')).to_have_text("20s")
    page.screenshot(path=str(SHOTS / "contact.png"), full_page=True)


def test_interval_cell_opens_its_list(page, server):
    queues = api_json(page, server, "queues", MONTH + "&by=day")
    page.goto(server["url"] + f"/reports?token={server['tokens']['supervisor']}&{MONTH}&by=day")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    row = page.locator("#table-queues tbody tr").nth(3)
    queue, channel = row.locator("td").nth(0).inner_text(), row.locator("td").nth(1).inner_text()
    cell = row.locator('td[data-key="answered"] a')
    figure = int(cell.inner_text().replace(",", ""))
    cell.click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    expect(page.locator("#total")).to_have_text(f"{figure:,}")
    assert f"queue={queue}" in page.url and f"channel={channel}" in page.url and "outcome=answered" in page.url
    assert any(r["queue"] == queue and r["answered"] == figure for r in queues["rows"])


def test_bucket_heatmap_cell_and_staff_cell_open_their_lists(page, server):
    """Issue 17: a handle-time bucket, a busiest-times cell and a staff-table cell each land on the
    list whose total is the figure clicked."""
    convs = api_json(page, server, "conversations", MONTH + "&by=day")
    reports_url = server["url"] + f"/reports?token={server['tokens']['supervisor']}&{MONTH}&by=day"

    def open_reports():
        page.goto(reports_url)
        expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)

    def landed_total() -> int:
        expect(page).to_have_url(re.compile(r"/contacts\?"))
        expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
        expect(page.locator("#total")).not_to_have_text("…")
        return int(page.locator("#total").inner_text().replace(",", ""))

    # a bucket: the biggest handle-time bucket, from the buckets table
    label, figure = max(convs["handle_time_buckets"].items(), key=lambda kv: kv[1])
    open_reports()
    row = page.locator("#table-buckets tbody tr", has=page.locator("td", has_text=re.compile("^" + re.escape(label) + "$")))
    row.locator('td[data-key="count"] a').click()
    assert landed_total() == figure > 0
    assert "handle_bucket=" in page.url
    # a response-time bucket counts responses: its list shows them (none in a voice-only month)
    open_reports()
    page.locator("#table-buckets tbody tr", has_text="response time").first.locator('td[data-key="count"] a').click()
    assert landed_total() == 0 and "response_bucket=" in page.url
    expect(page.locator("#responses")).to_be_visible()
    expect(page.locator("#responses-n")).to_have_text(str(convs["response_time_buckets"]["<15m"]))
    # a heatmap cell: the busiest weekday and hour
    cell = max(convs["busiest"], key=lambda c: c["conversations"])
    open_reports()
    link = page.locator(f'#heatmap a.hm-cell[data-weekday="{cell["weekday"]}"][data-hour="{cell["hour"]}"]')
    expect(link).to_have_text(str(cell["conversations"]))
    link.click()
    assert landed_total() == cell["conversations"]
    assert f"weekday={cell['weekday']}" in page.url and f"hour={cell['hour']}" in page.url
    # a staff cell: the closed contacts of the agent who handled most
    agents = api_json(page, server, "agents", MONTH + "&by=day")["rows"]
    top = max(agents, key=lambda r: r["handled"])
    open_reports()
    row = page.locator("#table-agents tbody tr", has=page.locator("td", has_text=re.compile("^" + re.escape(top["agent"]) + "$")))
    row.locator('td[data-key="closed"] a').click()
    assert landed_total() == top["closed"] > 0
    assert "final_agent=" in page.url and "outcome=closed" in page.url


def test_contact_page_shows_the_customer_journey(page, server):
    from pipeline.history import clickhouse_store
    row = server["app"].state.warehouse.call_sync(clickhouse_store.query_rows, """
        SELECT customer, count() AS n, uniqExact(toDate(created)) AS days, argMax(contact_id, created) AS newest
        FROM contacts FINAL WHERE customer != '' GROUP BY customer HAVING days >= 3
        ORDER BY n, customer LIMIT 1""")[0]
    page.goto(server["url"] + f"/contact?id={row['newest']}&token={server['tokens']['planner']}")
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    journey = page.locator("#table-journey tbody tr")
    expect(journey).to_have_count(row["n"])
    expect(journey.first).to_have_attribute("data-id", row["newest"])   # newest first: this one
    expect(journey.first).to_have_class("current")
    expect(page.locator("#customer-name")).to_have_text(row["customer"])
    expect(page.locator("#table-events td details")).to_have_count(0)   # planners: no raw events
    journey.nth(1).locator("a").first.click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
    expect(page.locator("#table-journey tbody tr.current")).to_have_count(1)
    expect(page.locator("#table-journey tbody tr").nth(1)).to_have_class("current")  # the second newest
