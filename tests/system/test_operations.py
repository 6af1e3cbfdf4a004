"""Issue 11, operations on a real `tablero up` (worker + API + chDB) on the session broker:
--port wins over TABLERO_API_PORT, GET /metrics after real traffic parsed with prometheus-client's
own parser, a quiet start (no ERROR line while the broker elects the group coordinators) and a
quiet Ctrl-C (SIGINT to the process group, as a terminal sends it: no traceback)."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import httpx
import orjson
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.conftest import free_port
from tests.system.stack import ROOT, Stack, wait_for

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def created(i: int) -> dict:
    return {"specversion": "1.0", "id": f"m-{i}", "source": "test", "type": "contact.created",
            "time": (NOW - dt.timedelta(minutes=5, seconds=-i)).isoformat(), "subject": f"m-{i}",
            "data": {"channel": "chat", "queue": "support"}}


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}, through prometheus-client's parser."""
    r = httpx.get(url + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text[:200]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_after_real_traffic_and_a_quiet_start_and_stop(kafka_bootstrap, tmp_path):
    stack = Stack(kafka_bootstrap, tmp_path)
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    env = stack.env() | {"TABLERO_API_PORT": str(free_port())}  # --port must win over this
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "up", "--no-kafka", "--host", "127.0.0.1",
                                 "--port", str(stack.port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True)
    stack.proc = proc
    try:
        stack.wait_api(120)
        with connect(stack.ws_url, open_timeout=30) as ws:  # one websocket client while we scrape
            assert orjson.loads(ws.recv(timeout=30))["type"] == "snapshot"
            assert stack.post_events([created(i) for i in range(30)]).status_code == 202
            producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
            producer.send(stack.events_topic, key=b"bad-1", value=b"{not json")
            producer.send(stack.events_topic, key=b"bad-2", value=orjson.dumps(created(99) | {"type": "contact.nope"}))
            producer.flush()
            producer.close()
            report = stack.get("/api/v1/reports/queues", **{"from": NOW.date().isoformat(), "to": NOW.date().isoformat()})
            assert report.status_code == 200, report.text

            samples = wait_for(lambda: (s := scrape(stack.url))
                               and value(s, "tablero_events_consumed_total") == 32
                               and value(s, "tablero_events_dead_lettered_total", code="unknown_type") == 1
                               # the batch lands up to a second later (landing is batched per second)
                               and value(s, "tablero_clickhouse_insert_duration_seconds_count") >= 1
                               and s, timeout=90, what="32 events consumed, 2 dead-lettered, rows landed")
            assert value(samples, "tablero_websocket_clients") == 1
        assert value(samples, "tablero_events_applied_total") == 30
        assert value(samples, "tablero_events_dead_lettered_total", code="malformed_json") == 1
        assert value(samples, "tablero_batch_size_events_sum") == 32
        assert value(samples, "tablero_batch_size_events_count") >= 1
        assert value(samples, "tablero_batch_duration_seconds_count") == value(samples, "tablero_batch_size_events_count")
        assert value(samples, "tablero_clickhouse_insert_duration_seconds_count") >= 1
        assert value(samples, "tablero_clickhouse_insert_retries_total") == 0
        assert value(samples, "tablero_report_query_duration_seconds_count", report="queues") == 1
        assert value(samples, "tablero_http_requests_total", route="/api/v1/events", method="POST", status="202") == 1
        assert value(samples, "tablero_http_requests_total", route="/api/v1/reports/queues", method="GET",
                     status="200") == 1
        lags = {dict(k[1])["partition"]: v for k, v in samples.items() if k[0] == "tablero_consumer_lag"}
        assert lags and set(lags) <= {"0", "1", "2", "3"} and all(v == 0 for v in lags.values()), lags
        ages = {dict(k[1])["partition"]: v for k, v in samples.items()
                if k[0] == "tablero_live_publication_age_seconds"}
        assert set(ages) == {"0", "1", "2", "3"} and all(0 <= v < 30 for v in ages.values()), ages
        # where the memory goes, sampled by housekeeping every 5 s (the soak reads these each minute)
        memory = wait_for(lambda: (s := scrape(stack.url)) and value(s, "tablero_worker_contacts") == 30
                          and value(s, "tablero_clickhouse_memory_tracked_bytes") and s,
                          timeout=30, what="a housekeeping round's memory gauges")
        assert value(memory, "tablero_clickhouse_memory_tracked_bytes") > 0
        assert value(memory, "tablero_python_allocated_blocks") > 100_000

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal
        assert proc.wait(60) == 0
    finally:
        stack.stop()
    log = log_path.read_text(errors="replace")
    assert "[ERROR]" not in log and "ERROR:" not in log, log
    assert "Traceback" not in log and "CancelledError" not in log, log


def test_a_worker_apart_serves_its_own_metrics(kafka_bootstrap, tmp_path):
    """`tablero worker` with TABLERO_METRICS_PORT (chDB of its own: one process, so allowed)."""
    metrics_port = free_port()
    stack = Stack(kafka_bootstrap, tmp_path, extra_env={"TABLERO_METRICS_PORT": str(metrics_port)})
    stack.start("worker", wait_api=False)
    try:
        url = f"http://127.0.0.1:{metrics_port}"
        wait_for(lambda: (stack.check_alive() or True) and scrape(url), timeout=120, what="worker /metrics")
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        for i in range(12):
            e = created(i)
            producer.send(stack.events_topic, key=e["subject"].encode(), value=orjson.dumps(e))
        producer.flush()
        producer.close()
        samples = wait_for(lambda: (s := scrape(url)) and value(s, "tablero_events_consumed_total") == 12
                           and value(s, "tablero_clickhouse_insert_duration_seconds_count") >= 1 and s,
                           timeout=90, what="12 events consumed and landed by the worker")
        assert value(samples, "tablero_events_applied_total") == 12
        assert value(samples, "tablero_clickhouse_insert_duration_seconds_count") >= 1
        assert not any(k[0].startswith("tablero_http_") for k in samples)  # no API in this process
    finally:
        stack.stop()
