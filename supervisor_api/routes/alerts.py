"""Alerts: `GET /api/v1/alerts` (active episodes from the `tablero.alerts` book + lifecycle history
from ClickHouse) and `POST /api/v1/alerts/{id}/ack`.

Scoping like everything else: a token limited to queues sees only episodes of those queues (contact
episodes carry their queue); site-wide episodes (per = "total", agents) only unscoped tokens see.
An episode outside the token's scope answers 404, the same as an unknown id.
"""
from __future__ import annotations

import time
from typing import Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from pipeline.history.clickhouse_store import ClickHouseUnavailable
from supervisor_api.deps import Principal, require
from supervisor_api.schemas import errors

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


class Notification(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str
    target: str
    status: str = Field(description="pending, delivered or undeliverable")
    attempts: int
    error: str | None


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    rule: str
    kind: str = Field(description="queue, untouched or rating")
    scope: dict[str, Any]
    severity: str
    state: str = Field(description="firing or resolved")
    value: float | None
    threshold: float
    started_at: float
    fired_at: float
    resolved_at: float | None
    acked_by: str | None
    acked_at: float | None
    escalate_to: str | None
    notifications: list[Notification]


class HistoryRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    episode_id: str
    event: str
    at: float


class AlertList(BaseModel):
    evaluating: bool = Field(description="this API replica is the one that evaluates alerts")
    can_ack: bool = Field(False, description="this token may acknowledge alerts (admin, supervisor): the "
                          "wallboard shows an Ack button then")
    rules_error: str | None = Field(description="why the rules file was not (re)loaded, if it was not")
    active: list[Alert]
    undeliverable: list[Alert] = Field(description="episodes with a notification kept as undeliverable")
    history: list[HistoryRow]
    history_error: str | None = None


def _can_ack(principal: Principal) -> bool:
    return principal.role in ("admin", "supervisor")


def _visible(principal: Principal, ep, queue: str | None) -> bool:
    q = ep.scope.get("queue")
    if principal.queues is not None and (q is None or not principal.can_see(q)):
        return False
    return not queue or q == queue


@router.get("", summary="Active alerts and their history", response_model=AlertList,
            responses=errors(401, 403, 429))
async def list_alerts(request: Request,
                      queue: str | None = Query(None, max_length=200, description="Only this queue."),
                      hours: float = Query(24, gt=0, le=24 * 92, description="History window, hours back."),
                      limit: int = Query(200, ge=1, le=5000, description="Most history rows."),
                      with_history: bool = Query(True, alias="history", description="false: active alerts only (no ClickHouse "
                                            "query; what the wallboard polls)."),
                      principal: Principal = Depends(require("can_read_live"))) -> dict:
    if queue and not principal.can_see(queue):
        raise HTTPException(403, "not allowed for this queue")
    service = getattr(request.app.state, "alerts", None)
    active, undeliverable = [], []
    if service is not None:
        book = service.book
        active = [book.view(e) for e in book.active() if _visible(principal, e, queue)]
        undeliverable = [book.view(e) for e in book.recent() if _visible(principal, e, queue)
                         and any(n["status"] == "undeliverable" for n in e.notifications)]
    from pipeline.alerts.history import alert_history

    history, history_error = [], None
    allowed = None if principal.queues is None else sorted(principal.queues)
    try:
        if with_history:
            history = await request.app.state.warehouse.call(
                alert_history, from_ms=int((time.time() - hours * 3600) * 1000), queue=queue or "",
                allowed_queues=allowed, limit=limit)
    except ClickHouseUnavailable as exc:  # live alerts still answer when ClickHouse is away
        request.app.state.warehouse.reset()
        history_error = f"ClickHouse unavailable: {type(exc).__name__}: {str(exc)[:200]}"
    return {"evaluating": bool(service and service.owner), "can_ack": _can_ack(principal),
            "rules_error": service.rules_error if service else None,
            "active": active, "undeliverable": undeliverable, "history": history,
            "history_error": history_error}


@router.post("/{episode_id}/ack", summary="Acknowledge an alert episode", response_model=Alert,
             responses=errors(401, 403, 429, 503, e503="Kafka unavailable; retry after `Retry-After` seconds.")
             | {404: {"description": "No such episode (or outside the token's scope)."}})
async def ack_alert(request: Request, episode_id: str,
                    by: str | None = Query(None, max_length=100, description="Who acknowledges (a name); "
                                           "recorded with the token id."),
                    principal: Principal = Depends(require("can_read_live"))) -> dict:
    """Records who acknowledged it and when; the first acknowledgement wins. Acknowledging does not
    resolve the episode: it resolves when its condition clears."""
    if not _can_ack(principal):
        raise HTTPException(403, f"role {principal.role!r} may not acknowledge alerts")
    service = getattr(request.app.state, "alerts", None)
    ep = service.book.episodes.get(episode_id) if service is not None else None
    if ep is None or not _visible(principal, ep, None):
        raise HTTPException(404, "no such alert episode")
    who = f"{by} (token {principal.token_id})" if by else f"token {principal.token_id}"
    try:
        await service.ack(episode_id, who)
    except (TimeoutError, KafkaError) as exc:
        raise HTTPException(503, f"Kafka unavailable: {type(exc).__name__}", headers={"Retry-After": "5"}) from None
    return service.book.view(ep)
