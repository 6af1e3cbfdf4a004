"""`tablero plan erlang|forecast|staffing|backtest`: workforce planning from the command line."""
from __future__ import annotations

import datetime as dt
import enum
import math

import orjson
import typer
from rich.console import Console
from rich.table import Table

from pipeline.settings import get_settings

err = Console(stderr=True)
plan_app = typer.Typer(help="Workforce planning: Erlang staffing, forecasts, backtests, staffing vs history.",
                       no_args_is_help=True)


class Fmt(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _out(rows: list[dict], fmt: Fmt, whole=None) -> None:
    from pipeline.history.reports import to_csv

    if fmt == Fmt.json:
        print(orjson.dumps(whole if whole is not None else rows, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())
    elif fmt == Fmt.csv:
        print(to_csv(rows), end="")
    else:
        if not rows:
            err.print("no rows")
            return
        keys = [k for k in rows[0] if not isinstance(rows[0][k], (dict, list))]
        table = Table(*keys)
        for r in rows:
            table.add_row(*[_cell(r.get(k)) for k in keys])
        Console().print(table)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def _fail(param: str, reason: str) -> None:
    err.print(f"[red]error:[/red] --{param.replace('_', '-')}: {reason}")
    raise typer.Exit(2)


@plan_app.command("erlang")
def erlang_cmd(
    volume: float = typer.Option(..., "--volume", help="Contacts per interval."),
    aht_s: float = typer.Option(..., "--aht-s", help="Average handle time, seconds."),
    interval_s: float = typer.Option(1800, "--interval-s"),
    target_answer_s: float = typer.Option(20, "--target-answer-s"),
    target_sl: float = typer.Option(0.8, "--target-sl", help="Share answered within the target, e.g. 0.8."),
    patience_s: float = typer.Option(None, "--patience-s", help="Mean patience: Erlang A instead of C."),
    shrinkage: float = typer.Option(0.0, "--shrinkage"), max_occupancy: float = typer.Option(1.0, "--max-occupancy"),
    concurrency: int = typer.Option(1, "--concurrency", help="Chats an agent takes at once."),
    agents: int = typer.Option(None, "--agents", help="Evaluate this many agents instead of solving."),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """Agents and staff for a target, or the service level of given agents.

    Example: tablero plan erlang --volume 100 --interval-s 1800 --aht-s 180 --target-sl 0.8 --shrinkage 0.3
    """
    from pipeline.planning import erlang

    kw = dict(target_answer_s=target_answer_s, patience_s=patience_s, shrinkage=shrinkage,
              max_occupancy=max_occupancy, concurrency=concurrency)
    try:
        r = (erlang.evaluate(volume, interval_s, aht_s, agents, target_sl=target_sl, **kw) if agents
             else erlang.solve(volume, interval_s, aht_s, target_sl=target_sl, **kw))
    except erlang.ErlangError as exc:
        _fail(exc.param, exc.reason)
    d = r.as_dict()
    if fmt == Fmt.table:
        table = Table("measure", "value")
        for k, v in d.items():
            table.add_row(k, _cell(v))
        Console().print(table)
    else:
        _out([d], fmt, d)


def _series(csv_path: str | None, queue: str | None, channel: str, since: str | None, until: str | None = None):
    from pipeline.planning import forecast

    if csv_path:
        try:
            with open(csv_path, encoding="utf-8") as f:
                return forecast.build_series(forecast.parse_csv_rows(f))
        except OSError as exc:
            _fail("csv", f"cannot read {csv_path}: {exc.strerror}")
        except forecast.ForecastError as exc:
            _fail(exc.param if exc.param != "history" else "csv", exc.reason)
    if not queue and not channel:
        _fail("csv", "give --csv FILE, or --queue/--channel to read the history from ClickHouse")
    from zoneinfo import ZoneInfo

    from pipeline.history.warehouse import get_warehouse
    from pipeline.planning import staffing

    s = get_settings()
    zone = ZoneInfo(s.site_tz)
    try:
        end = (dt.datetime.combine(dt.date.fromisoformat(until), dt.time(), zone) if until
               else dt.datetime.now(dt.timezone.utc))
        start = (dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), zone) if since
                 else end - dt.timedelta(days=365))
    except ValueError as exc:
        _fail("since", f"{exc}; use ISO dates like 2024-01-31")
    p = staffing.StaffingParams(channel=channel, queue=queue or "")

    rows = get_warehouse(s.clickhouse_dsn).call_sync(staffing.query, "planning_intervals", p, start, end)
    pts = [(dt.datetime.fromtimestamp(int(r["start_epoch"]), zone).replace(tzinfo=None), float(r["offered"]),
            staffing.handle_for_volume(r)) for r in rows]
    try:
        return forecast.build_series(pts, 900)
    except forecast.ForecastError as exc:
        _fail("queue", exc.reason)


@plan_app.command("backtest")
def backtest_cmd(
    csv: str = typer.Option(None, "--csv", help="Past interval volumes: columns start, volume[, aht_s]."),
    queue: str = typer.Option(None, "--queue"), channel: str = typer.Option("voice", "--channel"),
    days: int = typer.Option(20, "--days", help="Open days held out, each forecast one day ahead."),
    since: str = typer.Option(None, "--since", help="ClickHouse history from this date (default: a year back)."),
    until: str = typer.Option(None, "--until", help="... up to this date, exclusive (default: now)."),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """RMSE and WAPE per method, at the data's interval and at 15 minutes.

    Example: tablero plan backtest --csv tests/data/bank_calls_5min_2003.csv --days 20
    """
    from pipeline.planning import forecast

    series = _series(csv, queue, channel, since, until)
    try:
        scores = forecast.backtest(series, days)
    except forecast.ForecastError as exc:
        _fail(exc.param, exc.reason)
    rows = [s.as_dict() for s in sorted(scores, key=lambda s: s.rmse)]
    if fmt == Fmt.table:
        err.print(f"{len(series.days)} open days at {series.interval_s // 60} min; last {days} held out; "
                  f"best: {rows[0]['method']}")
    _out(rows, fmt)


@plan_app.command("forecast")
def forecast_cmd(
    day: str = typer.Option(..., "--day", help="The day to forecast (ISO date)."),
    csv: str = typer.Option(None, "--csv"), queue: str = typer.Option(None, "--queue"),
    channel: str = typer.Option("voice", "--channel"),
    method: str = typer.Option(None, "--method", help="seasonal_naive, historical_average, ets_profile, "
                                                       "tuned_profile (default: the backtest's best)."),
    closed: list[str] = typer.Option([], "--closed", help="A closed day (holiday), ISO date; repeatable."),
    holidays: str = typer.Option(None, "--holidays", help="Country code (US, ES-MD): its public holidays are closed."),
    since: str = typer.Option(None, "--since", help="ClickHouse history from this date (default: a year back)."),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """Volume per interval with 80 % / 95 % prediction intervals, and handle time.

    Example: tablero plan forecast --csv tests/data/bank_calls_5min_2003.csv --day 2003-10-27
    """
    from pipeline.planning import forecast

    try:
        target = dt.date.fromisoformat(day)
        closed_days = [dt.date.fromisoformat(c) for c in closed]
    except ValueError as exc:
        _fail("day", f"{exc}; use an ISO date like 2024-03-01")
    series = _series(csv, queue, channel, since, target.isoformat())
    try:
        if holidays:
            closed_days += sorted(forecast.holiday_dates(holidays, [target.year]))
        fc = forecast.forecast_day(series, target, method=method, closed_days=closed_days)
    except forecast.ForecastError as exc:
        _fail(exc.param, exc.reason)
    if fmt == Fmt.table:
        err.print(f"method: {fc.method}{' (closed day)' if fc.closed else ''}; total {sum(fc.volume):,.0f}")
    _out(fc.rows(), fmt, {"method": fc.method, "day": str(fc.day), "closed": fc.closed, "rows": fc.rows(),
                          "backtest": [s.as_dict() for s in fc.scores]})


@plan_app.command("staffing")
def staffing_cmd(
    from_: str = typer.Option(..., "--from"), to: str = typer.Option(..., "--to"),
    queue: str = typer.Option(None, "--queue"), channel: str = typer.Option("voice", "--channel"),
    model: str = typer.Option("c", "--model", help="c (Erlang C) or a (Erlang A, patience from history)."),
    target_sl: float = typer.Option(0.8, "--target-sl"),
    target_answer_s: float = typer.Option(None, "--target-answer-s", help="Default: the queue's threshold."),
    shrinkage: float = typer.Option(0.0, "--shrinkage"), max_occupancy: float = typer.Option(1.0, "--max-occupancy"),
    concurrency: int = typer.Option(None, "--concurrency", help="Default: the queue setting (else 1)."),
    holidays: str = typer.Option(None, "--holidays", help="Country code (US, ES-MD): its public holidays are closed."),
    tz: str = typer.Option(None, "--tz"),
    fmt: Fmt = typer.Option(Fmt.table, "--format"),
) -> None:
    """Per 15 minutes: forecast, agents and staff required; for past intervals the actual volume, the
    agents logged in and the shortfall (understaffed by how many agents).

    Example: tablero plan staffing --from 1999-02-22 --to 1999-02-26 --queue PS --channel voice
    """
    from pipeline.history import reports
    from pipeline.history.warehouse import get_warehouse
    from pipeline.live.queue_settings import load_queue_settings
    from pipeline.planning import erlang, forecast, staffing

    s = get_settings()
    if model not in ("a", "c"):
        _fail("model", "c or a")
    try:
        rp = reports.parse_params({"from": from_, "to": to, "tz": tz or s.site_tz, "by": "15m"})
    except reports.ReportError as exc:
        _fail(exc.param, exc.reason)
    qs = load_queue_settings(s.queues_file, s.site_tz)
    threshold = qs.for_queue(queue or "", channel).threshold_s
    p = staffing.StaffingParams(channel=channel, queue=queue or "", target_sl=target_sl,
                                target_answer_s=threshold if target_answer_s is None else target_answer_s,
                                threshold_s=threshold, model=model, shrinkage=shrinkage,
                                max_occupancy=max_occupancy,
                                concurrency=concurrency or qs.concurrency(queue or "", channel),
                                holidays=holidays or "")
    try:
        result = get_warehouse(s.clickhouse_dsn).call_sync(
            staffing.staffing_report, p, rp.start_utc, rp.end_utc, rp.zone, dt.datetime.now(dt.timezone.utc))
    except (erlang.ErlangError, forecast.ForecastError) as exc:
        _fail(exc.param, exc.reason)
    if fmt == Fmt.table:
        err.print(f"method {result['method']}; summary {result['summary']}")
    _out(result["rows"], fmt, result)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
