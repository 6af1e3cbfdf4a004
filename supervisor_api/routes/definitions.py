"""GET /api/v1/definitions: each report figure's formula, the time it is counted at, what it
excludes, its drill-down parameters and SQL, and the thresholds in force (the reports page's
tooltips; pipeline.history.definitions)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from pipeline.history import definitions, reports
from supervisor_api.deps import Principal, require
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1/definitions", tags=["reports"])


@router.get("", summary="What each report figure means and how it is computed", responses=errors(401, 403, 429))
async def get_definitions(request: Request, principal: Principal = Depends(require("can_read_reports"))):
    per_queue, per_channel = reports.thresholds_from(request.app.state.queue_settings)
    return json_response(definitions.definitions(
        thresholds={**reports.DEFAULT_THRESHOLDS_S, **per_channel},
        per_queue=per_queue,
        short_abandon_s=reports.ReportParams.model_fields["short_abandon_s"].default,
        repeat_days=request.app.state.settings.repeat_contact_days))
