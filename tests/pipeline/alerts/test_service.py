"""The alert service against the session's real Kafka broker, a real HTTP receiver and a real SMTP
server (aiosmtpd): each notification arrives exactly once across a restart, a kill -9 and with two replicas,
failed deliveries are retried and then kept as undeliverable, lifecycle rows land in ClickHouse.

The clock is injected (a number the test moves), so the 24-hour escalation needs no waiting; only
Kafka round trips take real time, and every wait polls with a generous deadline."""
from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from pipeline.alerts.service import AlertService
from pipeline.history.warehouse import MIGRATIONS_DIR, Warehouse
from pipeline.history import clickhouse_store
from tests.pipeline.alerts.receivers import HttpReceiver, SmtpReceiver

T0 = 1_800_000_000.0
DAY = 86400.0


async def until(cond, timeout: float = 60.0, what: str = "condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def row(waiting: int) -> dict:
    return {"queue": "support-email", "channel": "email", "waiting": waiting, "oldest_wait_s": None,
            "today": {}, "last_30m": {}}


def email_state(contact: str, events: list) -> bytes:
    """A worker's `c:<contact>` state record (pipeline.live.contact_state.ContactState.to_dict form)."""
    return orjson.dumps({"p": 0, "c": {"c": contact, "e": events}})


CREATED = [T0, "e1", "contact.created", ["email", "support-email", "cust-1", 0, []]]
ASSIGNED = [T0 + 60, "e2", "contact.assigned", "ana"]


@pytest.fixture
def world(kafka_bootstrap, tmp_path):
    ns = f"al{uuid.uuid4().hex[:8]}"
    topics = {"topic": f"{ns}.tablero.alerts", "group": f"{ns}-tablero-alerts", "state_topic": f"{ns}.tablero.state"}
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topics["topic"], 1, 1, topic_configs={"cleanup.policy": "compact"}),
                             NewTopic(topics["state_topic"], 2, 1, topic_configs={"cleanup.policy": "compact"})])
    finally:
        admin.close()
    http, smtp = HttpReceiver(), SmtpReceiver()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    yield {"bootstrap": kafka_bootstrap, "topics": topics, "http": http, "smtp": smtp, "tmp": tmp_path,
           "producer": producer}
    producer.close()
    http.close()
    smtp.close()


def write_rules(world, text: str):
    path = world["tmp"] / "alerts.toml"
    path.write_text(text.replace("HTTP", world["http"].url))
    return path


RULES = """
[[rules]]
name = "email queue too deep"
queue = "support-email"
metric = "waiting"
threshold = 5
clear = 2
severity = "critical"
notify = ["webhook:HTTP/hook", "slack:HTTP/slack/T000/B000/XXXX", "email:team@example.com"]

[[rules]]
name = "untouched email"
kind = "contact"
channel = "email"
untouched_for_s = 86400
escalate_to = "second-line"
notify = ["webhook:HTTP/escalations"]
"""


def make(world, rules_path, view: dict, clock: Clock, **kw) -> AlertService:
    return AlertService(bootstrap=world["bootstrap"], **world["topics"], rules_file=rules_path,
                        view_source=lambda: view, smtp=world["smtp"].dsn, sender="tablero@example.com",
                        interval_s=0.05, clock=clock, **kw)


def counts(world) -> dict:
    http = world["http"]
    return {"hook": len(http.at("/hook")), "slack": len(http.at("/slack/T000/B000/XXXX")),
            "mail": len(world["smtp"].messages), "esc": len(http.at("/escalations"))}


async def test_exactly_once_across_a_restart(world, chdb_dir):
    rules = write_rules(world, RULES)
    clock = Clock(T0 + DAY - 1)
    view = {"queues": [row(3)], "channels": [], "total": {}, "agent_states": {}}
    world["producer"].send(world["topics"]["state_topic"], email_state("m-1", [CREATED, ASSIGNED]),
                           key=b"c:m-1", partition=1).get(30)
    wh = Warehouse(f"chdb://{chdb_dir}?database=alerts_{uuid.uuid4().hex[:8]}")
    wh.migrate_sync()

    first = make(world, rules, view, clock, warehouse=wh)
    await first.start()
    try:
        await until(lambda: first.owner, what="the only replica to own evaluation")
        await until(lambda: first.contacts is not None, what="contact facts caught up")
        ticks = first.ticks
        await until(lambda: first.ticks > ticks + 5)
        assert counts(world) == {"hook": 0, "slack": 0, "mail": 0, "esc": 0}   # nothing holds yet
        view["queues"] = [row(9)]
        clock.now = T0 + DAY                                  # m-1 created 24 h ago, never worked
        await until(lambda: counts(world) == {"hook": 1, "slack": 1, "mail": 1, "esc": 1},
                    what="one firing notification per target")
    finally:
        await first.stop()

    hook = world["http"].at("/hook")[0]
    assert (hook["rule"], hook["state"], hook["severity"], hook["value"], hook["threshold"]) == (
        "email queue too deep", "firing", "critical", 9.0, 5.0)
    assert hook["scope"] == {"queue": "support-email", "channel": "email"} and hook["contacts"] == []
    assert hook["notification_id"] == hook["episode_id"] + ":firing" and hook["started_at"].endswith("Z")
    esc = world["http"].at("/escalations")[0]
    assert (esc["contacts"], esc["escalate_to"], esc["scope"]["agent"], esc["kind"]) == (
        ["m-1"], "second-line", "ana", "untouched")
    assert world["http"].at("/slack/T000/B000/XXXX")[0] == {
        "text": world["http"].at("/slack/T000/B000/XXXX")[0]["text"]}
    assert "email queue too deep" in world["http"].at("/slack/T000/B000/XXXX")[0]["text"]
    mail = world["smtp"].messages[0]
    assert mail["To"] == "team@example.com" and "[CRITICAL] email queue too deep" in mail["Subject"]

    # a new process: the condition still holds; it must not notify again
    second = make(world, rules, view, clock, warehouse=wh)
    await second.start()
    try:
        await until(lambda: second.owner and second.contacts is not None, what="the restarted owner")
        ticks = second.ticks
        await until(lambda: second.ticks > ticks + 10)
        assert counts(world) == {"hook": 1, "slack": 1, "mail": 1, "esc": 1}
        # the queue recovers past `clear`, an agent opens m-1: each resolves once
        view["queues"] = [row(1)]
        clock.now = T0 + DAY + 30
        world["producer"].send(world["topics"]["state_topic"], email_state(
            "m-1", [CREATED, ASSIGNED, [T0 + DAY + 20, "e3", "contact.opened", "ana"]]),
            key=b"c:m-1", partition=1).get(30)
        await until(lambda: counts(world) == {"hook": 2, "slack": 2, "mail": 2, "esc": 2},
                    what="one resolved notification per target")
        ticks = second.ticks
        await until(lambda: second.ticks > ticks + 10)
        assert counts(world) == {"hook": 2, "slack": 2, "mail": 2, "esc": 2}
        assert [b["state"] for b in world["http"].at("/hook")] == ["firing", "resolved"]
        await until(lambda: not second._history, what="history rows inserted")
    finally:
        await second.stop()

    rows = wh.call_sync(clickhouse_store.query_rows, "SELECT rule, event, target FROM alerts FINAL "
                                                      "ORDER BY rule, event, target")
    events = [(r["rule"], r["event"]) for r in rows]
    assert events.count(("email queue too deep", "fired")) == 1
    assert events.count(("email queue too deep", "resolved")) == 1
    assert events.count(("email queue too deep", "delivered")) == 3   # one row per target
    assert events.count(("untouched email", "fired")) == 1
    wh.close()


async def test_two_replicas_notify_once_and_hand_over(world):
    rules = write_rules(world, RULES.split("[[rules]]\nname = \"untouched")[0])
    clock = Clock(T0)
    view = {"queues": [row(0)], "channels": [], "total": {}, "agent_states": {}}
    a, b = make(world, rules, view, clock), make(world, rules, view, clock)
    await a.start()
    await b.start()
    try:
        await until(lambda: a.joined and b.joined and (a.owner != b.owner), what="exactly one owner")
        view["queues"] = [row(9)]
        await until(lambda: counts(world)["hook"] == 1 and counts(world)["mail"] == 1, what="firing")
        owner, other = (a, b) if a.owner else (b, a)
        await until(lambda: len(other.book.active()) == 1, what="the other replica's book")
        ep_id = other.book.active()[0].id
        # acknowledged through the replica that does not evaluate: the owner records it
        await other.ack(ep_id, "sam")
        await until(lambda: owner.book.episodes[ep_id].acked_by == "sam", what="ack folded in by the owner")
        await until(lambda: other.book.episodes[ep_id].acked_by == "sam", what="ack seen by the other")
        # the owner stops: the other takes over without notifying again
        await owner.stop()
        await until(lambda: other.owner, what="hand-over")
        ticks = other.ticks
        await until(lambda: other.ticks > ticks + 10)
        assert counts(world) == {"hook": 1, "slack": 1, "mail": 1, "esc": 0}
        view["queues"] = [row(0)]
        await until(lambda: counts(world)["hook"] == 2 and counts(world)["mail"] == 2, what="resolved")
        ticks = other.ticks
        await until(lambda: other.ticks > ticks + 10)
        assert counts(world) == {"hook": 2, "slack": 2, "mail": 2, "esc": 0}
        assert other.book.episodes[ep_id].acked_by == "sam"
    finally:
        await a.stop()
        await b.stop()


async def test_failed_deliveries_are_retried_then_kept_as_undeliverable(world):
    http = world["http"]
    http.fail["/flaky"] = 1          # one 503, then accepted
    http.fail["/down"] = 10 ** 6     # never accepted
    rules = write_rules(world, '[[rules]]\nname = "deep"\nmetric = "waiting"\nthreshold = 5\n'
                               'notify = ["webhook:HTTP/flaky", "webhook:HTTP/down"]\n')
    view = {"queues": [row(9)], "channels": [], "total": {}, "agent_states": {}}
    svc = make(world, rules, view, Clock(T0), max_attempts=3, retry_base_s=0.0)
    await svc.start()
    try:
        await until(lambda: svc.book.active() and all(
            n["status"] != "pending" for n in svc.book.active()[0].notifications), what="final outcomes")
        notes = {n["target"].rsplit("/", 1)[1]: n for n in svc.book.active()[0].notifications}
        assert (notes["flaky"]["status"], notes["flaky"]["attempts"]) == ("delivered", 2)
        assert (notes["down"]["status"], notes["down"]["attempts"]) == ("undeliverable", 3)
        assert "503" in notes["down"]["error"] or "HTTP" in notes["down"]["error"], notes["down"]["error"]
        assert len(http.at("/flaky")) == 1
    finally:
        await svc.stop()


def _replica(world, rules, view_file, status_file):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    t = world["topics"]
    args = [sys.executable, "-m", "tests.pipeline.alerts._replica", "--bootstrap", world["bootstrap"],
            "--topic", t["topic"], "--group", t["group"], "--state-topic", t["state_topic"],
            "--rules", str(rules), "--view", str(view_file), "--smtp", world["smtp"].dsn,
            "--status", str(status_file)]
    log = open(status_file.with_suffix(".log"), "wb")
    return subprocess.Popen(args, cwd=root, stdout=log, stderr=subprocess.STDOUT)


def _status(path) -> dict:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {"owner": False, "ticks": 0}


async def test_exactly_once_after_kill_9(world):
    """The evaluating replica is killed (no goodbye to the group): its successor takes over after
    the session timeout and notifies neither the firing again nor anything twice."""
    rules = write_rules(world, RULES.split("[[rules]]\nname = \"untouched")[0])
    view_file = world["tmp"] / "view.json"
    view_file.write_bytes(orjson.dumps({"queues": [row(9)], "channels": [], "total": {}, "agent_states": {}}))
    first = _replica(world, rules, view_file, world["tmp"] / "a.status")
    second = None
    try:
        await until(lambda: counts(world) == {"hook": 1, "slack": 1, "mail": 1, "esc": 0}, 90,
                    "firing from the first process")
        # once the delivery outcomes are in Kafka, kill -9
        from pipeline.alerts.service import read_book

        async def all_delivered() -> bool:
            book = await read_book(world["bootstrap"], world["topics"]["topic"])
            notes = [n for ep in book.episodes.values() for n in ep.notifications]
            return len(notes) == 3 and all(n["status"] == "delivered" for n in notes)

        for _ in range(300):
            if await all_delivered():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the delivery outcomes never reached Kafka")
        first.kill()
        first.wait(30)
        second = _replica(world, rules, view_file, world["tmp"] / "b.status")
        await until(lambda: _status(world["tmp"] / "b.status")["owner"], 90, "the successor to take over")
        ticks = _status(world["tmp"] / "b.status")["ticks"]
        await until(lambda: _status(world["tmp"] / "b.status")["ticks"] > ticks + 20, what="successor ticking")
        assert counts(world) == {"hook": 1, "slack": 1, "mail": 1, "esc": 0}
        view_file.write_bytes(orjson.dumps({"queues": [row(0)], "channels": [], "total": {}, "agent_states": {}}))
        await until(lambda: counts(world) == {"hook": 2, "slack": 2, "mail": 2, "esc": 0}, 60, "resolved once")
        ticks = _status(world["tmp"] / "b.status")["ticks"]
        await until(lambda: _status(world["tmp"] / "b.status")["ticks"] > ticks + 20, what="successor ticking")
        assert counts(world) == {"hook": 2, "slack": 2, "mail": 2, "esc": 0}
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(30)
