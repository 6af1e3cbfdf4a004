"""`tablero alerts list|ack|test|check`: alert episodes from the terminal (docs/alerts.md)."""
from __future__ import annotations

import asyncio
import getpass
import time

import typer
from rich.console import Console
from rich.table import Table

from pipeline.settings import get_settings

alerts_app = typer.Typer(help="Alert episodes, acknowledgements and test notifications.\n\n"
                         "Example: tablero alerts list --queue support-email", no_args_is_help=True)
err = Console(stderr=True)


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _book():
    from pipeline.alerts.service import read_book
    from pipeline.kafka.admin import ALERTS_TOPIC

    try:
        return asyncio.run(read_book(get_settings().kafka_bootstrap, ALERTS_TOPIC))
    except Exception as exc:
        err.print(f"[red]error:[/red] cannot read the alerts from Kafka at {get_settings().kafka_bootstrap} "
                  f"(TABLERO_KAFKA): {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None


@alerts_app.command("list")
def list_alerts(queue: str = typer.Option(None, "--queue", help="Only this queue."),
                all_: bool = typer.Option(False, "--all", help="Also resolved episodes still in the topic.")) -> None:
    """Firing alerts (and, with --all, resolved ones), with their notifications' delivery state.

    Example: tablero alerts list --all
    """
    book = _book()
    eps = book.recent() if all_ else book.active()
    t = Table("id", "rule", "scope", "severity", "state", "value", "fired", "acked by", "notifications",
              title="Alerts" + (" (all)" if all_ else " (firing)"))
    from pipeline.alerts.payload import scope_text

    for ep in eps:
        if queue and ep.scope.get("queue") != queue:
            continue
        v = book.view(ep)
        notes = ", ".join(f"{n['state'][:4]}→{n['target'].split(':', 1)[0]}:{n['status']}"
                          + (f" ({n['error']})" if n["status"] == "undeliverable" else "")
                          for n in ep.notifications) or "-"
        t.add_row(ep.id, ep.rule, scope_text(ep), ep.severity, ep.state,
                  "-" if ep.value is None else f"{ep.value:g}", _when(ep.fired_at), v["acked_by"] or "", notes)
    Console().print(t)


@alerts_app.command("ack")
def ack(episode_id: str = typer.Argument(..., help="The id shown by `tablero alerts list`."),
        by: str = typer.Option(None, "--by", help="Who acknowledges (default: your user name).")) -> None:
    """Acknowledge an alert episode (first acknowledgement wins; it does not resolve it).

    Example: tablero alerts ack 3f2a9c0d1e2b3a4c5d6e --by 'Ana (floor 2)'
    """
    from pipeline.alerts.service import send_ack
    from pipeline.kafka.admin import ALERTS_TOPIC

    book = _book()
    ep = book.episodes.get(episode_id)
    if ep is None:
        err.print(f"[red]error:[/red] no alert episode {episode_id!r} (see `tablero alerts list --all`)")
        raise typer.Exit(1)
    shown = book.view(ep)
    if shown["acked_by"]:
        print(f"already acknowledged by {shown['acked_by']} at {_when(shown['acked_at'])}")
        return
    who = by or getpass.getuser()
    asyncio.run(send_ack(get_settings().kafka_bootstrap, ALERTS_TOPIC, episode_id, who, time.time()))
    print(f"acknowledged {episode_id} ({ep.rule}) as {who}")


@alerts_app.command("test")
def test(to: list[str] = typer.Option(None, "--to", help="A target (repeatable), e.g. webhook:https://... "
                                      "Default: every target of the rules file.")) -> None:
    """Send a sample notification to targets and say which accepted it.

    Example: tablero alerts test --to webhook:http://127.0.0.1:9000/hook --to email:team@example.com
    """
    from pipeline.alerts.delivery import deliver
    from pipeline.alerts.engine import Episode
    from pipeline.alerts.rules import RulesError
    from pipeline.alerts.service import load_rules_file

    s = get_settings()
    targets = list(to or [])
    if not targets:
        try:
            rules = load_rules_file(s.alerts_file)
        except RulesError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        targets = sorted({t for r in rules.rules for t in r.notify})
    if not targets:
        err.print("[red]error:[/red] no targets: pass --to, or set TABLERO_ALERTS_FILE to rules with `notify`")
        raise typer.Exit(2)
    now = time.time()
    ep = Episode(id="test-" + str(int(now)), rule="tablero alerts test", kind="queue",
                 scope={"queue": "example-queue", "channel": "email"}, scope_key="test", severity="info",
                 metric="oldest_wait_s", op=">", threshold=3600, value=3725, started_at=now - 60, fired_at=now)
    failed = 0
    for target in targets:
        problem = deliver(target, ep, "firing", smtp=s.alerts_smtp, sender=s.alerts_from, test=True)
        if problem is None:
            print(f"delivered  {target}")
        else:
            failed += 1
            print(f"FAILED     {target}: {problem}")
    if failed:
        raise typer.Exit(1)


@alerts_app.command("check")
def check(path: str = typer.Argument(None, help="Rules file (default: TABLERO_ALERTS_FILE).")) -> None:
    """Validate a rules file; errors name the rule and the field.

    Example: tablero alerts check config/alerts.toml
    """
    from pathlib import Path

    from pipeline.alerts.rules import RulesError
    from pipeline.alerts.service import load_rules_file

    file = Path(path) if path else get_settings().alerts_file
    if file is None:
        err.print("[red]error:[/red] give a file or set TABLERO_ALERTS_FILE")
        raise typer.Exit(2)
    try:
        rules = load_rules_file(file)
    except RulesError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    print(f"{file}: {len(rules.rules)} rule(s) OK: " + ", ".join(r.name for r in rules.rules))


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
