"""POST /api/v1/events: one event, a JSON array or NDJSON, answered per event."""
from __future__ import annotations

from typing import Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from pipeline.schemas.validation import Rejection, split_body, validate_obj
from supervisor_api.deps import Principal, require, settings_dep
from supervisor_api.event_producer import KafkaUnavailable
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1", tags=["ingest"])


class EventResult(BaseModel):
    """One result per item of the body, in order. `code`/`reason`/`field` only when rejected
    (`field` only when one field is to blame)."""

    index: int
    id: str | None = None
    status: Literal["accepted", "rejected"]
    code: str | None = None
    reason: str | None = None
    field: str | None = None


class IngestResponse(BaseModel):
    accepted: int
    rejected: int
    results: list[EventResult]


_EVENT = {"type": "object", "description": "A CloudEvents 1.0 event (structured JSON mode); see docs/events.md."}
_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"oneOf": [_EVENT, {"type": "array", "items": _EVENT}]}},
        "application/cloudevents+json": {"schema": _EVENT},
        "application/cloudevents-batch+json": {"schema": {"type": "array", "items": _EVENT}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One event per line."}},
    },
}


def _too_large(settings, what: str) -> HTTPException:
    return HTTPException(413, f"{what}; at most {settings.max_body_bytes} bytes (TABLERO_MAX_BODY_BYTES) and "
                              f"{settings.max_events_per_request} events (TABLERO_MAX_EVENTS_PER_REQUEST) "
                              "per request: split it into several requests")


@router.post(
    "/events",
    response_model=IngestResponse,
    status_code=202,
    responses={
        202: {"description": "Every event accepted (acknowledged by Kafka)."},
        207: {"model": IngestResponse, "description": "Some events rejected; each result says why; the "
                                                      "others are accepted."},
        400: {"model": IngestResponse, "description": "Every event rejected (also a body that is not JSON, "
                                                      "not UTF-8 or empty: one rejected item)."},
        **errors(401, 403, 413, 429, 503,
                 e403="The token's role may not publish (only admin and publisher may).",
                 e413="Body over TABLERO_MAX_BODY_BYTES or more than TABLERO_MAX_EVENTS_PER_REQUEST "
                      "events; nothing was accepted.",
                 e429="This token's ingest rate limit (TABLERO_INGEST_RATE_PER_S requests/s) is reached, "
                      "or too many failed logins from this address; retry after `Retry-After` seconds.",
                 e503="Kafka unavailable; nothing was accepted; send the same request again after "
                      "`Retry-After` seconds (event ids make the retry safe)."),
    },
    summary="Publish interaction events (CloudEvents JSON, JSON array or NDJSON)",
    openapi_extra={"requestBody": _BODY},
)
async def post_events(request: Request, principal: Principal = Depends(require("can_publish")),
                      settings=Depends(settings_dep)):
    limiter = request.app.state.ingest_limiter
    if not limiter.allow(principal.token_id):
        raise HTTPException(429, "ingest rate limit reached for this token", headers={"Retry-After": "1"})
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_body_bytes:
        raise _too_large(settings, f"body of {length} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_body_bytes:
            raise _too_large(settings, f"body over {settings.max_body_bytes} bytes")
    items = split_body(bytes(body), request.headers.get("content-type", ""), max_event_bytes=settings.max_event_bytes)
    if len(items) > settings.max_events_per_request:
        raise _too_large(settings, f"{len(items)} events in one request")
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
    return json_response(payload.model_dump(exclude_none=True), status_code=status)


def _maybe_id(item) -> str | None:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return item["id"][:128]
    return None
