"""Issue 4 proofs on the real broker: the live state after kill -9 and restart, and with two
workers sharing the partitions, equals a recomputation from the full event list."""
from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import threading
import time

import clickhouse_connect
import orjson
from kafka import KafkaProducer

from pipeline.live.live_view import merge, partial
from pipeline.live.queue_settings import load_queue_settings
from pipeline.simulator.config import SimConfig
from pipeline.simulator.daytime import zone_where_local_hour
from pipeline.simulator.model import simulate
from pipeline.live.worker_state import Record, WorkerState
from tests.system.stack import ROOT, Stack, wait_for


def simulated_events(seed: int) -> list[dict]:
    """Two hours of office traffic that ended an hour ago: open contacts wait, nothing sits on
    the last-30-minutes boundary."""
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=3)
    config = SimConfig(seed=seed, start=start, duration_s=2 * 3600, tz=zone_where_local_hour(start, 10)).scaled(40)
    return list(simulate(config))


def expected_view(events: list[dict], now: float) -> dict:
    state = WorkerState(load_queue_settings(None, "UTC"))
    records = [Record(e["subject"].encode(), orjson.dumps(e), 0, i) for i, e in enumerate(events)]
    state.process(records, now)
    ps = state.partitions[0]  # the full-scan partial: independent of the workers' live index
    return merge([partial(ps.states(), ps.agents.values(), now, state.queue_settings)], now,
                 state.queue_settings)


def publish(stack: Stack, events: list[dict], per_s: float | None = None) -> None:
    """Publish in order; with per_s, paced in chunks of 500 (traffic that keeps arriving)."""
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=5)
    t0 = time.monotonic()
    for i, e in enumerate(events):
        producer.send(stack.events_topic, key=e["subject"].encode(), value=orjson.dumps(e))
        if per_s and i % 500 == 499:
            time.sleep(max(0.0, t0 + (i + 1) / per_s - time.monotonic()))
    producer.flush()
    producer.close()


def _same(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        diffs = [f"{path}.{k}: missing" for k in set(a) ^ set(b)]
        for k in set(a) & set(b):
            diffs += _same(a[k], b[k], f"{path}.{k}")
        return diffs
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6):
            return [f"{path}: {a!r} != {b!r}"]
        return []
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def live_matches(stack: Stack, events: list[dict]) -> list[str] | bool:
    view = stack.live()
    if not view.get("queues"):
        return False
    diffs = _same(view, expected_view(events, view["generated_at"]))
    return True if not diffs else diffs[:10] and False


def wait_for_live(stack: Stack, events: list[dict], timeout: float) -> float:
    t0 = time.monotonic()
    try:
        wait_for(lambda: live_matches(stack, events), timeout=timeout, interval=0.2, what="live state = recomputation")
    except AssertionError:
        view = stack.live()
        raise AssertionError("live state differs: " + "; ".join(_same(view, expected_view(events, view["generated_at"]))[:15]))
    return time.monotonic() - t0


def expected_versions(events: list[dict]) -> int:
    """Sum of contact versions (events applied per contact) of a recomputation: an event counted
    twice anywhere would raise the landed sum."""
    state = WorkerState(load_queue_settings(None, "UTC"))
    state.process([Record(e["subject"].encode(), orjson.dumps(e), 0, i) for i, e in enumerate(events)], time.time())
    return sum(s.version for s in state.partitions[0].states())


def lag_is_zero(stack: Stack) -> bool:
    kafka = stack.status()["kafka"]
    if kafka["total_lag"] != 0:
        raise AssertionError(f"lag per partition: {kafka['lag']}; error {kafka['error']}")
    return True


def test_kill_9_in_the_middle_loses_nothing_and_counts_nothing_twice(kafka_bootstrap, tmp_path):
    events = simulated_events(seed=11)
    stack = Stack(kafka_bootstrap, tmp_path)
    stack.start()
    try:
        # traffic keeps arriving (about 8 s of it) while the worker is killed and comes back
        publisher = threading.Thread(target=publish, args=(stack, events, len(events) / 8))
        publisher.start()
        wait_for(lambda: len(events) * 0.2 < stack.status()["clickhouse"]["rows"].get("events", 0) < len(events) * 0.8,
                 timeout=120, interval=0.1, what="the worker part-way through")
        stack.kill9()
        t_restart = time.monotonic()
        stack.start()
        publisher.join()
        wait_for_live(stack, events, timeout=180)
        recovery_s = time.monotonic() - t_restart
        print(f"\nrecovery after kill -9: {recovery_s:.1f}s to a correct live state ({len(events)} events)")
        wait_for(lambda: lag_is_zero(stack), timeout=120, what="lag 0")
    finally:
        stack.stop()
    client = clickhouse_connect.get_client(dsn=f"chdb://{stack.data_dir.resolve()}/clickhouse")
    ids = {e["id"] for e in events}
    contacts = {e["subject"] for e in events if e["type"] == "contact.created"}
    assert client.query("SELECT count() FROM events FINAL").result_rows[0][0] == len(ids)
    assert client.query("SELECT count() FROM contacts FINAL").result_rows[0][0] == len(contacts)
    assert client.query("SELECT sum(version) FROM contacts FINAL").result_rows[0][0] == expected_versions(events)


def test_two_workers_give_the_same_live_state_as_one(kafka_bootstrap, tmp_path):
    events = simulated_events(seed=12)
    stack = Stack(kafka_bootstrap, tmp_path / "a")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    stack.start()
    env = stack.env() | {"TABLERO_DATA_DIR": str(tmp_path / "b")}
    second = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "worker"], env=env, cwd=ROOT,
                              stdout=open(tmp_path / "b" / "worker.log", "wb"), stderr=subprocess.STDOUT)
    try:
        publish(stack, events)
        wait_for_live(stack, events, timeout=240)
    finally:
        second.terminate()
        second.wait(30)
        stack.stop()
