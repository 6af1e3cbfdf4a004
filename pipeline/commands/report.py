"""`tablero report queues|conversations|agents` and `tablero recompute`."""
from __future__ import annotations

import enum

import orjson
import typer
from rich.console import Console
from rich.table import Table

from pipeline.settings import get_settings

err = Console(stderr=True)


class Name(str, enum.Enum):
    queues = "queues"
    conversations = "conversations"
    agents = "agents"


class Fmt(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def report(
    name: Name = typer.Argument(..., help="queues (interval report), conversations, or agents (staff)."),
    from_: str = typer.Option(..., "--from", help="Start date or datetime (ISO), in --tz when naive."),
    to: str = typer.Option(..., "--to", help="End date (inclusive) or datetime (exclusive)."),
    queue: str = typer.Option(None, "--queue"), channel: str = typer.Option(None, "--channel"),
    agent: str = typer.Option(None, "--agent"), tag: str = typer.Option(None, "--tag"),
    tz: str = typer.Option(None, "--tz", help="IANA zone for intervals (default: the site's)."),
    by: str = typer.Option("day", "--by", help="15m, hour, day or week (queues report)."),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
    api: str = typer.Option(None, "--api", help="Ask a running API instead of opening ClickHouse here "
                            "(needed with chDB while `tablero up` runs); token from TABLERO_ADMIN_TOKEN."),
) -> None:
    """Run a report.

    Example: tablero report queues --from 1999-02-01 --to 1999-02-28 --by 15m --queue PS --format csv
    """
    from pipeline.history import reports

    s = get_settings()
    raw = {"from": from_, "to": to, "queue": queue, "channel": channel, "agent": agent, "tag": tag,
           "tz": tz or s.site_tz, "by": by}
    if api:
        import httpx

        params = {k: v for k, v in raw.items() if v is not None}
        if fmt == Fmt.csv:
            params["format"] = "csv"
        r = httpx.get(f"{api.rstrip('/')}/api/v1/reports/{name.value}", params=params, timeout=120,
                      headers={"Authorization": f"Bearer {s.admin_token}"})
        if r.status_code != 200:
            err.print(f"[red]error {r.status_code}:[/red] {r.text}")
            raise typer.Exit(1)
        if fmt == Fmt.csv:
            print(r.text, end="")
            return
        result = r.json()
    else:
        from pipeline.live.queue_settings import load_queue_settings
        from pipeline.history.warehouse import get_warehouse

        try:
            params = reports.parse_params(raw)
        except reports.ReportError as exc:
            err.print(f"[red]error:[/red] --{exc.param}: {exc.reason}")
            raise typer.Exit(2)
        qs = load_queue_settings(s.queues_file, s.site_tz)
        result = get_warehouse(s.clickhouse_dsn).call_sync(reports.REPORTS[name.value], params,
                                                           **reports.policy_kwargs(name.value, qs))
    rows = reports.table_rows(name.value, result)
    if fmt == Fmt.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    elif fmt == Fmt.csv:
        print(reports.to_csv(rows), end="")
    else:
        if not rows:
            err.print("no rows")
            return
        table = Table(*[str(k) for k in rows[0] if not isinstance(rows[0][k], (dict, list))])
        for r in rows:
            table.add_row(*[_cell(r[k]) for k in rows[0] if not isinstance(rows[0][k], (dict, list))])
        Console().print(table)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)




def recompute(from_: str = typer.Option(..., "--from", help="Start date/datetime (ISO, site zone when naive)."),
              to: str = typer.Option(..., "--to", help="End date (inclusive) or datetime (exclusive).")) -> None:
    """Rebuild contact facts from the raw events (after a definition or threshold change).
    Stop `tablero up` first when using the embedded ClickHouse.

    Example: tablero recompute --from 1999-02-01 --to 1999-02-28
    """
    from rich.progress import Progress

    from pipeline.history import reports
    from pipeline.history.recompute import recompute as run
    from pipeline.history.warehouse import get_warehouse

    s = get_settings()
    try:
        params = reports.parse_params({"from": from_, "to": to, "tz": s.site_tz, "by": "day"})
    except reports.ReportError as exc:
        err.print(f"[red]error:[/red] --{exc.param}: {exc.reason}")
        raise typer.Exit(2)
    with Progress(console=err) as progress:
        task = progress.add_task("contacts", total=None)
        n = get_warehouse(s.clickhouse_dsn).call_sync(
            run, int(params.start_utc.timestamp() * 1000), int(params.end_utc.timestamp() * 1000),
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    err.print(f"recomputed {n} contacts")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("recompute")(recompute)
