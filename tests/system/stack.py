"""A whole Tablero (`tablero up`: worker + API + chDB) in a subprocess on the session's broker,
isolated by a Kafka namespace, with helpers to publish, wait, crash and restart."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from tests.conftest import free_port

ADMIN = "admin-test-token"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    bootstrap: str
    data_dir: Path
    namespace: str = field(default_factory=lambda: "t" + uuid.uuid4().hex[:10])
    port: int = field(default_factory=free_port)
    partitions: int = 4
    extra_env: dict = field(default_factory=dict)
    batch_within_s: str | None = "0.1"  # tests: short batches; None = the product default
    proc: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_topic(self) -> str:
        return f"{self.namespace}.tablero.events"

    @property
    def live_topic(self) -> str:
        return f"{self.namespace}.tablero.live"

    @property
    def group(self) -> str:
        return f"{self.namespace}-tablero"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/live/ws?token={ADMIN}"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "TABLERO_KAFKA": self.bootstrap, "TABLERO_KAFKA_NAMESPACE": self.namespace,
            "TABLERO_DATA_DIR": str(self.data_dir), "TABLERO_API_PORT": str(self.port),
            "TABLERO_ADMIN_TOKEN": ADMIN, "TABLERO_TOPIC_PARTITIONS": str(self.partitions),
            "PYTHONUNBUFFERED": "1",
        })
        if self.batch_within_s:
            env["TABLERO_BATCH_WITHIN_S"] = self.batch_within_s
        env.update(self.extra_env)
        return env

    def start(self, command: str = "up", timeout: float = 90, wait_api: bool = True) -> float:
        """Start; with wait_api, wait until the API answers. Returns seconds taken."""
        t0 = time.monotonic()
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / f"stack-{self.starts}.log", "wb")
        args = [sys.executable, "-m", "pipeline.cli", command] + {"up": ["--no-kafka"], "demo": ["--history-days", "1"]}.get(command, [])
        self.proc = subprocess.Popen(args, env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     start_new_session=True)
        if wait_api:
            self.wait_api(timeout, t0)
        return time.monotonic() - t0

    def wait_api(self, timeout: float, t0: float | None = None) -> None:
        t0 = time.monotonic() if t0 is None else t0
        while time.monotonic() - t0 < timeout:
            self.check_alive()
            try:
                if httpx.get(self.url + "/api/v1/status", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"tablero not ready in {timeout}s: {self.log_tail()}")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"tablero exited ({self.proc.returncode}): {self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        logs = sorted(self.data_dir.glob("stack-*.log"))
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-n:]) if logs else ""

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self, wait_s: float = 30) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.kill9()

    # -- talking to it ------------------------------------------------------------------------
    def headers(self, token: str = ADMIN) -> dict:
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, token: str = ADMIN, **params) -> httpx.Response:
        return httpx.get(self.url + path, params=params, headers=self.headers(token), timeout=30)

    def post_events(self, events: list[dict], token: str = ADMIN) -> httpx.Response:
        body = b"\n".join(orjson.dumps(e) for e in events)
        return httpx.post(self.url + "/api/v1/events", content=body, timeout=60,
                          headers={**self.headers(token), "Content-Type": "application/x-ndjson"})

    def status(self) -> dict:
        return httpx.get(self.url + "/api/v1/status", timeout=30).json()

    def live(self, token: str = ADMIN) -> dict:
        return self.get("/api/v1/live", token).json()


def wait_for(predicate, timeout: float = 60, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # the system may still be starting
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
