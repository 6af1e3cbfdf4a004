"""The bench runs what an operator runs: `tablero up --no-kafka` in a subprocess with its own
Kafka namespace and data directory (the system tests' Stack), plus what only the bench needs:
consumer lag read straight from the group and the process's memory."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tests.conftest import _free_pair
from tests.system.stack import ROOT, Stack as _Stack

__all__ = ["ROOT", "CpuSample", "Stack", "cpu_sample", "kafka_for_bench", "rss_mb"]

_TICK = os.sysconf("SC_CLK_TCK")


@contextmanager
def kafka_for_bench(prefix: str, log=None) -> Iterator[tuple[str, object | None]]:
    """(bootstrap, broker): TABLERO_KAFKA when set (broker None), else a single-node broker of the
    run's own in a temporary directory, stopped and deleted on exit. A broker that cannot start
    raises pipeline.kafka.local_broker.KafkaSetupError (its message says what to install)."""
    bootstrap = os.environ.get("TABLERO_KAFKA")
    if bootstrap:
        yield bootstrap, None
        return
    from pipeline.kafka.local_broker import LocalKafka

    broker = LocalKafka(Path(tempfile.mkdtemp(prefix=f"{prefix}-kafka-")), _free_pair())
    try:
        broker.start(progress=log) if log else broker.start()
        yield broker.bootstrap, broker
    finally:
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


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


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far: per process (by name) and, for the processes asked to be split,
    per thread name (the worker's Python thread is its main thread; chDB's and librdkafka's
    threads have their own names), plus the machine's busy and stolen seconds (/proc/stat:
    stolen time is the hypervisor giving the CPUs to another guest: a slower machine, not code)."""

    at: float
    processes: dict[str, float]
    threads: dict[str, float]
    machine_busy: float
    machine_steal: float

    def percent_since(self, before: "CpuSample") -> dict:
        """Per cent of one CPU each part used between `before` and this sample; the machine's
        busy and steal figures are per cent of all its CPUs. The three busiest threads by name."""
        dt = self.at - before.at
        if dt <= 0:
            return {}
        pct = lambda a, b: round(100 * (a - b) / dt, 1)  # noqa: E731
        out = {f"cpu_{k}_pct": pct(v, before.processes.get(k, 0.0)) for k, v in self.processes.items()}
        n = os.cpu_count() or 1
        out["machine_busy_pct"] = round(pct(self.machine_busy, before.machine_busy) / n, 1)
        out["machine_steal_pct"] = round(pct(self.machine_steal, before.machine_steal) / n, 1)
        deltas = Counter({k: v - before.threads.get(k, 0.0) for k, v in self.threads.items()})
        out["busiest_threads"] = {k: pct(v, 0.0) for k, v in deltas.most_common(3) if v > 0}
        return out


def _ticks(stat_line: str) -> float:
    fields = stat_line.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def cpu_sample(processes: dict[str, int | None], split: dict[str, int] | None = None) -> CpuSample:
    """CPU seconds of each named process (all its threads; None or gone: skipped), of the
    threads of the processes in `split` grouped as "<name>:main" and "<name>:<thread name>",
    and of the machine (Linux /proc)."""
    procs: dict[str, float] = {}
    for name, pid in processes.items():
        try:
            procs[name] = _ticks(Path(f"/proc/{pid}/stat").read_text()) if pid else None
        except OSError:
            continue
    threads: Counter = Counter()
    for name, pid in (split or {}).items():
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                comm = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
                threads[f"{name}:{comm}"] += _ticks((task / "stat").read_text())
            except OSError:
                continue  # a thread that ended between the listing and the read
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = sum(cpu[:3]) + sum(cpu[5:8])  # user nice system + irq softirq steal
    return CpuSample(time.monotonic(), {k: v for k, v in procs.items() if v is not None}, dict(threads),
                     busy / _TICK, cpu[7] / _TICK)


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
