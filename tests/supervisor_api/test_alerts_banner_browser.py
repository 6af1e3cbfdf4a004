"""The wallboard shows firing alerts: a banner, and the alerting queue's tile marked; supervisors
acknowledge from the banner. Headless Chromium against the real app (uvicorn): the first test fills
the app's alert book with real `tablero.alerts` records, the second runs the app's own alert service
on the session's Kafka."""
from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from _app import ADMIN_TOKEN, alerts_settings, close_warehouse, make_settings
from _live_sample import make_view
from test_pages_browser import CHROMIUM, CHROMIUM_ARGS, add_test_routes, free_port, publish
from pipeline.alerts import records
from pipeline.alerts.engine import Episode
from pipeline.alerts.service import AlertService
from supervisor_api import auth
from supervisor_api.auth import TokenStore
from supervisor_api.main import create_app

import uvicorn


def episode(eid: str, queue: str, channel: str, severity: str, rule: str) -> Episode:
    return Episode(id=eid, rule=rule, kind="queue", scope={"queue": queue, "channel": channel},
                   scope_key=f"queue:{queue}/{channel}", severity=severity, metric="waiting", op=">",
                   threshold=5, value=9, started_at=time.time() - 60, fired_at=time.time(), rev=1)


@pytest.fixture(scope="module")
def board(tmp_path_factory, kafka_bootstrap, chdb_dir):
    tmp = tmp_path_factory.mktemp("alerts-board")
    settings = make_settings(tmp, kafka_bootstrap, chdb_dir)
    billing = TokenStore(settings.tokens_path).create("tv-billing", "wallboard", ["billing"])
    app = create_app(settings, run_live_feed=False, migrate=True)
    add_test_routes(app)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 60
        while not srv.started:
            assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        service = AlertService(bootstrap=kafka_bootstrap, topic="unused", group="unused", state_topic="unused",
                               rules_file=None, view_source=lambda: None)
        for ep in (episode("e1", "billing", "voice", "critical", "billing too deep"),
                   episode("e2", "secret-vip", "chat", "warning", "vip chat waits")):
            service.book.apply(records.episode_key(ep.id), records.encode_episode(ep, "fired", ep.fired_at))
        app.state.alerts = service
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield {"url": f"http://127.0.0.1:{port}", "browser": browser, "billing": billing}
            browser.close()
    finally:
        srv.should_exit = True
        th.join(15)
        close_warehouse(app)
        auth.TOKENS.pop(settings.admin_token, None)


def test_banner_and_marked_tiles_respect_the_token_scope(board):
    for token, banner_texts, hidden in ((ADMIN_TOKEN, ["billing too deep", "vip chat waits"], []),
                                        (board["billing"], ["billing too deep"], ["vip chat waits"])):
        ctx = board["browser"].new_context(viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{board['url']}/?token={token}")
        publish(board, page, make_view(billing_waiting=9, secret_waiting=3))
        banner = page.locator("#alerts-banner")
        expect(banner).to_be_visible(timeout=15000)
        for text in banner_texts:
            expect(banner).to_contain_text(text)
        for text in hidden:
            expect(banner).not_to_contain_text(text)
        expect(banner).to_have_attribute("data-severity", "critical")
        billing_tile = page.locator('#tiles .tile[data-queue="billing"][data-channel="voice"]')
        expect(billing_tile).to_have_class(re.compile(r"\bhas-alert\b"))
        expect(billing_tile).to_have_attribute("data-alert", "critical")
        # the tile stays marked after the next live update re-renders the tiles
        publish(board, page, make_view(billing_waiting=10, secret_waiting=3))
        expect(billing_tile.locator('[data-testid="waiting"]')).to_have_text("10")
        expect(billing_tile).to_have_attribute("data-alert", "critical")
        ctx.close()
        assert errors == []


def test_a_supervisor_acknowledges_from_the_banner(board, tmp_path, kafka_bootstrap, chdb_dir):
    """The whole path from a click: the app's own alert service (the session's Kafka, a rules file)
    fires on a live view; the supervisor's banner offers "Ack", the click records the ack (the API,
    then the owner folds it in from tablero.alerts), and the button is gone. A wallboard token sees
    the alert but no button (it may not acknowledge)."""
    settings = alerts_settings(tmp_path, kafka_bootstrap, chdb_dir,
                               '[[rules]]\nname = "billing too deep"\nqueue = "billing"\nmetric = "waiting"\n'
                               'threshold = 5\nseverity = "critical"\n')
    store = TokenStore(settings.tokens_path)
    supervisor = store.create("floor-lead", "supervisor")
    tv = store.create("tv-billing", "wallboard", ["billing"])
    app = create_app(settings, run_live_feed=False, migrate=True, run_alerts=True)
    add_test_routes(app)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    server = {"url": f"http://127.0.0.1:{port}"}
    try:
        deadline = time.monotonic() + 60
        while not srv.started:
            assert th.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        ctx = board["browser"].new_context(viewport={"width": 1400, "height": 900})  # the module's browser
        page, tv_page = ctx.new_page(), ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server['url']}/?token={supervisor}")
        tv_page.goto(f"{server['url']}/?token={tv}")
        publish(server, page, make_view(billing_waiting=9, secret_waiting=3))  # fires (the owner evaluates)
        item = page.locator("#alerts-banner .alert-item", has_text="billing too deep")
        expect(item).to_be_visible(timeout=60000)
        expect(tv_page.locator("#alerts-banner .alert-item", has_text="billing too deep")).to_be_visible(timeout=15000)
        expect(tv_page.locator("#alerts-banner .alert-ack")).to_have_count(0)
        item.locator(".alert-ack").click()
        expect(item).to_contain_text("(ack)", timeout=15000)
        expect(page.locator("#alerts-banner .alert-ack")).to_have_count(0)
        ep = app.state.alerts.book
        deadline = time.monotonic() + 60
        while not any(e.acked_by for e in ep.episodes.values()):  # the owner recorded it from Kafka
            assert time.monotonic() < deadline, "the ack was not recorded"
            time.sleep(0.1)
        acked = next(e for e in ep.episodes.values() if e.acked_by)
        assert acked.rule == "billing too deep" and acked.acked_by.startswith("token ") and supervisor not in acked.acked_by
        expect(item).to_contain_text("(ack)")  # still acknowledged after the next polls
        ctx.close()
        assert errors == []
    finally:
        srv.should_exit = True
        th.join(15)
        close_warehouse(app)
        auth.TOKENS.pop(settings.admin_token, None)
