"""GET /api/v1/reports/{queues|conversations|agents}: JSON, or CSV with format=csv."""
from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from pipeline.history import reports
from pipeline.observability import REPORT_DURATION
from supervisor_api.deps import Principal, require
from supervisor_api.errors import warehouse_call
from supervisor_api.schemas import REPORT_MODELS, errors, json_response

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

_ERRORS = errors(400, 401, 403, 429, 503,
                 e403="The token's role may not read reports (admin, supervisor and planner may), or "
                      "`queue` is outside the token's scope (same answer whether or not the queue exists).",
                 e503="ClickHouse unavailable; retry after `Retry-After` seconds.")
OUT_OF_SCOPE = "not allowed for this queue"


def apply_scope(request: Request, principal: Principal, raw: dict) -> dict:
    """The caller's queue scope and the site's report settings, added to raw report parameters:
    asking for a queue outside the scope is 403; without `queue`, only the scope's queues count.
    Shared by every route that reads history (reports, contacts)."""
    if principal.queues is not None:
        wanted = raw.get("queue")
        if wanted:
            if not principal.can_see(wanted):
                raise HTTPException(403, OUT_OF_SCOPE)
        else:
            raw["allowed_queues"] = sorted(principal.queues)
    settings = getattr(request.app.state, "settings", None)
    if settings is not None:
        raw["repeat_days"] = settings.repeat_contact_days
    try:
        check_zone(raw.get("tz"))
    except reports.ReportError as exc:
        raise HTTPException(400, exc.as_dict())
    return raw


async def _run(request: Request, name: str, principal: Principal, raw: dict, fmt: str):
    apply_scope(request, principal, raw)
    try:
        params = reports.parse_params(raw)
    except reports.ReportError as exc:
        raise HTTPException(400, exc.as_dict())
    qs = request.app.state.queue_settings
    try:
        with REPORT_DURATION.labels(name).time():
            result = await warehouse_call(request, reports.REPORTS[name], params, **reports.policy_kwargs(name, qs))
    except reports.ReportError as exc:
        raise HTTPException(400, exc.as_dict())
    if fmt == "csv":
        return PlainTextResponse(reports.to_csv(reports.table_rows(name, result)), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return json_response(result)


def check_zone(tz: str | None) -> None:
    """ZoneInfo raises OSError for a directory ("Europe") or an over-long name, which
    pipeline.history.reports' validator does not catch (it would be a 500): answer 400 here."""
    if not tz:
        return
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise reports.ReportError("tz", f"unknown IANA time zone {tz[:64]!r}; use e.g. 'Europe/Madrid' "
                                        "or 'UTC'") from None


def _endpoint(name: str, summary: str):
    async def endpoint(
        request: Request,
        from_: str = Query(..., alias="from", description="Start: ISO date or datetime (in tz when naive)."),
        to: str = Query(..., description="End (exclusive for datetimes, inclusive for dates)."),
        queue: str | None = Query(None), channel: str | None = Query(None),
        agent: str | None = Query(None), tag: str | None = Query(None),
        tz: str = Query("UTC", description="IANA time zone; intervals are aligned in it."),
        by: Literal["15m", "hour", "day", "week"] = Query("day"),
        format: Literal["json", "csv"] = Query("json"),
        principal: Principal = Depends(require("can_read_reports")),
    ):
        raw = {"from": from_, "to": to, "queue": queue, "channel": channel, "agent": agent, "tag": tag,
               "tz": tz, "by": by}
        return await _run(request, name, principal, raw, format)

    responses = {200: {"model": REPORT_MODELS[name],
                       "description": "The report as JSON, or CSV (`text/csv`) with `format=csv`.",
                       "content": {"text/csv": {"schema": {"type": "string"}}}},
                 **_ERRORS}
    router.add_api_route(f"/{name}", endpoint, methods=["GET"], summary=summary, responses=responses,
                         name=f"report_{name}",
                         description="Scoped tokens only see their queues: without `queue`, rows of "
                                     "other queues are left out; asking for another queue is 403.")


_endpoint("queues", "Interval report per queue: offered, answered, abandoned, service level, ASA, AHT")
_endpoint("conversations", "Conversations: volumes, response and handle times, buckets, busiest times, CSAT")
_endpoint("agents", "Staff report per agent")
