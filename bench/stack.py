"""A whole Tablero (`tablero up --no-kafka`: worker + API + chDB) in a subprocess on the bench's
broker, isolated by its own Kafka namespace and data directory: what an operator runs."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ADMIN = "bench-admin-token"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, MB (Linux /proc)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out["rss_mb" if k == "VmRSS" else "peak_rss_mb"] = round(int(v.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


@dataclass
class Stack:
    bootstrap: str
    data_dir: Path
    partitions: int = 4
    namespace: str = field(default_factory=lambda: "bench-stack-" + uuid.uuid4().hex[:8])
    port: int = field(default_factory=free_port)
    extra_env: dict = field(default_factory=dict)
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
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 120, wait_api: bool = True) -> float:
        """Start `tablero up --no-kafka`; with wait_api, wait until the API answers. Returns
        seconds taken."""
        t0 = time.monotonic()
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / f"stack-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "up", "--no-kafka"],
                                     env=self.env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
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
        raise RuntimeError(f"tablero up not ready in {timeout}s: {self.log_tail()}")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"tablero up exited ({self.proc.returncode}): {self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        logs = sorted(self.data_dir.glob("stack-*.log"))
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-n:]) if logs else ""

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill9()

    def live(self) -> dict:
        return httpx.get(self.url + "/api/v1/live", headers={"Authorization": f"Bearer {ADMIN}"},
                         timeout=30).json()

    def lag(self) -> int:
        """Events of the stack's topic not yet committed by the worker group."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False)
        try:
            tps = [TopicPartition(self.events_topic, p) for p in range(self.partitions)]
            ends = consumer.end_offsets(tps)
            return sum(ends[tp] - (consumer.committed(tp) or 0) for tp in tps)
        finally:
            consumer.close()

    def wait_lag_zero(self, timeout: float, interval: float = 0.1) -> float:
        """Poll until the worker committed every event; returns time.time() when seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if self.lag() == 0:
                return time.time()
            time.sleep(interval)
        raise RuntimeError(f"worker did not catch up in {timeout}s (lag {self.lag()}): {self.log_tail()}")
