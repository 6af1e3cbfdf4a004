"""`tablero demo`: local Kafka, worker, API and embedded ClickHouse, with simulated traffic:
a week of history first (as fast as the pipeline takes it), then live traffic in real time."""
from __future__ import annotations

import atexit
import datetime as dt
import os
import subprocess
import sys

import typer
from rich.console import Console

from pipeline.settings import get_settings

err = Console(stderr=True)


def demo(history_days: int = typer.Option(7, "--history-days", min=0, max=60,
                                          help="Days of simulated history to backfill first."),
         speed: str = typer.Option("1", "--speed", help="Live traffic speed (simulated s per real s)."),
         scale: float = typer.Option(10, "--scale", help="Centre size (1 = 500 contacts a weekday, 12 agents)."),
         seed: int = typer.Option(7, "--seed")) -> None:
    """Run everything on this machine with simulated traffic and print the URLs.

    Example: tablero demo --history-days 14
    """
    from pipeline.commands.run import _prepare, _run_worker
    from supervisor_api.auth import TokenStore

    from pipeline.simulator.daytime import zone_where_local_hour

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if "TABLERO_SITE_TZ" not in os.environ:
        # a simulated centre where it is mid-morning now, so the wallboard has traffic at any hour
        os.environ["TABLERO_SITE_TZ"] = zone_where_local_hour(now, 10)
        get_settings.cache_clear()
    s = get_settings()
    _prepare(start_kafka=True)
    store = TokenStore(s.tokens_path)
    admin = store.create("demo admin", "admin")
    wall = store.create("demo wallboard", "wallboard")
    tablero = [sys.executable, "-m", "pipeline.cli", "simulate", "--seed", str(seed), "--tz", s.site_tz, "--scale", str(scale), "-q"]
    steps = []
    if history_days:
        start = (now - dt.timedelta(days=history_days)).isoformat()
        steps.append(tablero + ["--start", start, "--duration", f"{history_days}d", "--speed", "max"])
    steps.append(tablero + ["--start", now.isoformat(), "--duration", "24h", "--speed", speed])
    script = " && ".join(" ".join(_quote(a) for a in step) for step in steps)
    # same process group: Ctrl-C or a stop of the demo stops the simulator too
    sim = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.DEVNULL)
    atexit.register(lambda: _kill(sim))
    base = f"http://{s.api_host}:{s.api_port}"
    err.print(f"""
[bold]Tablero demo[/bold]
  Wallboard : {base}/?token={wall}
  TV mode   : {base}/?token={wall}&tv=1
  Reports   : {base}/reports?token={admin}
  API docs  : {base}/docs      status: {base}/api/v1/status
  Admin token (Bearer): {admin}
Simulated traffic: {history_days} days of history, then live; site time zone {s.site_tz}. Ctrl-C stops everything
(the local broker keeps running: `tablero kafka stop`).
""")
    _run_worker(with_api=True)


def _quote(a: str) -> str:
    return "'" + a.replace("'", "'\\''") + "'"


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
