"""GET /metrics (Prometheus text format) and the HTTP request metrics of the API. The metric
definitions are in pipeline/observability.py (one registry per process: in `tablero up` the
worker's metrics are on the same page). /metrics needs no token: it carries counts, durations,
route templates and partition numbers, never queue names, agents or tokens."""
from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.responses import Response

from pipeline import observability


class HTTPMetrics:
    """ASGI middleware: one count and one duration per HTTP request, labelled by the route
    *template* (`/api/v1/reports/{kind}`-style, bounded), never by the raw path."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            observability.HTTP_REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
            observability.HTTP_DURATION.labels(route).observe(time.perf_counter() - t0)


def install(app: FastAPI) -> None:
    app.add_middleware(HTTPMetrics)
    observability.CALLBACKS.websocket_clients = lambda: app.state.live_hub.subscriber_count

    @app.get("/metrics", include_in_schema=False)
    async def metrics():
        body, content_type = observability.scrape()
        return Response(body, media_type=content_type)
