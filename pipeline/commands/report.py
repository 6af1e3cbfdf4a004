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
              to: str = typer.Option(..., "--to", help="End date (inclusive) or datetime (exclusive)."),
              settings_file: str = typer.Option(None, "--settings", help="Queue settings (TOML) to recompute "
                                                "under; default: TABLERO_QUEUES_FILE."),
              what_if: bool = typer.Option(False, "--what-if", help="Show the reports under --settings next to "
                                           "the current ones; write nothing."),
              by: str = typer.Option("day", "--by", help="Interval of the what-if queues report."),
              fmt: Fmt = typer.Option(Fmt.table, "--format", help="What-if output: table, csv or json."),
              api: str = typer.Option(None, "--api", help="Ask a running API (needed with chDB while `tablero up` "
                                      "runs); admin token from TABLERO_ADMIN_TOKEN.")) -> None:
    """Rebuild contact facts from the raw events (after a definition, calendar or threshold change),
    or compare reports under new settings without touching history (--what-if). The rewrite is
    atomic per month: reports see a month all old or all new. With the embedded ClickHouse while
    `tablero up` runs, pass --api.

    Example: tablero recompute --settings new-queues.toml --what-if --from 1999-02-01 --to 1999-02-28
    """
    from pipeline.history import recompute as rc
    from pipeline.history import reports
    from pipeline.live.queue_settings import QueueSettingsError, load_queue_settings

    s = get_settings()
    try:
        params = reports.parse_params({"from": from_, "to": to, "tz": s.site_tz, "by": by})
    except reports.ReportError as exc:
        err.print(f"[red]error:[/red] --{exc.param}: {exc.reason}")
        raise typer.Exit(2)
    try:
        current = load_queue_settings(s.queues_file, s.site_tz)
        new = load_queue_settings(settings_file, s.site_tz) if settings_file else current
    except QueueSettingsError as exc:
        err.print(f"[red]error:[/red] --settings: {exc}")
        raise typer.Exit(2)
    if api:
        import httpx

        body = open(settings_file, "rb").read() if settings_file else b""
        r = httpx.post(f"{api.rstrip('/')}/api/v1/recompute", content=body, timeout=3600,
                       params={"from": from_, "to": to, "tz": s.site_tz, "by": by, "what_if": str(what_if).lower()},
                       headers={"Authorization": f"Bearer {s.admin_token}", "Content-Type": "text/plain"})
        if r.status_code != 200:
            err.print(f"[red]error {r.status_code}:[/red] {r.text}")
            raise typer.Exit(1)
        result = r.json()
    else:
        from rich.progress import Progress

        from pipeline.history.warehouse import get_warehouse

        from_ms = int(params.start_utc.timestamp() * 1000)
        to_ms = int(params.end_utc.timestamp() * 1000)
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("contacts", total=None)
            cb = lambda done, total: progress.update(task, completed=done, total=total)  # noqa: E731
            wh = get_warehouse(s.clickhouse_dsn)
            wh.migrate_sync()  # settings_versions and the business columns exist (migration 0006)
            if what_if:
                result = wh.call_sync(rc.what_if, from_ms, to_ms, current, new, params, progress=cb)
                result = {"mode": "what_if", "version": new.version, **result,
                          "side_by_side": rc.side_by_side(result)}
            else:
                n = wh.call_sync(rc.recompute, from_ms, to_ms, new, progress=cb)
                result = {"mode": "rewrite", "version": new.version, "contacts": n,
                          "running_version": current.version}
    if result["mode"] == "rewrite":
        err.print(f"recomputed {result['contacts']} contacts under settings version {result['version']}")
        if result["version"] != result.get("running_version", result["version"]):
            err.print(f"[yellow]note:[/yellow] the worker runs version {result['running_version']}: contacts "
                      "it updates from now on are computed with it; point TABLERO_QUEUES_FILE at the new "
                      "settings and restart to keep them.")
        return
    rows = result["side_by_side"]
    if fmt == Fmt.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    elif fmt == Fmt.csv:
        print(reports.to_csv(rows), end="")
    else:
        table = Table("metric", f"current ({result['current']['version']})",
                      f"what-if ({result['what_if']['version']})", "change",
                      title="history untouched: what-if only")
        for r in rows:
            table.add_row(r["metric"], _cell(r["current"]), _cell(r["what_if"]), _cell(r["change"]))
        Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("recompute")(recompute)
