"""FastAPI application: ingest, live state (HTTP + websocket), reports, status, pages."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from pipeline.live.queue_settings import load_queue_settings
from pipeline.settings import Settings, get_settings
from pipeline.history.warehouse import get_warehouse
from supervisor_api import auth
from supervisor_api.errors import ErrorIdMiddleware
from supervisor_api.event_producer import EventProducer, events_topic
from supervisor_api.live_feed import LiveFeed
from supervisor_api.live_hub import LiveHub
from supervisor_api.rate_limit import RateLimiter
from supervisor_api.routes import events, live, reports, status
from supervisor_api.routes import recompute as recompute_route  # issue 14

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, run_live_feed: bool = True, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        auth.configure(settings.tokens_path, settings.admin_token)
        warehouse = app.state.warehouse
        if migrate:
            try:
                await warehouse.call(lambda client: None)  # connect on the warehouse thread
                from pipeline.history import clickhouse_store
                from pipeline.history.warehouse import MIGRATIONS_DIR
                await warehouse.call(clickhouse_store.migrate, MIGRATIONS_DIR)
            except Exception as exc:  # the API still serves live state; status shows the error
                log.warning("ClickHouse migrations not applied at start: %r", exc)
        feed = LiveFeed(settings.kafka_bootstrap, app.state.live_hub, app.state.queue_settings,
                        settings.live_interval_s)
        if run_live_feed:
            feed.start()
        app.state.live_feed = feed
        yield
        await feed.stop()
        await app.state.event_producer.stop()

    app = FastAPI(
        title="Tablero supervisor API",
        version="0.1.0",
        summary="Live supervision and history for email, voice and chat contact centres.",
        lifespan=lifespan,
    )
    app.add_middleware(ErrorIdMiddleware)
    app.state.settings = settings
    app.state.queue_settings = load_queue_settings(settings.queues_file, settings.site_tz)
    app.state.warehouse = get_warehouse(settings.clickhouse_dsn)
    app.state.event_producer = EventProducer(settings.kafka_bootstrap, events_topic(settings))
    app.state.live_hub = LiveHub()
    app.state.ingest_limiter = RateLimiter(settings.ingest_rate_per_s)
    app.state.auth_failures = RateLimiter(rate_per_s=0.5, burst=20)

    for module in (events, live, reports, status):
        app.include_router(module.router)
    app.include_router(recompute_route.router)  # issue 14: recompute / what-if while `tablero up` runs

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def wallboard_page():
        return FileResponse(STATIC / "wallboard.html")

    @app.get("/reports", include_in_schema=False)
    async def reports_page():
        return FileResponse(STATIC / "reports.html")

    return app
