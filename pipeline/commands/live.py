"""`tablero live`: the live state in the terminal, for operators without a browser."""
from __future__ import annotations

import asyncio

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

from pipeline.settings import get_settings


class _LatestView:
    view: dict = {}

    def publish(self, view: dict) -> None:
        self.view = view


def _fmt_s(v) -> str:
    if v is None:
        return "-"
    v = float(v)
    return f"{v:.0f}s" if v < 120 else (f"{v / 60:.0f}m" if v < 7200 else f"{v / 3600:.1f}h")


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def render(view: dict, queue: str | None = None) -> Group:
    q = Table("queue", "ch", "waiting", "inside", "at risk", "breached", "oldest", "in progress",
              "SL today", "SL 30m", "offered", "abandoned", title="Queues")
    for row in view.get("queues", []):
        if queue and row["queue"] != queue:
            continue
        today, last = row.get("today") or {}, row.get("last_30m") or {}
        q.add_row(row["queue"], row["channel"], str(row["waiting"]), f"[green]{row['inside_sl']}",
                  f"[yellow]{row['at_risk']}", f"[red]{row['breached']}", _fmt_s(row.get("oldest_wait_s")),
                  str(row["in_progress"]), _pct(today.get("service_level")), _pct(last.get("service_level")),
                  str(today.get("offered", 0)), str(today.get("abandoned", 0)))
    a = Table("agent", "state", "for", "load", title="Agents")
    for ag in view.get("agents", [])[:40]:
        a.add_row(ag["agent"], ag["state"], _fmt_s(ag.get("time_in_state_s")), _pct(ag.get("load")))
    return Group(q, a)


def live(queue: str = typer.Option(None, "--queue", help="Only this queue."),
         once: bool = typer.Option(False, "--once", help="Print one snapshot and exit.")) -> None:
    """Show queues and agents, refreshing every second (reads tablero.live from Kafka).

    Example: tablero live --queue billing
    """
    from pipeline.live.queue_settings import load_queue_settings
    from supervisor_api.live_feed import LiveFeed

    s = get_settings()
    sink = _LatestView()
    from pipeline.kafka.security import client_kwargs

    feed = LiveFeed(s.kafka_bootstrap, sink, load_queue_settings(s.queues_file, s.site_tz), 0.5,
                    client_kwargs=client_kwargs("aiokafka", s))

    async def main() -> None:
        task = asyncio.create_task(feed.run())
        try:
            if once:
                await asyncio.sleep(3)
                import sys

                from rich.console import Console
                # piped output: wide enough that queue names are never cut
                Console(width=None if sys.stdout.isatty() else 200).print(render(sink.view, queue))
                return
            with Live(render({}), refresh_per_second=2) as screen:
                while True:
                    await asyncio.sleep(1)
                    feed.publish()
                    screen.update(render(sink.view, queue))
        finally:
            task.cancel()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


def register(app: typer.Typer) -> None:
    app.command("live")(live)
