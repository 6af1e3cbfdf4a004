"""Contacts export: rows/s and the API process's peak memory while it streams N contacts.

    python -m bench.export_bench --rows 2000000 [--formats csv,ndjson] [--dir /tmp/x]   -> JSON on stdout

1. `build` (own process; chDB allows one process per data directory): N synthetic `contacts` fact
   rows over one month (5 queues, 3 channels, 300 agents, 400k customers) written with one
   `INSERT ... SELECT FROM numbers(N)`.
2. `serve` (own process): the real API (supervisor_api.main.create_app, embedded chDB, no live
   feed) under uvicorn.
3. This process downloads GET /api/v1/contacts?format=... for the whole month over HTTP (httpx,
   streamed, counting lines) and samples the server's RSS from /proc every 100 ms; peak = the
   kernel's high-water mark (VmHWM) of the server process, one server per format.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TOKEN = "tb_bench-export-admin"
MONTH = {"from": "2026-01-01", "to": "2026-01-31", "tz": "UTC"}


def build(directory: Path, rows: int) -> None:
    from pipeline.history import clickhouse_store
    from pipeline.history.warehouse import MIGRATIONS_DIR

    client = clickhouse_store.connect(f"chdb://{directory}/clickhouse")
    clickhouse_store.migrate(client, MIGRATIONS_DIR)
    step_ms = 31 * 86_400_000 // rows
    client.command(f"""
    INSERT INTO contacts SELECT
      concat('c-', leftPad(toString(number), 9, '0')) AS contact_id, 3 AS version,
      ['billing', 'support', 'sales', 'backoffice', 'vip'][number % 5 + 1] AS queue,
      ['voice', 'chat', 'email'][number % 3 + 1] AS channel,
      concat('cust-', toString(cityHash64(number) % 400000)) AS customer, 0 AS priority,
      if(number % 17 = 0, ['vip'], []) AS tags,
      toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * {step_ms}) AS created,
      NULL,
      if(number % 10 < 8, created + toIntervalSecond(number % 90), NULL),
      if(number % 10 < 8, created + toIntervalSecond(number % 90), NULL),
      if(number % 10 >= 8, created + toIntervalSecond(number % 40), NULL),
      if(number % 10 < 8, created + toIntervalSecond(number % 90 + 200), NULL),
      if(number % 10 < 8, concat('agent-', toString(number % 300)), ''),
      if(number % 10 < 8, [concat('agent-', toString(number % 300))], []),
      toFloat64(if(number % 10 < 8, number % 90, number % 40)),
      if(number % 10 < 8, toFloat64(number % 90), NULL),
      if(number % 10 < 8, toFloat64(200 + number % 400), 0.),
      if(number % 10 < 8, toFloat64(number % 90 + 200), NULL),
      1, 1, [], 0, 0, if(number % 10 < 8, toUInt8(number % 5 + 1), NULL),
      number % 10 < 8, number % 10 >= 8, number % 10 < 8, created
    FROM numbers({rows})""")
    client.close()


def serve(directory: Path, port: int) -> None:
    import uvicorn

    from pipeline.settings import load_settings
    from supervisor_api.main import create_app

    settings = load_settings(kafka="127.0.0.1:1", clickhouse=f"chdb://{directory}/clickhouse", data_dir=directory,
                             admin_token=TOKEN, queues_file=None)
    app = create_app(settings, run_live_feed=False, migrate=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(directory: Path, fmt: str) -> dict:
    import httpx

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.export_bench", "serve", "--dir", str(directory),
                               "--port", str(port)])
    url = f"http://127.0.0.1:{port}/api/v1/contacts"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(url, params={**MONTH, "limit": 1}, headers=headers, timeout=60)
                r.raise_for_status()
                expected = r.json()["total"]
                break
            except (httpx.HTTPError, KeyError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        baseline_mb = _proc_kb(server.pid, "VmRSS") / 1024
        samples: list[float] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(_proc_kb(server.pid, "VmRSS") / 1024)
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        lines = size = 0
        first_byte_s = None
        start = time.perf_counter()
        with httpx.stream("GET", url, params={**MONTH, "format": fmt}, headers=headers, timeout=600) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                if first_byte_s is None:
                    first_byte_s = time.perf_counter() - start
                lines += chunk.count(b"\n")
                size += len(chunk)
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
        rows = lines - (1 if fmt == "csv" else 0)
        return {"format": fmt, "rows": rows, "expected_rows": expected, "seconds": round(elapsed, 2),
                "rows_per_s": round(rows / elapsed), "mb_per_s": round(size / 1e6 / elapsed, 1),
                "bytes": size, "first_byte_s": round(first_byte_s or 0, 2),
                "rss_before_mb": round(baseline_mb), "rss_peak_sampled_mb": round(max(samples or [0])),
                "rss_high_water_mb": round(_proc_kb(server.pid, "VmHWM") / 1024)}
    finally:
        server.terminate()
        server.wait(30)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.export_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", nargs="?", default="run", choices=["run", "build", "serve"])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--formats", default="csv,ndjson")
    p.add_argument("--dir", type=Path, default=None, help="Data directory (default: a temporary one).")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    if args.mode == "build":
        build(args.dir, args.rows)
        return 0
    if args.mode == "serve":
        serve(args.dir, args.port)
        return 0
    directory = args.dir or Path(tempfile.mkdtemp(prefix="tablero-export-"))
    directory.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.export_bench", "build", "--dir", str(directory),
                    "--rows", str(args.rows)], check=True)
    out = {"rows": args.rows, "build_s": round(time.perf_counter() - t, 1), "cpus": os.cpu_count(),
           "load_avg": os.getloadavg(), "exports": [measure(directory, f) for f in args.formats.split(",")]}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
