"""Alert fire latency: `tablero up` with a rules file; a contact is published into a fresh queue, so
the rule "waiting >= 1 for for_s" starts holding at the publish; the latency is the time from
(publish + for_s) until a real HTTP receiver on localhost has the webhook notification. The same
for the resolve (publish of the abandon -> the "resolved" notification).

It covers the whole path: event -> worker -> tablero.live -> the API's merge -> the alert service's
evaluation (TABLERO_ALERTS_INTERVAL_S, default 0.5 s) -> the Kafka write of the transition -> apprise
-> HTTP. Run alone: `python -m bench.alerts_bench [--trials 20] [--for-s 2]` (own broker unless
TABLERO_KAFKA), or as part 7 of bench.run.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import orjson

from bench.pipeline_bench import _cleanup, _new_stack


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event(typ: str, contact: str, t: float, data: dict) -> dict:
    return {"specversion": "1.0", "source": "bench-alerts", "id": f"{contact}-{typ}", "type": typ,
            "time": _iso(t), "subject": contact, "data": data}


async def _trials(stack, receiver, trials: int, for_s: float, timeout: float) -> dict[str, list[float]]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=0)
    await producer.start()
    fire, resolve = [], []
    run = uuid.uuid4().hex[:6]
    try:
        for i in range(trials):
            queue, contact = f"alert-bench-{run}-{i}", f"ab-{run}-{i}"
            t0 = time.time()
            await producer.send_and_wait(stack.events_topic, orjson.dumps(_event(
                "contact.created", contact, t0, {"channel": "voice", "queue": queue})), key=contact.encode())
            got = await _wait_for(receiver, queue, "firing", timeout)
            fire.append(got - (t0 + for_s))
            t1 = time.time()
            await producer.send_and_wait(stack.events_topic, orjson.dumps(_event(
                "contact.abandoned", contact, t1, {})), key=contact.encode())
            got = await _wait_for(receiver, queue, "resolved", timeout)
            resolve.append(got - t1)
    finally:
        await producer.stop()
    return {"fire": fire, "resolve": resolve}


async def _wait_for(receiver, queue: str, state: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            for _path, _headers, body, at in receiver.posts:
                if body.get("scope", {}).get("queue") == queue and body.get("state") == state:
                    return at
        await asyncio.sleep(0.005)
    raise RuntimeError(f"no {state} notification for {queue} within {timeout}s")


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def bench_alert_latency(bootstrap: str, partitions: int, trials: int = 20, for_s: float = 2.0,
                        interval_s: float | None = None) -> dict[str, Any]:
    from tests.pipeline.alerts.receivers import HttpReceiver

    receiver = HttpReceiver()
    rules = None
    env = {}
    stack = None
    try:
        import tempfile
        from pathlib import Path

        rules = Path(tempfile.mkdtemp(prefix="tablero-bench-alerts-")) / "alerts.toml"
        rules.write_text(f'[[rules]]\nname = "bench waiting"\nmetric = "waiting"\nop = ">="\nthreshold = 1\n'
                         f'for_s = {for_s}\nnotify = ["webhook:{receiver.url}/hook"]\n')
        env["TABLERO_ALERTS_FILE"] = str(rules)
        if interval_s is not None:
            env["TABLERO_ALERTS_INTERVAL_S"] = str(interval_s)
        stack = _new_stack(bootstrap, partitions, **env)
        stack.start()
        # the API replica must own evaluation before the first trial
        import httpx

        deadline = time.monotonic() + 90
        while True:
            r = httpx.get(stack.url + "/api/v1/alerts?history=false",
                          headers={"Authorization": "Bearer " + stack_admin()}, timeout=5)
            if r.status_code == 200 and r.json().get("evaluating"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API never started evaluating alerts: {r.status_code} {r.text[:200]}")
            time.sleep(0.2)
        res = asyncio.run(_trials(stack, receiver, trials, for_s, timeout=30 + for_s))
    finally:
        if stack is not None:
            _cleanup(stack)
        receiver.close()
    out: dict[str, Any] = {"trials": trials, "for_s": for_s,
                           "alerts_interval_s": interval_s if interval_s is not None else 0.5}
    for k, v in res.items():
        out[f"{k}_p50_ms"] = round(statistics.median(v) * 1000, 1)
        out[f"{k}_p95_ms"] = round(_pct(v, 95) * 1000, 1)
        out[f"{k}_max_ms"] = round(max(v) * 1000, 1)
    return out


def stack_admin() -> str:
    from tests.system.stack import ADMIN

    return ADMIN


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.alerts_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--for-s", type=float, default=2.0)
    p.add_argument("--interval-s", type=float, default=None, help="TABLERO_ALERTS_INTERVAL_S (default 0.5)")
    p.add_argument("--partitions", type=int, default=4)
    args = p.parse_args()
    from bench.stack import kafka_for_bench

    with kafka_for_bench("tablero-bench") as (bootstrap, _):
        print(orjson.dumps(bench_alert_latency(bootstrap, args.partitions, args.trials, args.for_s,
                                               args.interval_s), option=orjson.OPT_INDENT_2).decode())

if __name__ == "__main__":
    main()
