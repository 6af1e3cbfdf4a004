"""Issue 12 end to end, against `tablero up`:
- a queue_log written and rotated (twice, once while the connector is down after a kill -9) while
  `tablero connect asterisk --follow` runs: the queue report equals an independent count of the
  lines, and the connector's closing report names the ignored verbs with their exact counts;
- Chatwoot webhooks posted over HTTP (token in the query) reach the live view."""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from pipeline.connectors.asterisk_file import checkpoint_path
from tests.queue_log_sample import expected, generate
from tests.system.stack import ADMIN, ROOT, Stack, wait_for

DAY = {"from": "2024-12-02", "to": "2024-12-03", "tz": "UTC", "by": "day"}
CHATWOOT = ROOT / "tests" / "data" / "chatwoot"


def _connector(stack: Stack, path: Path, n: int) -> subprocess.Popen:
    log = open(stack.data_dir / f"connector-{n}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "connect", "asterisk", str(path), "--follow"],
                            env=stack.env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def _append(path: Path, lines: list[str]) -> None:
    with open(path, "a") as f:
        f.write("".join(line + "\n" for line in lines))


def _caught_up(cp: Path, path: Path) -> bool:
    """The connector's checkpoint is at the end of the current file."""
    if not cp.exists():
        return False
    pos = orjson.loads(cp.read_bytes())["position"]
    st = os.stat(path)
    return pos is not None and (pos["dev"], pos["ino"]) == (st.st_dev, st.st_ino) and pos["offset"] == st.st_size


def _queues(stack: Stack) -> dict:
    r = stack.get("/api/v1/reports/queues", **DAY)
    assert r.status_code == 200, r.text
    out: dict[str, dict] = {}
    for row in r.json()["rows"]:
        q = out.setdefault(row["queue"], {"offered": 0, "answered": 0, "abandoned": 0})
        for k in q:
            q[k] += row[k]
    return out


def _rotate(path: Path) -> None:
    """logrotate's default (rename, create): .1 -> .2, the file -> .1, a new empty file."""
    one = path.with_name(path.name + ".1")
    if one.exists():
        os.rename(one, path.with_name(path.name + ".2"))
    os.rename(path, one)
    path.touch()


def test_queue_log_with_rotations_and_a_crash_then_chatwoot_webhooks(stack: Stack, tmp_path: Path):
    lines = generate(400, start=1733126400, seed=12, malformed_every=50)  # 2024-12-02 08:00 UTC on
    want = expected(lines)
    n = len(lines)
    parts = [lines[: n // 4], lines[n // 4: n // 2], lines[n // 2: 5 * n // 8], lines[5 * n // 8: 3 * n // 4],
             lines[3 * n // 4:]]
    log_dir = tmp_path / "asterisk"
    log_dir.mkdir()
    path = log_dir / "queue_log"
    cp = checkpoint_path(stack.data_dir, path, "asterisk")

    _append(path, parts[0])
    first = _connector(stack, path, 1)
    try:
        wait_for(lambda: _caught_up(cp, path), timeout=90, what="connector read part 1")
        _rotate(path)                       # rotation while it runs
        _append(path, parts[1])
        wait_for(lambda: _caught_up(cp, path), timeout=60, what="connector followed the rotation")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # crash: no goodbye, checkpoint as last saved
        first.wait(30)
    _append(path, parts[2])                 # written while the connector is down ...
    _rotate(path)                           # ... then rotated away while it is down
    _append(path, parts[3])
    second = _connector(stack, path, 2)
    try:
        _append(path, parts[4])
        wait_for(lambda: _caught_up(cp, path), timeout=90, what="connector caught up after the restart")
        wait_for(lambda: _queues(stack) == want["queues"], timeout=120, interval=1,
                 what=f"queue report = the file's count {want['queues']}")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    out = (stack.data_dir / "connector-2.log").read_text()
    [ignored] = [line.removeprefix("ignored: ") for line in out.splitlines() if line.startswith("ignored: ")]
    got = dict((verb, int(n.replace(",", ""))) for verb, n in (item.rsplit(" ", 1) for item in ignored.split(", ")))
    assert got == want["ignored"], out  # counts survive the crash and the restart (kept in the checkpoint)
    assert set(_dead_letter_values(stack)) == {m.encode() for m in want["malformed"]}

    # Chatwoot: a chat appears waiting in the live view, an agent reply takes it, resolving closes it
    now = time.time()
    conv = orjson.loads((CHATWOOT / "conversation_created.json").read_bytes())
    conv.update(id=9001, created_at=int(now) - 30, updated_at=now - 30)
    url = f"{stack.url}/api/v1/connectors/chatwoot?token={ADMIN}"
    assert httpx.post(url, content=orjson.dumps(conv), timeout=30).status_code == 200

    def chat(key: str):
        return next((q.get(key) for q in stack.live()["queues"] if q["queue"] == "inbox-3" and q["channel"] == "chat"), None)

    wait_for(lambda: chat("waiting") == 1, timeout=60, what="the chat waits in the live view")
    msg = orjson.loads((CHATWOOT / "message_created_incoming.json").read_bytes())
    msg["conversation"].update(id=9001, channel="Channel::WebWidget", first_reply_created_at=None)
    msg.update(id=555001, message_type="outgoing", created_at=now - 5,
               sender={"id": 12, "name": "Ana Agent", "email": "ana@example.com", "type": "user"})
    r = httpx.post(url, content=orjson.dumps(msg), timeout=30)
    assert r.status_code == 200 and r.json()["events"] == ["chatwoot-9001:answered", "chatwoot-9001:agent_replied:555001"]
    wait_for(lambda: chat("waiting") == 0 and chat("in_progress") == 1, timeout=60, what="the agent took the chat")
    resolved = copy.deepcopy(conv)
    resolved.update(event="conversation_status_changed", status="resolved", updated_at=now - 1,
                    changed_attributes=[{"status": {"previous_value": "open", "current_value": "resolved"}}])
    assert httpx.post(url, content=orjson.dumps(resolved), timeout=30).status_code == 200
    wait_for(lambda: chat("in_progress") == 0, timeout=60, what="the resolved chat left the live view")


def _dead_letter_values(stack: Stack) -> list[bytes]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    try:
        tp = TopicPartition(f"{stack.namespace}.tablero.events.dlq", 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        return [m.value for m in consumer if (dict(m.headers or []).get("tablero.code") == b"malformed_source")]
    finally:
        consumer.close()
