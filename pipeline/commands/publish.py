"""`tablero publish` and `tablero import anonymous-bank`."""
from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.kafka.publisher import ndjson_lines, publish_lines
from pipeline.settings import get_settings

err = Console(stderr=True)
import_app = typer.Typer(help="Turn external data sets into Tablero events.\n\n"
                         "Example: tablero import anonymous-bank ../shared/data/anonymous_bank_february_1999.tsv",
                         no_args_is_help=True)


def _progress(total: int | None) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=False)


def _report(rep) -> None:
    for lineno, r in rep.rejections[:20]:
        err.print(f"[yellow]line {lineno}[/yellow]: {r.code}: {r.reason}" + (f" (field {r.field})" if r.field else ""))
    err.print(f"sent {rep.sent} events in {rep.seconds:.1f}s ({rep.rate:,.0f}/s); rejected {rep.rejected}")


def publish(
    file: str = typer.Argument(..., help="NDJSON file of CloudEvents, or - for stdin."),
    rate: float = typer.Option(None, "--rate", min=1, help="Cap events per second."),
) -> None:
    """Validate and publish NDJSON events to the tablero.events topic (key = subject).

    Example: tablero publish events.ndjson --rate 500
    """
    s = get_settings()
    if file == "-":
        lines, total = sys.stdin.buffer, None
    else:
        path = Path(file)
        if not path.exists():
            err.print(f"[red]error:[/red] FILE {file!r} does not exist")
            raise typer.Exit(2)
        total = sum(1 for _ in path.open("rb"))
        lines = path.open("rb")
    with _progress(total) as progress:
        task = progress.add_task("publishing", total=total)
        rep = publish_lines(lines, s.kafka_bootstrap, max_event_bytes=s.max_event_bytes, rate=rate,
                            on_progress=lambda n: progress.update(task, completed=n))
    _report(rep)
    raise typer.Exit(1 if rep.rejected else 0)


@import_app.command("anonymous-bank")
def anonymous_bank(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="anonymous_bank_february_1999.tsv"),
    out: Path = typer.Option(None, "--out", help="Write NDJSON here instead of publishing to Kafka."),
) -> None:
    """Import the Anonymous Bank call log (Feb 1999) as voice contacts.

    Example: tablero import anonymous-bank ../shared/data/anonymous_bank_february_1999.tsv --out bank.ndjson
    """
    from pipeline.connectors.anonymous_bank import count_rows, iter_events

    s = get_settings()
    total = count_rows(path)
    with _progress(total) as progress:
        task = progress.add_task("rows", total=total)
        events = iter_events(path)
        if out:
            n = 0
            with out.open("wb") as f:
                for line in ndjson_lines(events):
                    f.write(line + b"\n")
                    n += 1
                    if n % 1000 == 0:
                        progress.update(task, completed=min(total, n // 3))
            progress.update(task, completed=total)
            err.print(f"wrote {n} events to {out}")
            return
        rep = publish_lines(ndjson_lines(events), s.kafka_bootstrap, max_event_bytes=s.max_event_bytes,
                            on_progress=lambda n: progress.update(task, completed=min(total, n // 3)))
        progress.update(task, completed=total)
    _report(rep)


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)
    app.add_typer(import_app, name="import")
