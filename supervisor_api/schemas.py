"""Response models and documented error answers shared by the routes (OpenAPI)."""
from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field


class ParamError(BaseModel):
    param: str
    reason: str


class Error(BaseModel):
    """Every error answer: `detail` is a sentence, or {param, reason} for a bad report parameter."""

    detail: str | ParamError
    error_id: str | None = Field(None, description="Only on a 500: the id of the log line with the traceback.")


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON encoded with orjson (fast on 10k-result ingest answers and large reports)."""
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json",
                    headers=headers)


def errors(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error codes (descriptions override by `eNNN`)."""
    default = {
        400: "A parameter is wrong; `detail` names it (`param`) and says why (`reason`).",
        401: "Missing, invalid or revoked token (`WWW-Authenticate: Bearer`).",
        403: "The token's role may not do this, or the queue is outside its scope (the answer is the "
             "same whether or not the queue exists).",
        413: "Request too large.",
        429: "Rate limited; retry after `Retry-After` seconds.",
        503: "A backing service is unavailable; retry after `Retry-After` seconds.",
    }
    return {c: {"model": Error, "description": descriptions.get(f"e{c}", default[c])} for c in codes}


# --- status -----------------------------------------------------------------------------------
class LagRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    lag: int


class KafkaStatus(BaseModel):
    bootstrap: str
    up: bool
    error: str | None
    lag: list[LagRow]
    total_lag: int | None


class ClickHouseStatus(BaseModel):
    dsn: str
    up: bool
    rows: dict[str, int]
    error: str | None


class Status(BaseModel):
    version: str
    kafka: KafkaStatus
    clickhouse: ClickHouseStatus


# --- reports ----------------------------------------------------------------------------------
class ReportEcho(BaseModel):
    model_config = ConfigDict(extra="allow")
    tz: str
    by: str


class QueueMetrics(BaseModel):
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_within_sl: int
    asa_s: float | None
    aht_s: float | None
    service_level: float | None
    # business-hours twins (issue 14)
    asa_business_s: float | None
    aht_business_s: float | None


class QueueRow(QueueMetrics):
    queue: str
    channel: str
    start: str
    end: str = Field(description="End of the interval (exclusive): the drill-down's `to`.")


class QueuesReport(BaseModel):
    report: str
    params: ReportEcho
    rows: list[QueueRow]
    total: QueueMetrics


class Stat(BaseModel):
    mean: float | None
    p50: float | None
    p90: float | None
    count: int | None = None


class Csat(BaseModel):
    mean: float | None
    good_share: float | None
    ratings: int


class Headline(BaseModel):
    conversations: int
    customers: int
    conversations_per_day: float | None
    conversations_per_customer: float | None
    replies: int
    replies_per_conversation: float | None
    closed: int
    first_response_s: Stat
    response_time_s: Stat
    handle_time_s: Stat
    resolution_time_s: Stat
    resolved_on_first_reply: int
    resolved_on_first_reply_share: float | None
    sla_compliance: float | None
    csat: Csat
    # business-hours twins and resolution SLA (issue 14)
    asa_s: float | None
    asa_business_s: float | None
    first_response_business_s: Stat
    response_time_business_s: Stat
    handle_time_business_s: Stat
    resolution_time_business_s: Stat
    resolution_sla: float | None
    resolution_sla_business: float | None
    repeat_contacts: int = Field(description="Contacts whose customer contacted again (any queue, any "
                                             "channel) within `params.repeat_days` days.")
    repeat_contact_rate: float | None = Field(description="repeat_contacts / contacts with a customer.")


class Busiest(BaseModel):
    weekday: int
    hour: int
    conversations: int


class TagCount(BaseModel):
    tag: str
    conversations: int


class Previous(Headline):
    """The same headline over the previous period of equal length."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    from_: str = Field(alias="from")
    to: str


class ConversationsReport(Headline):
    report: str
    params: ReportEcho
    response_time_buckets: dict[str, int]
    handle_time_buckets: dict[str, int]
    busiest: list[Busiest]
    tags: list[TagCount]
    previous: Previous


class AgentRow(BaseModel):
    agent: str
    handled: int
    replies: int
    closed: int
    closed_without_reply: int
    handle_s: float
    aht_s: float | None
    first_response_s: float | None
    customers: int
    csat: Csat
    handle_business_s: float
    aht_business_s: float | None
    first_response_business_s: float | None


class AgentsReport(BaseModel):
    report: str
    params: ReportEcho
    rows: list[AgentRow]


REPORT_MODELS = {"queues": QueuesReport, "conversations": ConversationsReport, "agents": AgentsReport}
