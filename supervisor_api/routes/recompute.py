"""POST /api/v1/recompute: rewrite history from the event log, or a what-if comparison (issue 14).

Runs inside the API process, so it works while `tablero up` holds the embedded chDB directory
(`tablero recompute --api URL` calls it). Admin tokens only. The optional request body is a queue
settings file (TOML, `text/plain`); without it the settings the app runs with are used.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict

from pipeline.history import recompute as rc
from pipeline.history import reports
from pipeline.live.queue_settings import QueueSettings, QueueSettingsError
from supervisor_api.deps import Principal, current_principal
from supervisor_api.errors import warehouse_call
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1", tags=["reports"])
MAX_SETTINGS_BYTES = 256 * 1024


class RecomputeResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    mode: str
    version: str
    contacts: int


async def _admin(principal: Principal = Depends(current_principal)) -> Principal:
    if principal.role != "admin":
        raise HTTPException(403, f"role {principal.role!r} may not do this (admin only)")
    return principal


@router.post(
    "/recompute", summary="Recompute history from the event log, or compare definitions (what-if)",
    responses={200: {"model": RecomputeResult,
                     "description": "`mode` rewrite: `contacts` rewritten under `version`. `mode` what_if: "
                                    "`current` and `what_if` reports and `side_by_side` rows; history untouched."},
               **errors(400, 401, 403, 413, 429, 503, e403="Admin tokens only.",
                        e503="ClickHouse unavailable; retry after `Retry-After` seconds.")},
    openapi_extra={"requestBody": {"required": False, "content": {"text/plain": {"schema": {
        "type": "string", "description": "Queue settings (TOML) to recompute under; default: the app's."}}}}},
)
async def recompute(
    request: Request,
    from_: str = Query(..., alias="from", description="Start: ISO date or datetime (in tz when naive)."),
    to: str = Query(..., description="End (exclusive for datetimes, inclusive for dates)."),
    tz: str | None = Query(None, description="IANA zone for dates and the what-if reports (default: the site's)."),
    what_if: bool = Query(False, description="Compare reports under the new settings; write nothing."),
    by: str = Query("day", description="Interval of the what-if queues report: 15m, hour, day or week."),
    _principal: Principal = Depends(_admin),
):
    current: QueueSettings = request.app.state.queue_settings
    body = await request.body()
    if len(body) > MAX_SETTINGS_BYTES:
        raise HTTPException(413, f"settings body over {MAX_SETTINGS_BYTES} bytes")
    try:
        new = QueueSettings.from_toml(body.decode("utf-8"), current.site_tz) if body.strip() else current
    except (QueueSettingsError, UnicodeDecodeError) as exc:
        raise HTTPException(400, {"param": "body", "reason": str(exc)[:2000]})
    try:
        try:
            ZoneInfo(tz or current.site_tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise reports.ReportError("tz", f"unknown IANA time zone {str(tz)[:64]!r}; use e.g. 'Europe/Madrid'") from None
        params = reports.parse_params({"from": from_, "to": to, "tz": tz or current.site_tz, "by": by})
    except reports.ReportError as exc:
        raise HTTPException(400, exc.as_dict())
    from_ms = int(params.start_utc.timestamp() * 1000)
    to_ms = int(params.end_utc.timestamp() * 1000)
    if what_if:
        result = await warehouse_call(request, rc.what_if, from_ms, to_ms, current, new, params)
        return json_response({"mode": "what_if", "version": new.version,
                              "contacts": result["what_if"]["contacts_recomputed"], **result,
                              "side_by_side": rc.side_by_side(result)})
    n = await warehouse_call(request, rc.recompute, from_ms, to_ms, new)
    return json_response({"mode": "rewrite", "version": new.version, "contacts": n,
                          "running_version": current.version})
