"""POST /api/v1/connectors/helpscout: Help Scout webhooks -> contact events (pipeline/connectors/helpscout.py).

Authentication is Help Scout's signature, not a bearer token: `X-HelpScout-Signature` must be
base64(HMAC-SHA1(TABLERO_HELPSCOUT_SECRET, raw body)), else 401 (429 after too many failures from
one address). The answer comes after Kafka acknowledged the events (acks=all); 503 when Kafka is
away, so Help Scout delivers the webhook again (event ids derive from the payload: a redelivery
counts once). `helpscout.test` and events that are not mapped answer 200; the latter are counted
per event name (the answer's `counts`, and a log line)."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from pipeline.connectors.helpscout import HelpScoutPayloadError, map_webhook, signature_ok
from pipeline.schemas.validation import Rejection, validate_obj
from supervisor_api.deps import settings_dep
from supervisor_api.event_producer import KafkaUnavailable
from supervisor_api.rate_limit import RateLimiter
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1/connectors", tags=["connectors"])
log = logging.getLogger(__name__)


class HelpScoutAnswer(BaseModel):
    """What became of one webhook. `counts`: webhooks handled by this API process since it
    started, by outcome and event name (e.g. "ignored:convo.note.created")."""

    event: str
    outcome: Literal["mapped", "test", "ignored"]
    published: int
    note: str | None = None
    counts: dict[str, int]


_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object", "description": "Help Scout's webhook body: a v2 Conversation, a Rating or {id}."}}},
}
_HEADERS = [
    {"name": "X-HelpScout-Event", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "The event name, e.g. convo.created, satisfaction.ratings, helpscout.test."},
    {"name": "X-HelpScout-Signature", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "base64(HMAC-SHA1(TABLERO_HELPSCOUT_SECRET, raw body))."},
]


def _counts(request: Request) -> Counter:
    counts = getattr(request.app.state, "helpscout_counts", None)
    if counts is None:
        counts = request.app.state.helpscout_counts = Counter()
    return counts


def _failures(request: Request) -> RateLimiter:
    """Bad signatures per address: a limiter of its own, so a misconfigured webhook does not lock
    the address out of the token-authenticated API."""
    limiter = getattr(request.app.state, "helpscout_failures", None)
    if limiter is None:
        limiter = request.app.state.helpscout_failures = RateLimiter(rate_per_s=0.5, burst=20)
    return limiter


@router.post(
    "/helpscout",
    response_model=HelpScoutAnswer,
    summary="Receive a Help Scout webhook (signed with the webhook secret) as contact events",
    responses=errors(400, 401, 413, 429, 503,
                     e400="The body is not JSON or lacks a field the mapping needs; `detail` names it.",
                     e401="X-HelpScout-Signature missing or not the body's HMAC-SHA1 with TABLERO_HELPSCOUT_SECRET.",
                     e413="Body over TABLERO_MAX_BODY_BYTES.",
                     e429="Too many bad signatures from this address; retry after `Retry-After` seconds.",
                     e503="TABLERO_HELPSCOUT_SECRET is not set, or Kafka is unavailable; Help Scout retries."),
    openapi_extra={"requestBody": _BODY, "parameters": _HEADERS},
)
async def helpscout_webhook(request: Request, settings=Depends(settings_dep)):
    secret = settings.helpscout_secret
    if not secret:
        raise HTTPException(503, "TABLERO_HELPSCOUT_SECRET is not set: set it to the webhook's secret key",
                            headers={"Retry-After": "60"})
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_body_bytes:
            raise HTTPException(413, f"body over {settings.max_body_bytes} bytes (TABLERO_MAX_BODY_BYTES)")
    body = bytes(body)
    if not signature_ok(body, secret, request.headers.get("x-helpscout-signature")):
        address = request.client.host if request.client else "unknown"
        if not _failures(request).allow(address):
            raise HTTPException(429, "too many bad signatures from this address", headers={"Retry-After": "30"})
        raise HTTPException(401, "X-HelpScout-Signature does not match the body signed with TABLERO_HELPSCOUT_SECRET")
    event = request.headers.get("x-helpscout-event", "").strip()[:100]
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not JSON: {exc}") from None
    try:
        mapped = map_webhook(event, data, datetime.now(timezone.utc))
    except HelpScoutPayloadError as exc:
        raise HTTPException(400, str(exc)) from None
    items = []
    for e in mapped.events:
        outcome = validate_obj(e)
        if isinstance(outcome, Rejection):
            raise HTTPException(400, f"{event}: the payload gives an event Tablero cannot take: {outcome.reason}"
                                     + (f" (field {outcome.field})" if outcome.field else ""))
        items.append((e["subject"].encode(), orjson.dumps(e)))
    try:
        await request.app.state.event_producer.send_all(items)
    except KafkaUnavailable as exc:
        raise HTTPException(503, f"{exc}; nothing was accepted, Help Scout will retry", headers={"Retry-After": "5"})
    counts = _counts(request)
    counts[f"{mapped.outcome}:{event or '(none)'}"] += 1
    if mapped.outcome == "ignored":
        log.info("Help Scout webhook %r not mapped (%s); %d so far", event, mapped.note,
                 counts[f"ignored:{event or '(none)'}"])
    answer = HelpScoutAnswer(event=event, outcome=mapped.outcome, published=len(items), note=mapped.note or None,
                             counts=dict(counts))
    return json_response(answer.model_dump(exclude_none=True))
