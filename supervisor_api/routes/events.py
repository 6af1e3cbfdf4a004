"""POST /api/v1/events: one event, a JSON array or NDJSON, answered per event."""
from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import ORJSONResponse
from pydantic import BaseModel

from pipeline.validation import Rejection, split_body, validate_obj
from supervisor_api.deps import Principal, require, settings_dep
from supervisor_api.event_producer import KafkaUnavailable

router = APIRouter(prefix="/api/v1", tags=["ingest"])


class EventResult(BaseModel):
    index: int
    id: str | None = None
    status: str  # accepted | rejected
    code: str | None = None
    reason: str | None = None
    field: str | None = None


class IngestResponse(BaseModel):
    accepted: int
    rejected: int
    results: list[EventResult]


@router.post(
    "/events",
    response_model=IngestResponse,
    status_code=202,
    responses={
        207: {"model": IngestResponse, "description": "Some events rejected; each result says why."},
        400: {"model": IngestResponse, "description": "Every event rejected."},
        401: {"description": "Missing or invalid token."},
        403: {"description": "The token may not publish."},
        413: {"description": "Body or event count over the limit."},
        429: {"description": "Rate limited; retry after the Retry-After seconds."},
        503: {"description": "Kafka unavailable; nothing was accepted; retry (ids deduplicate)."},
    },
    summary="Publish interaction events (CloudEvents JSON, JSON array or NDJSON)",
)
async def post_events(request: Request, principal: Principal = Depends(require("can_publish")),
                      settings=Depends(settings_dep)):
    limiter = request.app.state.ingest_limiter
    if not limiter.allow(principal.token_id):
        raise HTTPException(429, "ingest rate limit reached for this token", headers={"Retry-After": "1"})
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_body_bytes:
        raise HTTPException(413, f"body over {settings.max_body_bytes} bytes (TABLERO_MAX_BODY_BYTES); "
                                 "split it into several requests")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_body_bytes:
            raise HTTPException(413, f"body over {settings.max_body_bytes} bytes (TABLERO_MAX_BODY_BYTES); "
                                     "split it into several requests")
    items = split_body(bytes(body), request.headers.get("content-type", ""), max_event_bytes=settings.max_event_bytes)
    if len(items) > settings.max_events_per_request:
        raise HTTPException(413, f"{len(items)} events in one request; at most "
                                 f"{settings.max_events_per_request} (TABLERO_MAX_EVENTS_PER_REQUEST)")
    results: list[EventResult] = []
    to_send: list[tuple[bytes, bytes]] = []
    for index, item in enumerate(items):
        outcome = item if isinstance(item, Rejection) else validate_obj(item)
        if isinstance(outcome, Rejection):
            results.append(EventResult(index=index, id=_maybe_id(item), status="rejected",
                                       code=outcome.code, reason=outcome.reason, field=outcome.field))
        else:
            results.append(EventResult(index=index, id=outcome.id, status="accepted"))
            to_send.append((outcome.subject.encode(), orjson.dumps(item)))
    try:
        await request.app.state.event_producer.send_all(to_send)
    except KafkaUnavailable as exc:
        raise HTTPException(503, f"{exc}; nothing was accepted, retry later (event ids deduplicate)",
                            headers={"Retry-After": "5"})
    accepted = len(to_send)
    rejected = len(results) - accepted
    status = 202 if rejected == 0 else (207 if accepted else 400)
    payload = IngestResponse(accepted=accepted, rejected=rejected, results=results)
    return ORJSONResponse(payload.model_dump(exclude_none=True), status_code=status)


def _maybe_id(item) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return item["id"][:128]
    return None
