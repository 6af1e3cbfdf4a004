"""Errors are classified where they arise, so a client knows whether to retry:

- a bad parameter is a 4xx raised by the route (it names the parameter);
- only a backing service that cannot be reached (ClickHouse: ClickHouseUnavailable; Kafka: the
  producer's KafkaUnavailable) is a 503 with Retry-After (`warehouse_call` below);
- anything else is a bug: `ErrorIdMiddleware` answers 500 with an error id that is also in the log
  line carrying the traceback, instead of a bare "Internal Server Error"."""
from __future__ import annotations

import logging
import uuid
from typing import Any, Callable

import orjson
from fastapi import HTTPException, Request

from pipeline.history.clickhouse_store import ClickHouseUnavailable

log = logging.getLogger("supervisor_api.errors")
RETRY_AFTER_S = "5"


async def warehouse_call(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn(client, ...)` on the app's warehouse; unreachable ClickHouse -> 503 + Retry-After."""
    warehouse = request.app.state.warehouse
    try:
        return await warehouse.call(fn, *args, **kwargs)
    except ClickHouseUnavailable as exc:
        warehouse.reset()
        raise HTTPException(503, f"ClickHouse unavailable: {str(exc)[:200]}",
                            headers={"Retry-After": RETRY_AFTER_S}) from exc


class ErrorIdMiddleware:
    """Pure ASGI middleware (works with streaming responses): an exception escaping a route before
    its response started becomes `500 {"detail": "internal error", "error_id": ...}`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("error_id=%s %s %s failed", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            body = orjson.dumps({"detail": "internal error; report this error id", "error_id": error_id})
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
