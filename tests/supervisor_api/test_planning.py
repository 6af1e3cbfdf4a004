"""Planning API and page against the real app (uvicorn, chDB, session Kafka) with the Anonymous Bank
month (Feb 1999) landed once for the module (tests/supervisor_api/_bank_history.py). The bank's log
has no agent states: presence comes from the agents seen on calls."""
from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

from _app import ADMIN_TOKEN, close_warehouse, make_settings
from _bank_history import land_bank_month
from pipeline.connectors.anonymous_bank import iter_calls
from pipeline.planning import forecast
from supervisor_api import auth
from supervisor_api.auth import TokenStore
from supervisor_api.main import create_app
from tests.datasets import ANONYMOUS_BANK

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOAD_MS = 30000
SHOTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "screenshots"
SHOTS.mkdir(parents=True, exist_ok=True)
WEEK = "from=1999-02-21&to=1999-02-25&tz=UTC&channel=voice&queue=PS"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, kafka_bootstrap, chdb_dir):
    tmp = tmp_path_factory.mktemp("planning")
    settings = make_settings(tmp, kafka_bootstrap, chdb_dir)
    store = TokenStore(settings.tokens_path)
    tokens = {"planner": store.create("plan-planner", "planner"),
              "planner_ne": store.create("plan-ne", "planner", ["NE"]),
              "publisher": store.create("plan-publisher", "publisher")}
    app = create_app(settings, run_live_feed=False, migrate=True)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 60
        while not srv.started:
            assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        landed = app.state.warehouse.call_sync(land_bank_month)
        assert landed["dead_letters"] == 0
        yield {"url": f"http://127.0.0.1:{port}", "tokens": tokens}
    finally:
        srv.should_exit = True
        th.join(15)
        close_warehouse(app)
        auth.TOKENS.pop(settings.admin_token, None)


def get(server, path, token="planner", **params):
    import httpx
    return httpx.get(server["url"] + path, params=params, timeout=120,
                     headers={"Authorization": f"Bearer {server['tokens'].get(token, token)}"})


def test_erlang_endpoint_worked_example_and_errors(server):
    r = get(server, "/api/v1/planning/erlang", volume=100, interval_s=1800, aht_s=180, target_sl=0.8,
            target_answer_s=20, shrinkage=0.3)
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["agents"], d["staff"]) == (14, 20)
    assert round(d["service_level"], 3) == 0.888 and round(d["p_wait"], 3) == 0.174
    assert round(d["asa_s"], 1) == 7.8 and round(d["occupancy"], 3) == 0.714 and d["p_abandon"] == 0
    r = get(server, "/api/v1/planning/erlang", volume=100, interval_s=1800, aht_s=180, agents=14, model="a",
            patience_s=120)
    assert r.status_code == 200 and r.json()["agents"] == 14 and 0 < r.json()["p_abandon"] < 0.1
    r = get(server, "/api/v1/planning/erlang", volume=100, aht_s=180, model="a")
    assert r.status_code == 400 and r.json()["detail"]["param"] == "patience_s"
    assert get(server, "/api/v1/planning/erlang", "publisher", volume=1, aht_s=1).status_code == 403


def _bank_agents_on_ps_calls(start_epoch: int) -> int:
    """Independent count from the raw file: PS agents whose answered -> closed span overlaps the
    15-minute interval starting at start_epoch (UTC wall-clock, as the importer reads it)."""
    agents = set()
    for c in iter_calls(ANONYMOUS_BANK):
        if c.queue != "PS" or c.answered is None or c.closed is None:
            continue
        a, z = c.answered.timestamp(), c.closed.timestamp()
        if a < start_epoch + 900 and max(z, a + 0.001) > start_epoch:
            agents.add(c.agent)
    return len(agents)


def test_staffing_on_the_bank_month(server):
    r = get(server, "/api/v1/planning/staffing", **dict(p.split("=") for p in WEEK.split("&")))
    assert r.status_code == 200, r.text
    d = r.json()
    rows = d["rows"]
    assert len(rows) == 5 * 96 and d["interval_s"] == 900
    assert d["summary"]["presence"] == "contacts"
    assert d["method"] in forecast.METHODS
    assert {b["method"] for b in d["backtest"]} == set(forecast.METHODS)
    busy = [x for x in rows if x["actual_volume"] >= 10]
    assert len(busy) > 100
    for x in rows:
        assert x["past"] is True and x["agents_logged_in"] is None
        if x["forecast_volume"] > 0:
            assert x["agents_required"] >= 1 and x["staff_required"] >= x["agents_required"]
        if x["agents_required_actual"] is not None:
            assert x["shortfall"] == x["agents_required_actual"] - x["agents_seen"]
            assert x["understaffed"] == (x["shortfall"] > 0)
    # actual volumes are the contacts created in each interval: the week's total
    total = sum(x["actual_volume"] for x in rows)
    created = sum(1 for c in iter_calls(ANONYMOUS_BANK) if c.queue == "PS"
                  and "1999-02-21" <= c.created.date().isoformat() <= "1999-02-25")
    assert total == created
    # agents seen in the busiest interval, checked against the raw file
    peak = max(rows, key=lambda x: x["actual_volume"])
    import datetime as dt
    assert peak["agents_seen"] == _bank_agents_on_ps_calls(int(dt.datetime.fromisoformat(peak["start"]).timestamp()))
    # the bank's own service level was poor where it was short of agents
    short = [x for x in busy if x["understaffed"] and x["actual_service_level"] is not None]
    fine = [x for x in busy if x["shortfall"] is not None and x["shortfall"] <= -1 and x["actual_service_level"] is not None]
    assert short and fine
    mean = lambda xs: sum(x["actual_service_level"] for x in xs) / len(xs)  # noqa: E731
    assert mean(short) < mean(fine)
    # required agents in the CSV are the JSON's
    r = get(server, "/api/v1/planning/staffing", format="csv", **dict(p.split("=") for p in WEEK.split("&")))
    lines = list(csv.DictReader(r.text.splitlines()))
    assert [int(x["agents_required"]) for x in lines] == [x["agents_required"] for x in rows]


def test_staffing_scopes_and_bad_input(server):
    q = dict(p.split("=") for p in WEEK.split("&"))
    assert get(server, "/api/v1/planning/staffing", "planner_ne", **q).status_code == 403
    q_ne = dict(q, queue="NE")
    r = get(server, "/api/v1/planning/staffing", "planner_ne", **q_ne)
    assert r.status_code == 200 and sum(x["actual_volume"] for x in r.json()["rows"]) > 0
    r = get(server, "/api/v1/planning/staffing", **dict(q, to="1999-01-01"))
    assert r.status_code == 400 and r.json()["detail"]["param"] == "from"
    r = get(server, "/api/v1/planning/staffing", **dict(q, tz="Mars/Base"))
    assert r.status_code == 400 and r.json()["detail"]["param"] == "tz"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def test_planning_page(browser, server, tmp_path):
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server["url"] + f"/reports?token={server['tokens']['planner']}")
        page.click('nav a[href="/planning"]')
        page.wait_for_url("**/planning")
        page.goto(server["url"] + "/planning?" + WEEK)      # the token is remembered from the reports page
        expect(page.locator("body")).to_have_attribute("data-loaded", "1", timeout=LOAD_MS)
        expect(page.locator("#load-status")).to_contain_text("Updated")
        data = page.evaluate("window.tableroPlanning.data")
        rows = data["rows"]
        expect(page.locator("#table-staffing tbody tr")).to_have_count(len(rows))
        expect(page.locator("#table-staffing tbody tr.understaffed")).to_have_count(
            sum(1 for r in rows if r["understaffed"]))
        expect(page.locator('#summary .card[data-key="understaffed"] .card-value')).to_have_text(
            f"{data['summary']['understaffed_intervals']} of {data['summary']['past_intervals']}")
        for name in ("volume", "agents"):
            expect(page.locator(f"#chart-{name} canvas")).to_have_count(1)
        volume = page.evaluate("window.tableroPlanning.charts.volume.data")
        assert sum(volume[2]) == sum(r["actual_volume"] for r in rows)
        expect(page.locator("#presence-note")).to_contain_text("agents seen")
        page.screenshot(path=str(SHOTS / "planning.png"), full_page=True)
        with page.expect_download(timeout=10000) as dl:
            page.click("#csv")
        path = tmp_path / "staffing.csv"
        dl.value.save_as(path)
        with path.open(newline="") as f:
            got = list(csv.DictReader(f))
        assert len(got) == len(rows) and got[0]["start"] == rows[0]["start"]
        # a bad range shows the API's reason
        page.fill("#to", "1999-01-01")
        page.click("#controls button[type=submit]")
        expect(page.locator("#error")).to_contain_text("from", timeout=LOAD_MS)
    finally:
        ctx.close()
    assert errors == []
