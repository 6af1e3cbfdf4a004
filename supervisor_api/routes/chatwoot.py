"""POST /api/v1/connectors/chatwoot: Chatwoot webhooks -> contract events (thin; the mapping is
pipeline/connectors/chatwoot.py).

Chatwoot sends each webhook once and does not retry, and cannot add headers: the publisher token
comes in `?token=` (or `Authorization: Bearer`). With TABLERO_CHATWOOT_SECRET set, the body must
carry Chatwoot's signature: `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret,
"<X-Chatwoot-Timestamp>.<raw body>")>`, with a timestamp at most TABLERO_CHATWOOT_MAX_SKEW_S old;
otherwise 401. Answers 200 only after Kafka acknowledged every event (acks=all); each request
waits only for its own events. 400 says why a body cannot be mapped; events Tablero does not use
are answered 200 `ignored`.
"""
from __future__ import annotations

import hashlib
import hmac
import time

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request

from pipeline.connectors.chatwoot import PayloadError, map_webhook
from pipeline.schemas.validation import Rejection, validate_obj
from supervisor_api.deps import Principal, require, settings_dep
from supervisor_api.event_producer import KafkaUnavailable
from supervisor_api.schemas import errors, json_response

router = APIRouter(prefix="/api/v1/connectors", tags=["connectors"])


def verify_signature(secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float,
                     max_skew_s: float) -> str | None:
    """None when the signature is good, else why not (for the 401)."""
    if not timestamp or not signature:
        return "X-Chatwoot-Signature and X-Chatwoot-Timestamp are required (TABLERO_CHATWOOT_SECRET is set)"
    try:
        ts = int(timestamp.strip())
    except ValueError:
        return "X-Chatwoot-Timestamp is not a Unix time in seconds"
    if abs(now - ts) > max_skew_s:
        return f"X-Chatwoot-Timestamp is {int(now - ts)} s away from now (at most {int(max_skew_s)} s accepted)"
    expected = hmac.new(secret.encode(), timestamp.strip().encode() + b"." + body, hashlib.sha256).hexdigest()
    given = signature.strip().removeprefix("sha256=")
    if not hmac.compare_digest(expected, given):
        return "X-Chatwoot-Signature does not match the body (check TABLERO_CHATWOOT_SECRET)"
    return None


@router.post(
    "/chatwoot",
    summary="Receive a Chatwoot webhook (conversation and message events)",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["event"],
        "properties": {"event": {"type": "string", "description": "conversation_created, message_created, ..."}},
        "description": "A Chatwoot webhook body as Chatwoot sends it; see docs/connectors.md."}}}}},
    responses={
        200: {"description": "Mapped events acknowledged by Kafka (`accepted`), or an event Tablero does "
                             "not use (`ignored`)."},
        400: {"description": "The body is not a Chatwoot webhook Tablero can read; `detail` says why."},
        **errors(401, 403, 413, 429, 503,
                 e401="Missing or invalid token, or (with TABLERO_CHATWOOT_SECRET) a missing, stale or wrong "
                      "signature.",
                 e403="The token's role may not publish (only admin and publisher may).",
                 e413="Body over TABLERO_MAX_BODY_BYTES.",
                 e429="This token's ingest rate limit is reached; retry after `Retry-After` seconds.",
                 e503="Kafka unavailable; nothing was accepted."),
    },
)
async def post_chatwoot(request: Request, principal: Principal = Depends(require("can_publish")),
                        settings=Depends(settings_dep)):
    if not request.app.state.ingest_limiter.allow(principal.token_id):
        raise HTTPException(429, "ingest rate limit reached for this token", headers={"Retry-After": "1"})
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > settings.max_body_bytes:
            raise HTTPException(413, f"body over {settings.max_body_bytes} bytes (TABLERO_MAX_BODY_BYTES)")
    body = bytes(body)
    if settings.chatwoot_secret:
        why = verify_signature(settings.chatwoot_secret, body, request.headers.get("x-chatwoot-timestamp"),
                               request.headers.get("x-chatwoot-signature"), now=time.time(),
                               max_skew_s=settings.chatwoot_max_skew_s)
        if why:
            raise HTTPException(401, why)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not JSON: {exc}") from None
    try:
        raw_events = map_webhook(payload, inbox_names=settings.chatwoot_inboxes)
    except PayloadError as exc:
        raise HTTPException(400, f"cannot read this Chatwoot webhook: {exc}") from None
    event = payload.get("event")
    if raw_events is None:
        return json_response({"status": "ignored", "event": event, "events": []})
    to_send: list[tuple[bytes, bytes]] = []
    ids: list[str] = []
    for raw in raw_events:
        outcome = validate_obj(raw, max_bytes=settings.max_event_bytes)
        if isinstance(outcome, Rejection):
            raise HTTPException(400, f"{event} maps to a {raw.get('type')} event the contract rejects: "
                                     f"{outcome.code}: {outcome.reason}")
        to_send.append((outcome.subject.encode(), orjson.dumps(raw)))
        ids.append(outcome.id)
    try:
        await request.app.state.event_producer.send_all(to_send)
    except KafkaUnavailable as exc:
        raise HTTPException(503, f"{exc}; nothing was accepted", headers={"Retry-After": "5"}) from None
    return json_response({"status": "accepted", "event": event, "events": ids})
