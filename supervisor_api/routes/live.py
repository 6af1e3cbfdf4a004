"""Live view API: `GET /api/v1/live` (filtered snapshot) and websocket `/api/v1/live/ws`.

Websocket protocol (server -> client, JSON text frames):
  {"type": "snapshot", "view": {...}}   on connect and after every subscription change
  {"type": "update",   "view": {...}}   the whole filtered view, for every newer view (a slow
                                        client skips straight to the newest)
  {"type": "heartbeat", "t": <epoch s>} every 5 s (LiveHub.heartbeat_s)
client -> server:
  {"subscribe": {"queues": [...] | null, "channels": [...] | null}}   null/missing = all
Authentication: `?token=`, a `Sec-WebSocket-Protocol` entry `bearer.<token>` (browsers; the server
answers with `tablero.v1` when the client also offered it), or `Authorization: Bearer <token>`.
Invalid/missing token: close code 4401; no live rights, or a `?queue=` outside the token's scope:
4403; too many failed logins from the address: 4429. Unknown or invisible queues in a later
`subscribe` message simply yield nothing.

HTTP: a scoped token asking `?queue=` for a queue outside its scope gets 403 with the same body
whether or not that queue exists; without `queue` it gets only its own queues.
"""
from __future__ import annotations

import asyncio
import contextlib

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from fastapi.responses import Response
from starlette.websockets import WebSocketDisconnect

from supervisor_api.deps import LoginsThrottled, Principal, authenticate_connection, current_principal
from supervisor_api.live_hub import LiveHub
from supervisor_api.schemas import errors

router = APIRouter(tags=["live"])

WS_SUBPROTOCOL = "tablero.v1"
BEARER_PROTOCOL_PREFIX = "bearer."


def _bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _split(values: list[str] | None) -> list[str] | None:
    """Repeatable and/or comma-separated query values; None when absent."""
    if not values:
        return None
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out


OUT_OF_SCOPE = "not allowed for this queue"


def _out_of_scope(principal: Principal, queues: list[str] | None) -> bool:
    return bool(queues) and not all(principal.can_see(q) for q in queues)


async def live_reader(principal: Principal = Depends(current_principal)) -> Principal:
    if not principal.can_read_live():
        raise HTTPException(403, "token has no access to the live view")
    return principal


@router.get(
    "/api/v1/live",
    summary="Live view snapshot (queues, channels, totals, agents), filtered to the token's queues",
    responses={200: {"description": "The live view (docs/internal-interfaces.md).",
                     "content": {"application/json": {"schema": {"type": "object"}}}},
               **errors(401, 403, 429,
                        e403="The token's role has no live access (admin, supervisor and wallboard "
                             "have), or a `queue` asked for is outside its scope (same answer whether "
                             "or not the queue exists).")},
)
async def get_live(
    request: Request,
    queue: list[str] | None = Query(None, description="queue (repeatable or comma-separated)"),
    channel: list[str] | None = Query(None, description="channel (repeatable or comma-separated)"),
    token: str | None = Query(None, description="The token, when a header cannot be set (wallboard URLs)."),
    principal: Principal = Depends(live_reader),
) -> Response:
    queues = _split(queue)
    if _out_of_scope(principal, queues):
        raise HTTPException(403, OUT_OF_SCOPE)
    hub: LiveHub = request.app.state.live_hub
    body = hub.view_json(hub.filter_key(principal, queues, _split(channel)))
    return Response(content=body, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _ws_token(ws: WebSocket) -> tuple[str | None, str | None]:
    """(token, subprotocol to answer with)."""
    offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    token = ws.query_params.get("token")
    answer = WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None
    for p in offered:
        if p.startswith(BEARER_PROTOCOL_PREFIX):
            token = token or p[len(BEARER_PROTOCOL_PREFIX):]
            answer = answer or p  # a browser fails the handshake unless one offer is echoed
    token = token or _bearer(ws.headers.get("authorization"))
    if answer is None and offered:
        answer = offered[0]
    return token, answer


def _parse_subscribe(raw: str | bytes | None) -> tuple[list[str] | None, list[str] | None] | None:
    try:
        msg = orjson.loads(raw or b"")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(msg, dict) or not isinstance(msg.get("subscribe"), dict):
        return None
    sub = msg["subscribe"]
    out = []
    for k in ("queues", "channels"):
        v = sub.get(k)
        if v is None:
            out.append(None)
        elif isinstance(v, list):
            out.append([x for x in v if isinstance(x, str)])
        else:
            return None
    return out[0], out[1]


@router.websocket("/api/v1/live/ws")
async def live_ws(websocket: WebSocket) -> None:
    token, subprotocol = _ws_token(websocket)
    try:
        principal = await authenticate_connection(websocket, token)
        throttled = False
    except LoginsThrottled:
        principal, throttled = None, True
    # Accept first so the client sees the application close code (a close before accept
    # becomes a bare HTTP 403 handshake rejection).
    await websocket.accept(subprotocol=subprotocol)
    if throttled:
        await websocket.close(code=4429, reason="too many failed logins from this address; wait a minute")
        return
    if principal is None:
        await websocket.close(code=4401, reason="invalid or missing token")
        return
    if not principal.can_read_live():
        await websocket.close(code=4403, reason="no access to the live view")
        return
    hub: LiveHub = websocket.app.state.live_hub
    qp = websocket.query_params
    queues = _split(qp.getlist("queue"))
    if _out_of_scope(principal, queues):
        await websocket.close(code=4403, reason=OUT_OF_SCOPE)
        return
    sub = hub.subscribe(principal, queues, _split(qp.getlist("channel")))

    async def reader() -> None:
        while True:
            msg = await websocket.receive()
            if msg["type"] == "websocket.disconnect":
                return
            parsed = _parse_subscribe(msg.get("text") or msg.get("bytes"))
            if parsed is not None:
                sub.subscribe(*parsed)

    async def writer() -> None:
        while True:
            await websocket.send_text(await sub.next_message())

    tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        for t in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for t in done:
            exc = t.exception()
            if exc is not None and not isinstance(exc, (WebSocketDisconnect, OSError, RuntimeError)):
                raise exc
    finally:
        for t in tasks:
            t.cancel()
        sub.close()
