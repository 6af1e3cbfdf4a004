"""The bench runs what an operator runs: `tablero up --no-kafka` in a subprocess with its own
Kafka namespace and data directory (the system tests' Stack), plus what only the bench needs:
consumer lag read straight from the group and the process's memory."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.system.stack import ROOT, Stack as _Stack

__all__ = ["ROOT", "Stack", "rss_mb"]


def rss_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, MB (Linux /proc), and the
    current one split into anonymous memory (the heap: what the process allocated) and file pages
    (mapped code, mostly chDB's 550 MB library: shared and reclaimable by the kernel)."""
    names = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in names:
                out[names[k]] = round(int(v.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


@dataclass
class Stack(_Stack):
    namespace: str = field(default_factory=lambda: "bench-stack-" + uuid.uuid4().hex[:8])
    batch_within_s: str | None = None  # the product's default batching

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
