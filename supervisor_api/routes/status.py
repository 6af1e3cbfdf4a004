"""GET /api/v1/status: Kafka, consumer lag, ClickHouse, rows landed, version."""
from __future__ import annotations

import asyncio
from importlib.metadata import version

from fastapi import APIRouter, Depends, Request

from pipeline.kafka.admin import consumer_lag, reachable
from pipeline.settings import mask_dsn
from urllib.parse import urlsplit

from supervisor_api.deps import settings_dep
from supervisor_api.schemas import Status

router = APIRouter(prefix="/api/v1", tags=["status"])


@router.get("/status", summary="Health of Kafka and ClickHouse, consumer lag and rows landed",
            response_model=Status,
            description="Open (no token): health checks and load balancers use it. It carries no "
                        "secret: the ClickHouse DSN's password is masked (also inside error messages), "
                        "tokens and the token file are never shown.")
async def get_status(request: Request, settings=Depends(settings_dep)) -> dict:
    return await collect_status(settings, request.app.state.warehouse)


def _scrub(text: str | None, settings) -> str | None:
    """Error messages may quote the DSN or its password: mask them."""
    if not text:
        return text
    dsn = settings.clickhouse_dsn
    text = text.replace(dsn, mask_dsn(dsn))
    password = urlsplit(dsn).password
    if password:
        text = text.replace(password, "****")
    if settings.admin_token:
        text = text.replace(settings.admin_token, "****")
    return text


async def collect_status(settings, warehouse) -> dict:
    bootstrap = settings.kafka_bootstrap
    kafka_ok, kafka_error = await asyncio.to_thread(reachable, bootstrap, settings)
    lag: list[dict] = []
    lag_known = False
    if kafka_ok:
        try:
            lag = await asyncio.to_thread(consumer_lag, bootstrap, settings=settings)
            lag_known = True
        except Exception as exc:  # lag is informative; status must still answer
            kafka_error = f"lag unavailable: {exc!r}"
    ch = await warehouse.health()
    return {
        "version": version("tablero"),
        "kafka": {"bootstrap": bootstrap, "up": kafka_ok, "error": _scrub(kafka_error, settings) or None,
                  "lag": lag,
                  # None, not 0, when unknown: a caller waiting for "caught up" must not be fooled
                  "total_lag": sum(r["lag"] for r in lag) if lag_known else None},
        "clickhouse": {"dsn": mask_dsn(settings.clickhouse_dsn), **ch,
                       "error": _scrub(ch.get("error"), settings)},
    }
