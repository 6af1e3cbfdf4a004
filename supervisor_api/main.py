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
from pipeline.kafka.security import client_kwargs
from supervisor_api import api_docs, auth, metrics
from supervisor_api.errors import ErrorIdMiddleware
from supervisor_api.event_producer import EventProducer, events_topic
from supervisor_api.live_feed import LiveFeed
from supervisor_api.live_hub import LiveHub
from supervisor_api.rate_limit import RateLimiter
from supervisor_api.routes import alerts, events, helpscout, live, reports, status
from supervisor_api.routes import planning  # workforce planning (issue 16)
from supervisor_api.routes import contacts, customers, definitions  # drill-down (issue 17)
from supervisor_api.routes import recompute as recompute_route  # issue 14

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, run_live_feed: bool = True, migrate: bool = True,
               run_alerts: bool | None = None) -> FastAPI:
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
                        settings.live_interval_s, client_kwargs=kafka_kwargs)
        if run_live_feed:
            feed.start()
        app.state.live_feed = feed
        # alerts (issue 15): every replica reads tablero.alerts; one of them evaluates and notifies
        alerts_service = None
        if run_live_feed if run_alerts is None else run_alerts:
            alerts_service = _alert_service(settings, app)
            await alerts_service.start()
        app.state.alerts = alerts_service
        yield
        if alerts_service is not None:
            await alerts_service.stop()
        await feed.stop()
        await app.state.event_producer.stop()

    app = FastAPI(
        title="Tablero supervisor API",
        version="0.1.0",
        summary="Live supervision and history for email, voice and chat contact centres.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # /docs from vendored files instead (supervisor_api/api_docs.py)
    )
    app.add_middleware(ErrorIdMiddleware)
    api_docs.install(app)
    metrics.install(app)  # GET /metrics and HTTP request metrics (pipeline/observability.py)
    app.state.settings = settings
    app.state.queue_settings = load_queue_settings(settings.queues_file, settings.site_tz)
    app.state.warehouse = get_warehouse(settings.clickhouse_dsn)
    kafka_kwargs = client_kwargs("aiokafka", settings)  # TLS / SASL for the live feed and the producer
    app.state.event_producer = EventProducer(settings.kafka_bootstrap, events_topic(settings),
                                             client_kwargs=kafka_kwargs)
    app.state.live_hub = LiveHub()
    app.state.ingest_limiter = RateLimiter(settings.ingest_rate_per_s)
    app.state.auth_failures = RateLimiter(rate_per_s=0.5, burst=20)
    app.state.alerts = None

    for module in (events, live, reports, status, planning, helpscout, alerts, contacts, customers, definitions):
        app.include_router(module.router)
    app.include_router(recompute_route.router)  # issue 14: recompute / what-if while `tablero up` runs

    # connectors: one route module per source (Chatwoot webhooks)
    from supervisor_api.routes import chatwoot
    app.include_router(chatwoot.router)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def wallboard_page():
        return FileResponse(STATIC / "wallboard.html")

    @app.get("/reports", include_in_schema=False)
    async def reports_page():
        return FileResponse(STATIC / "reports.html")

    @app.get("/planning", include_in_schema=False)
    async def planning_page():
        return FileResponse(STATIC / "planning.html")

    @app.get("/contacts", include_in_schema=False)  # the list behind a figure (issue 17)
    async def contacts_page():
        return FileResponse(STATIC / "contacts.html")

    @app.get("/contact", include_in_schema=False)  # one contact and its customer's journey (issue 17)
    async def contact_page():
        return FileResponse(STATIC / "contact.html")

    return app


def _alert_service(settings: Settings, app: FastAPI):
    from pipeline.alerts.service import AlertService

    ns = settings.kafka_namespace   # same naming as pipeline/kafka/admin.py, for this app's settings
    prefix = f"{ns}." if ns else ""
    hub = app.state.live_hub
    return AlertService(bootstrap=settings.kafka_bootstrap, topic=f"{prefix}tablero.alerts",
                        group=f"{ns}-tablero-alerts" if ns else "tablero-alerts",
                        state_topic=f"{prefix}tablero.state", rules_file=settings.alerts_file,
                        view_source=lambda: hub.view, warehouse=app.state.warehouse,
                        smtp=settings.alerts_smtp, sender=settings.alerts_from,
                        interval_s=settings.alerts_interval_s, max_attempts=settings.alerts_max_attempts)
