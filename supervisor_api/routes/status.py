"""GET /api/v1/status: Kafka, consumer lag, ClickHouse, rows landed, version."""
from __future__ import annotations

import asyncio
from importlib.metadata import version

from fastapi import APIRouter, Depends, Request

from pipeline.kafka_admin import consumer_lag, reachable
from pipeline.settings import mask_dsn
from supervisor_api.deps import settings_dep

router = APIRouter(prefix="/api/v1", tags=["status"])


@router.get("/status", summary="Health of Kafka and ClickHouse, consumer lag and rows landed")
async def get_status(request: Request, settings=Depends(settings_dep)) -> dict:
    return await collect_status(settings, request.app.state.warehouse)


async def collect_status(settings, warehouse) -> dict:
    bootstrap = settings.kafka_bootstrap
    kafka_ok, kafka_error = await asyncio.to_thread(reachable, bootstrap)
    lag: list[dict] = []
    if kafka_ok:
        try:
            lag = await asyncio.to_thread(consumer_lag, bootstrap)
        except Exception as exc:  # lag is informative; status must still answer
            kafka_error = f"lag unavailable: {exc!r}"
    ch = await warehouse.health()
    return {
        "version": version("tablero"),
        "kafka": {"bootstrap": bootstrap, "up": kafka_ok, "error": kafka_error or None,
                  "lag": lag, "total_lag": sum(r["lag"] for r in lag)},
        "clickhouse": {"dsn": mask_dsn(settings.clickhouse_dsn), **ch},
    }
