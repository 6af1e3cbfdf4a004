"""Issue 14, end to end with `tablero up` running (worker + API + chDB in one process):
emails land with their business twins in the running calendar; `tablero recompute --what-if`
(through the API) shows both definitions and writes nothing; `tablero recompute` under a new
calendar rewrites history while the stack runs, and a reader polling the report meanwhile sees
the old numbers or the new ones, never a mix."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import orjson

from tests.system.stack import ADMIN, ROOT, Stack, wait_for

OLD = """
site_tz = "UTC"
[calendars.default]
hours = { mon = ["09:00-17:00"], tue = ["09:00-17:00"], wed = ["09:00-17:00"], thu = ["09:00-17:00"], fri = ["09:00-17:00"] }
[queues.mail]
channel = "email"
threshold_s = 3600
clock = "business"
"""
NEW = OLD.replace('fri = ["09:00-17:00"]', 'fri = ["09:00-17:00"], sat = ["09:00-17:00"], sun = ["09:00-17:00"]')
N = 120
RANGE = {"from": "2024-03-01", "to": "2024-03-31", "tz": "UTC"}


def _events() -> list[dict]:
    """N emails created on Friday 2024-03-08 16:30, each answered on Monday 09:20 (+ i s)."""
    out = []
    created = dt.datetime(2024, 3, 8, 16, 30, tzinfo=dt.timezone.utc)
    for i in range(N):
        cid = f"bz-{i}"
        out.append({"specversion": "1.0", "id": f"{cid}-c", "source": "test", "type": "contact.created",
                    "time": created.isoformat(), "subject": cid, "data": {"channel": "email", "queue": "mail"}})
        reply = dt.datetime(2024, 3, 11, 9, 20, i % 60, tzinfo=dt.timezone.utc)
        out.append({"specversion": "1.0", "id": f"{cid}-r", "source": "test", "type": "contact.agent_replied",
                    "time": reply.isoformat(), "subject": cid, "data": {"agent": "ana"}})
    return out


def _first_response_business(stack) -> float | None:
    r = stack.get("/api/v1/reports/conversations", **RANGE)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["first_response_business_s"]["mean"], body["conversations"]


def _cli(stack, *args) -> subprocess.CompletedProcess:
    env = {**stack.env(), "TABLERO_ADMIN_TOKEN": ADMIN}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "recompute", "--api", stack.url, *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_recompute_what_if_and_rewrite_while_up(kafka_bootstrap, tmp_path):
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text(OLD)
    new.write_text(NEW)
    stack = Stack(kafka_bootstrap, tmp_path / "stack", extra_env={"TABLERO_QUEUES_FILE": str(old)})
    stack.start()
    try:
        assert stack.post_events(_events()).status_code in (200, 202)
        # Fri 16:30-17:00 + Mon 09:00-09:20 = 50 min of business time (+ i % 60 s)
        old_mean = 50 * 60 + sum(i % 60 for i in range(N)) / N
        wait_for(lambda: _first_response_business(stack) == (old_mean, N), timeout=120, what="emails landed")
        before = stack.get("/api/v1/reports/conversations", **RANGE).json()
        assert before["sla_compliance"] == 1.0  # business clock: 50 min < 1 h

        # what-if: both shown, nothing written
        r = _cli(stack, "--settings", str(new), "--what-if", "--from", "2024-03-01", "--to", "2024-03-31",
                 "--format", "json")
        assert r.returncode == 0, r.stderr
        out = orjson.loads(r.stdout)
        assert out["mode"] == "what_if" and out["current"]["version"] != out["what_if"]["version"]
        # with weekends open: Fri 16:30 -> Mon 09:20 is 7.5 h Fri-Sun + 20 min
        new_mean = old_mean + (2 * 8 * 3600)
        assert out["current"]["conversations"]["first_response_business_s"]["mean"] == old_mean
        assert out["what_if"]["conversations"]["first_response_business_s"]["mean"] == new_mean
        assert out["what_if"]["conversations"]["sla_compliance"] == 0.0
        assert stack.get("/api/v1/reports/conversations", **RANGE).json() == before

        # rewrite while up, with a reader polling the report
        seen: list = []
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                seen.append(_first_response_business(stack))

        t = threading.Thread(target=reader)
        t.start()
        try:
            r = _cli(stack, "--settings", str(new), "--from", "2024-03-01", "--to", "2024-03-31")
        finally:
            wait_for(lambda: len(seen) >= 3, timeout=60, what="a few reads")
            stop.set()
            t.join(60)
        assert r.returncode == 0, r.stderr
        assert f"recomputed {N} contacts" in r.stderr and "the worker runs version" in r.stderr
        assert {s for s in seen} <= {(old_mean, N), (new_mean, N)}, set(seen)
        assert _first_response_business(stack) == (new_mean, N)
        assert stack.get("/api/v1/reports/conversations", **RANGE).json()["sla_compliance"] == 0.0
    finally:
        stack.stop()
