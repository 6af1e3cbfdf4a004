"""Issue 6 through the whole pipeline: an event posted over HTTP goes through Kafka, the worker,
tablero.live, the API's merge and the websocket, and changes the wallboard tile in Chromium."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.system.stack import ADMIN, Stack

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _event(eid: str, typ: str, subject: str, **data) -> dict:
    return {"specversion": "1.0", "id": eid, "source": "e2e", "type": typ,
            "time": dt.datetime.now(dt.timezone.utc).isoformat(), "subject": subject, "data": data}


@pytest.fixture
def page(stack: Stack):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()


def test_a_posted_event_changes_the_tile(stack: Stack, page):
    queue = "e2e-" + uuid.uuid4().hex[:6]
    page.goto(f"{stack.url}/?token={ADMIN}")
    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=30_000)
    waiting = page.locator(f'#tiles .tile[data-queue="{queue}"] [data-testid="waiting"]')

    t0 = time.monotonic()
    assert stack.post_events([_event("e1", "contact.created", "c-e2e", channel="voice", queue=queue)]).status_code == 202
    expect(waiting).to_have_text("1", timeout=10_000)
    shown_s = time.monotonic() - t0
    assert stack.post_events([_event("e2", "contact.answered", "c-e2e", agent="ana")]).status_code == 202
    expect(waiting).to_have_text("0", timeout=10_000)
    print(f"\nHTTP post -> tile changed in {shown_s * 1000:.0f} ms (through Kafka, worker, tablero.live, websocket)")
