"""The wallboard shows firing alerts: a banner, and the alerting queue's tile marked. Headless
Chromium against the real app (uvicorn); the app's alert book is filled with real `tablero.alerts`
records (the Kafka side of the service is covered by tests/pipeline/alerts/test_service.py)."""
from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from _app import ADMIN_TOKEN, close_warehouse, make_settings
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
