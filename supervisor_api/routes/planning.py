"""GET /api/v1/planning/erlang (pure maths) and /api/v1/planning/staffing (per interval, from history).
Roles: admin, supervisor, planner (the report readers); queue scopes apply to staffing."""
from __future__ import annotations

import datetime as dt
import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pipeline.history import reports
from pipeline.planning import erlang, forecast, staffing
from supervisor_api.deps import Principal, require
from supervisor_api.errors import warehouse_call
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1/planning", tags=["planning"])


class ErlangResult(BaseModel):
    model: Literal["c", "a"]
    volume: float
    interval_s: float
    aht_s: float
    load_erlangs: float = Field(description="volume / interval_s x aht_s")
    agents: int = Field(description="agents on contacts (chat: each takes `concurrency` at once)")
    staff: int = Field(description="agents / (1 - shrinkage), rounded up")
    service_level: float = Field(description="share of offered contacts answered within target_answer_s")
    p_wait: float
    asa_s: float | None = Field(description="mean wait of answered contacts; null when overloaded")
    mean_wait_s: float | None
    p_abandon: float
    occupancy: float
    target_answer_s: float
    target_sl: float | None
    patience_s: float | None
    shrinkage: float
    max_occupancy: float
    concurrency: int


class StaffingRow(BaseModel):
    start: str
    forecast_volume: float
    forecast_aht_s: float | None
    agents_required: int | None
    staff_required: int | None
    past: bool
    actual_volume: float | None = None
    actual_aht_s: float | None = None
    actual_service_level: float | None = None
    agents_required_actual: int | None = None
    agents_logged_in: float | None = Field(None, description="time-weighted, from agent states")
    agents_seen: int | None = Field(None, description="distinct agents on contacts in the interval")
    agents_busy: float | None = None
    shortfall: float | None = Field(None, description="required for the actual load - present; > 0: understaffed")
    understaffed: bool | None = None
    backlog_items: float | None = None


class StaffingReport(BaseModel):
    queue: str | None
    channel: str
    interval_s: int
    model: str
    method: str | None
    backtest: list[dict]
    patience_s: float | None
    target_sl: float
    target_answer_s: float
    shrinkage: float
    summary: dict
    rows: list[StaffingRow]
_ERRORS = errors(400, 401, 403, 429, 503,
                 e403="The token's role may not read planning (admin, supervisor and planner may), or "
                      "`queue` is outside the token's scope.",
                 e503="ClickHouse unavailable; retry after `Retry-After` seconds.")


@router.get("/erlang", summary="Erlang C / A: agents for a target, or the service of given agents",
            responses={200: {"model": ErlangResult, "description": "Agents, staff and the service they give."},
                       **_ERRORS})
async def erlang_endpoint(
    volume: float = Query(..., ge=0, description="Contacts per interval."),
    interval_s: float = Query(1800, gt=0, description="Interval length in seconds (1 s to 31 days)."),
    aht_s: float = Query(..., gt=0, description="Average handle time, seconds (1 ms to 31 days)."),
    target_answer_s: float = Query(20, ge=0), target_sl: float = Query(0.8, gt=0, lt=1),
    model: Literal["c", "a"] = Query("c", description="c: Erlang C; a: Erlang A (needs patience_s)."),
    patience_s: float | None = Query(None, gt=0, description="Mean patience, seconds (Erlang A; 1 ms to 1e9 s)."),
    shrinkage: float = Query(0.0, ge=0, lt=1), max_occupancy: float = Query(1.0, gt=0, le=1),
    concurrency: int = Query(1, ge=1, le=50, description="Chats an agent takes at once."),
    agents: int | None = Query(None, ge=1, description="Evaluate this many agents instead of solving."),
    principal: Principal = Depends(require("can_read_reports")),
):
    if model == "a" and patience_s is None:
        raise HTTPException(400, {"param": "patience_s", "reason": "model=a needs patience_s (mean seconds a "
                                                                   "caller waits before hanging up)"})
    kw = dict(target_answer_s=target_answer_s, patience_s=patience_s if model == "a" else None,
              shrinkage=shrinkage, max_occupancy=max_occupancy, concurrency=concurrency)
    def compute():
        if agents is not None:
            return erlang.evaluate(volume, interval_s, aht_s, agents, target_sl=target_sl, **kw)
        return erlang.solve(volume, interval_s, aht_s, target_sl=target_sl, **kw)

    try:  # in a worker thread: a large Erlang A takes seconds and must not stall the websockets
        r = await run_in_threadpool(compute)
    except erlang.ErlangError as exc:
        raise HTTPException(400, exc.as_dict())
    out = r.as_dict()
    for k in ("asa_s", "mean_wait_s"):
        if out[k] == float("inf"):
            out[k] = None     # overloaded: the queue grows without bound
    return json_response(out)


@router.get("/staffing", summary="Per 15 minutes: forecast, agents required, and for past intervals "
                                 "the agents logged in and the shortfall",
            responses={200: {"model": StaffingReport,
                             "description": "Per 15-minute interval; CSV (`text/csv`) with `format=csv`.",
                             "content": {"text/csv": {"schema": {"type": "string"}}}},
                       **_ERRORS})
async def staffing_endpoint(
    request: Request,
    from_: str = Query(..., alias="from", description="Start: ISO date or datetime (in tz when naive)."),
    to: str = Query(..., description="End (exclusive for datetimes, inclusive for dates)."),
    queue: str | None = Query(None), channel: Literal["voice", "chat", "email"] = Query("voice"),
    tz: str = Query("UTC"), model: Literal["c", "a"] = Query("c"),
    target_sl: float = Query(0.8, gt=0, lt=1),
    target_answer_s: float | None = Query(None, ge=0, description="Default: the queue's threshold."),
    patience_s: float | None = Query(None, gt=0, description="Erlang A; default: estimated from history."),
    shrinkage: float = Query(0.0, ge=0, lt=1), max_occupancy: float = Query(1.0, gt=0, le=1),
    concurrency: int | None = Query(None, ge=1, le=50, description="Default: the queue setting (else 1)."),
    holidays: str | None = Query(None, max_length=20, description="Country code (US, ES-MD): its public "
                                                                "holidays are closed days (no forecast)."),
    format: Literal["json", "csv"] = Query("json"),
    principal: Principal = Depends(require("can_read_reports")),
):
    allowed: tuple[str, ...] = ()
    if principal.queues is not None:
        if queue:
            if not principal.can_see(queue):
                raise HTTPException(403, "not allowed for this queue")
        else:
            allowed = tuple(sorted(principal.queues))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise HTTPException(400, {"param": "tz", "reason": f"unknown IANA time zone {tz[:64]!r}"}) from None
    try:
        rp = reports.parse_params({"from": from_, "to": to, "tz": tz, "by": "15m"})
    except reports.ReportError as exc:
        raise HTTPException(400, exc.as_dict())
    qs = request.app.state.queue_settings
    threshold = qs.for_queue(queue or "", channel).threshold_s
    p = staffing.StaffingParams(channel=channel, queue=queue or "", allowed_queues=allowed, target_sl=target_sl,
                                target_answer_s=threshold if target_answer_s is None else target_answer_s,
                                threshold_s=threshold, model=model, patience_s=patience_s, shrinkage=shrinkage,
                                max_occupancy=max_occupancy,
                                concurrency=concurrency or qs.concurrency(queue or "", channel),
                                holidays=holidays or "")
    now = dt.datetime.fromtimestamp(time.time(), dt.timezone.utc)
    try:
        result = await warehouse_call(request, staffing.staffing_report, p, rp.start_utc, rp.end_utc, rp.zone, now)
    except (erlang.ErlangError, forecast.ForecastError) as exc:
        raise HTTPException(400, exc.as_dict())
    if format == "csv":
        return PlainTextResponse(reports.to_csv(result["rows"]), media_type="text/csv",
                                 headers={"Content-Disposition": 'attachment; filename="staffing.csv"'})
    return json_response(result)
