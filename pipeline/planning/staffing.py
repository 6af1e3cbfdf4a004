"""Staffing per 15-minute interval for a queue and channel: forecast, required agents, and (for past
intervals) what happened. The I/O half of planning: it runs clickhouse/queries/planning_*.sql
through ``clickhouse_store.query_rows`` and hands the numbers to the pure modules.

For each interval of [start, end) in the site zone:
- forecast volume and AHT: ``forecast.forecast_day`` from the history before ``start`` (the method
  chosen once per request by a backtest over the history before ``start``);
- agents and staff required: Erlang C, or Erlang A with the patience estimated from the history
  (``model="a"``), at the target; email: the backlog model with the queue's threshold as deadline;
- past intervals (start < now): actual volume, AHT, service level (answered within threshold /
  offered), agents required for the ACTUAL volume and AHT, agents logged in (time-weighted, from
  agent_states) and agents seen on contacts (from contact facts; the only presence a call log
  has), and ``shortfall`` = required - present (positive: understaffed by that many agents), with
  ``present`` = logged in when agent states exist for the range, else seen on contacts.
Read-only; idempotent.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.history import clickhouse_store
from pipeline.history.reports import QUERIES_DIR
from pipeline.planning import backlog, erlang, forecast

INTERVAL_S = 900
HISTORY_DAYS = 56
MAX_RANGE_DAYS = 31


@dataclass(frozen=True)
class StaffingParams:
    channel: str = "voice"
    queue: str = ""
    allowed_queues: tuple[str, ...] = ()
    target_sl: float = 0.8
    target_answer_s: float = 20.0
    threshold_s: float = 20.0          # the queue's SL threshold (email: the deadline)
    model: str = "c"
    patience_s: float | None = None    # model a: None = estimate from history
    shrinkage: float = 0.0
    max_occupancy: float = 1.0
    concurrency: int = 1
    history_days: int = HISTORY_DAYS
    holidays: str = ""                 # country code: its public holidays are closed (no forecast)


def _sql(name: str) -> str:
    return (QUERIES_DIR / f"{name}.sql").read_text()


def _ms(moment: dt.datetime) -> int:
    return int(round(moment.timestamp() * 1000))


def query(client: Any, name: str, p: StaffingParams, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Run clickhouse/queries/<name>.sql for the queue, channel and [start, end)."""
    params = {"from_ms": _ms(start), "to_ms": _ms(end), "queue": p.queue, "channel": p.channel,
              "allowed_queues": list(p.allowed_queues), "threshold_s": float(p.threshold_s),
              "interval_s": INTERVAL_S}
    return clickhouse_store.query_rows(client, _sql(name), params)


def handle_for_volume(row: dict) -> float:
    """Handle seconds of the interval's volume: AHT of its closed contacts x offered."""
    return float(row["handle_sum_s"]) / row["handle_n"] * float(row["offered"]) if row["handle_n"] else 0.0


def _staff(p: StaffingParams, volume: float, aht: float | None, patience: float | None) -> dict:
    if volume <= 0 or not aht:
        return {"agents": 0, "staff": 0, "service_level": None, "occupancy": None}
    r = erlang.solve(volume, INTERVAL_S, aht, target_answer_s=p.target_answer_s, target_sl=p.target_sl,
                     patience_s=patience if p.model == "a" else None, shrinkage=p.shrinkage,
                     max_occupancy=p.max_occupancy, concurrency=p.concurrency)
    return {"agents": r.agents, "staff": r.staff, "service_level": r.service_level, "occupancy": r.occupancy}


def staffing_report(client: Any, p: StaffingParams, start: dt.datetime, end: dt.datetime, zone: ZoneInfo,
                    now: dt.datetime) -> dict[str, Any]:
    """``start``/``end`` aware datetimes; ``now`` injected (intervals before it are 'past')."""
    if end <= start:
        raise erlang.ErlangError("to", "must be after from")
    if (end - start).total_seconds() > MAX_RANGE_DAYS * 86400:
        raise erlang.ErlangError("to", f"at most {MAX_RANGE_DAYS} days per request")
    hist_start = start - dt.timedelta(days=p.history_days)
    rows = query(client, "planning_intervals", p, hist_start, end)
    by_epoch = {int(r["start_epoch"]): r for r in rows}

    def local(epoch: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)

    # patience from the history before the range: abandoned / waiting time of answered + abandoned
    before = [r for e, r in by_epoch.items() if e < start.timestamp()]
    abandoned = sum(int(r["abandoned_n"]) for r in before)
    waited = sum(float(r["answered_wait_sum_s"] or 0) + float(r["abandoned_wait_sum_s"] or 0) for r in before)
    patience = p.patience_s if p.patience_s is not None else (
        erlang.estimate_patience(abandoned, waited) if waited > 0 else None)
    points = [(local(e), float(r["offered"]), handle_for_volume(r)) for e, r in by_epoch.items()
              if e < start.timestamp()]
    series = forecast.build_series(points, INTERVAL_S) if points else None
    method, scores = None, []
    if series is not None and len(series.days) >= 7:
        scores = forecast.backtest(series, min(10, len(series.days) - 5))
        method = min(scores, key=lambda s: s.rmse).method
    elif series is not None:
        method = "historical_average"
    all_handle = sum(float(r["handle_sum_s"] or 0) for r in before)
    all_handle_n = sum(int(r["handle_n"]) for r in before)
    default_aht = all_handle / all_handle_n if all_handle_n else None

    logged = {int(r["start_epoch"]): r for r in query(client, "planning_agents_logged_in", p, start, end)}
    seen = {int(r["start_epoch"]): r for r in query(client, "planning_agents_on_contacts", p, start, end)}
    presence = "agent_states" if logged else "contacts"

    out: list[dict[str, Any]] = []
    first = math.ceil(start.timestamp() / INTERVAL_S) * INTERVAL_S
    day_cache: dict[dt.date, dict[dt.time, tuple[float, float | None]]] = {}
    closed = (forecast.holiday_dates(p.holidays, range(start.year - 1, end.year + 2)) if p.holidays
              else frozenset())
    epoch = first
    while epoch < end.timestamp():
        loc = local(epoch)
        if loc.date() not in day_cache:
            fc_map: dict[dt.time, tuple[float, float | None]] = {}
            if series is not None:
                fc = forecast.forecast_day(series, loc.date(), method=method, backtest_days=0, closed_days=closed)
                fc_map = {t.time(): (v, a) for t, v, a in zip(fc.starts, fc.volume, fc.aht_s)}
            day_cache[loc.date()] = fc_map
        f_vol, f_aht = day_cache[loc.date()].get(loc.time(), (0.0, None))
        f_aht = f_aht or default_aht
        row: dict[str, Any] = {"start": dt.datetime.fromtimestamp(epoch, zone).isoformat(),
                               "forecast_volume": round(f_vol, 3), "forecast_aht_s": f_aht}
        req = _staff(p, f_vol, f_aht, patience) if p.channel != "email" else {}
        row["agents_required"] = req.get("agents")
        row["staff_required"] = req.get("staff")
        past = epoch + INTERVAL_S <= now.timestamp()
        row["past"] = past
        if past:
            a = by_epoch.get(epoch)
            vol = float(a["offered"]) if a else 0.0
            aht = (float(a["handle_sum_s"]) / a["handle_n"]) if a and a["handle_n"] else None
            row["actual_volume"] = vol
            row["actual_aht_s"] = aht
            row["actual_service_level"] = (int(a["answered_within_sl"]) / vol) if a and vol else None
            act = _staff(p, vol, aht or f_aht, patience) if p.channel != "email" else {}
            row["agents_required_actual"] = act.get("agents")
            lg, sn = logged.get(epoch), seen.get(epoch)
            row["agents_logged_in"] = round(float(lg["agents_logged_in"]), 3) if lg else (0.0 if logged else None)
            row["agents_seen"] = int(sn["agents_seen"]) if sn else 0
            row["agents_busy"] = round(float(sn["agents_busy"]), 3) if sn else 0.0
            present = row["agents_logged_in"] if presence == "agent_states" else row["agents_seen"]
            need = row["agents_required_actual"]
            row["shortfall"] = round(need - present, 3) if need is not None and present is not None else None
            row["understaffed"] = bool(row["shortfall"] is not None and row["shortfall"] > 0)
        out.append(row)
        epoch += INTERVAL_S
    if p.channel == "email" and out:
        _email(out, p, default_aht)
    past_rows = [r for r in out if r["past"] and r.get("shortfall") is not None]
    summary = {
        "intervals": len(out), "past_intervals": len(past_rows),
        "understaffed_intervals": sum(1 for r in past_rows if r["understaffed"]),
        "shortfall_agent_hours": round(sum(max(r["shortfall"], 0) for r in past_rows) * INTERVAL_S / 3600, 2),
        "surplus_agent_hours": round(sum(max(-r["shortfall"], 0) for r in past_rows) * INTERVAL_S / 3600, 2),
        "presence": presence,
    }
    return {"queue": p.queue or None, "channel": p.channel, "interval_s": INTERVAL_S,
            "model": "backlog" if p.channel == "email" else p.model,
            "method": method, "backtest": [s.as_dict() for s in scores],
            "patience_s": patience, "target_sl": p.target_sl, "target_answer_s": p.target_answer_s,
            "shrinkage": p.shrinkage, "summary": summary, "rows": out}


def _email(out: list[dict], p: StaffingParams, default_aht: float | None) -> None:
    """Deferred work: agents from the backlog model with the threshold as the deadline."""
    aht = default_aht or next((r["forecast_aht_s"] for r in out if r["forecast_aht_s"]), None)
    if not aht:
        return
    plan = backlog.required([r["forecast_volume"] for r in out], aht, INTERVAL_S, p.threshold_s)
    for r, b in zip(out, plan):
        r["agents_required"] = b.agents_rounded
        r["staff_required"] = math.ceil(b.agents / (1 - p.shrinkage) - 1e-9) if b.agents > 1e-9 else 0
        r["backlog_items"] = round(b.backlog_items, 3)
    past = [r for r in out if r["past"]]
    if past:
        actual = backlog.required([r["actual_volume"] for r in past], aht, INTERVAL_S, p.threshold_s)
        for r, b in zip(past, actual):
            r["agents_required_actual"] = b.agents_rounded
            present = r["agents_logged_in"] if r.get("agents_logged_in") is not None else r["agents_seen"]
            r["shortfall"] = round(b.agents_rounded - present, 3)
            r["understaffed"] = r["shortfall"] > 0
