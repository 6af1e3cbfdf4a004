"""GET /api/v1/contacts (the contacts behind a report figure: a page, or every row as CSV/NDJSON)
and GET /api/v1/contacts/{contact_id} (one contact: timeline, derived values, how they were
computed). Thin: parameters and definitions are pipeline.history.contacts / .definitions; the
SQL is the reports' own (clickhouse/queries/contact_measures.sql)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from pipeline.history import contacts, definitions, reports
from pipeline.history.clickhouse_store import ClickHouseUnavailable
from supervisor_api.deps import Principal, require
from supervisor_api.errors import RETRY_AFTER_S, warehouse_call
from supervisor_api.routes.reports import apply_scope
from supervisor_api.schemas import errors, json_response

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])

_ERRORS = errors(400, 401, 403, 429, 503,
                 e403="The token's role may not read history (admin, supervisor and planner may), or "
                      "`queue` is outside the token's scope.",
                 e503="ClickHouse unavailable; retry after `Retry-After` seconds.")
_NOT_PARAMS = {"token", "format"}
MEDIA = {"csv": "text/csv", "ndjson": "application/x-ndjson"}


def unavailable(request: Request, exc: Exception) -> HTTPException:
    request.app.state.warehouse.reset()
    return HTTPException(503, f"ClickHouse unavailable: {str(exc)[:200]}", headers={"Retry-After": RETRY_AFTER_S})


@router.get("", summary="The contacts behind a report figure: a page, or every row as CSV / NDJSON",
            responses={200: {"description": "JSON page `{contacts, next_cursor, total, responses (first "
                                            "page)}`, or the "
                                            "whole list streamed as `text/csv` / `application/x-ndjson`.",
                             "content": {"text/csv": {"schema": {"type": "string"}},
                                         "application/x-ndjson": {"schema": {"type": "string"}}}},
                       **_ERRORS},
            description="The reports' filters (`from`, `to`, `tz`, `queue`, `channel`, `agent`, `tag`: same "
                        "meaning, same limits) plus the figure: `outcome`, `within_sl`, "
                        "`first_response_within_sl`, `has_handle_time`, `repeat`, the staff table's "
                        "`final_agent`, `closed_without_reply`, `rated`, `rated_good`, the resolution SLA's "
                        "flags, a busiest-times cell (`weekday`, `hour`), a bucket (`response_bucket`, "
                        "`handle_bucket`) and duration ranges "
                        "`<metric>_gt|_gte|_lt|_lte` (seconds) with metric one of "
                        + ", ".join(contacts.DURATIONS) + ". The list's `total` equals the report figure "
                        "for the same filters (GET /api/v1/definitions gives each figure's parameters). "
                        "Pages are oldest first; pass `next_cursor` as `cursor` for the next one. "
                        "`format=csv|ndjson` streams every matching row (no cap).")
async def list_contacts(
    request: Request,
    from_: str = Query(..., alias="from", description="Start: ISO date or datetime (in tz when naive)."),
    to: str = Query(..., description="End (exclusive for datetimes, inclusive for dates)."),
    queue: str | None = Query(None), channel: str | None = Query(None),
    agent: str | None = Query(None), tag: str | None = Query(None),
    tz: str = Query("UTC"),
    outcome: Literal[contacts.OUTCOMES] | None = Query(None),  # type: ignore[valid-type]
    within_sl: bool | None = Query(None), first_response_within_sl: bool | None = Query(None),
    has_handle_time: bool | None = Query(None),
    repeat: bool | None = Query(None, description="The customer contacted again within N days "
                                                  "(TABLERO_REPEAT_CONTACT_DAYS)."),
    # issue 17: the rest of the reports page's figures (staff table, buckets, busiest times)
    closed_without_reply: bool | None = Query(None), rated: bool | None = Query(None),
    rated_good: bool | None = Query(None, description="Rated 4 or 5."),
    resolution_targeted: bool | None = Query(None), resolved_within_target: bool | None = Query(None),
    resolved_within_target_business: bool | None = Query(None),
    final_agent: str | None = Query(None, description="The contact's final agent (the staff report's "
                                                      "per-contact measures: closed, handle time, CSAT)."),
    weekday: int | None = Query(None, description="Created on this weekday (1 = Monday), in tz."),
    hour: int | None = Query(None, description="Created in this hour of the day, in tz."),
    response_bucket: Literal[contacts.RESPONSE_BUCKETS_T] | None = Query(  # type: ignore[valid-type]
        None, description="Contacts with a response in this bucket; the page's `responses` is the bucket's figure."),
    handle_bucket: Literal[contacts.HANDLE_BUCKETS_T] | None = Query(None),  # type: ignore[valid-type]
    limit: int = Query(100, ge=1, le=contacts.MAX_PAGE), cursor: str | None = Query(None),
    format: Literal["json", "csv", "ndjson"] = Query("json"),
    principal: Principal = Depends(require("can_read_reports")),
):
    raw = {k: v for k, v in request.query_params.items() if k not in _NOT_PARAMS}
    apply_scope(request, principal, raw)
    try:
        params, drill = contacts.parse_list(raw)
    except reports.ReportError as exc:
        raise HTTPException(400, exc.as_dict())
    warehouse, qs = request.app.state.warehouse, request.app.state.queue_settings
    if format == "json":
        try:
            page = await warehouse_call(request, contacts.list_page, params, drill, qs)
        except reports.ReportError as exc:
            raise HTTPException(400, exc.as_dict())
        return json_response(page)
    chunks = warehouse.stream(contacts.export_chunks, params, drill, format, qs)
    try:  # the first chunk before the answer starts: a ClickHouse failure is still a 503
        first = await chunks.__anext__()
    except StopAsyncIteration:
        first = b""
    except ClickHouseUnavailable as exc:
        await chunks.aclose()
        raise unavailable(request, exc) from exc

    async def body():
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        except Exception:  # the answer has started: all we can do is cut it short (and say why)
            log.exception("contacts export failed mid-stream; the download is cut short")
            raise
        finally:
            await chunks.aclose()

    name = f"contacts-{params.start_utc:%Y%m%d}-{params.end_utc:%Y%m%d}.{format}"
    return StreamingResponse(body(), media_type=MEDIA[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _explain(row: dict, policy, short_abandon_s: float, repeat_days: float) -> dict:
    sql = definitions.sql_expressions()
    values = [{"key": k, "value": row.get(k), "meaning": meaning, "sql": sql.get(k)}
              for k, meaning in definitions.MEASURES.items() if k in row]
    counted = {
        "offered": True, "answered": bool(row["is_answered"]), "abandoned": bool(row["is_abandoned"]),
        "short_abandoned": bool(row["is_short_abandoned"]), "answered_within_sl": bool(row["is_within_sl"]),
        "asa_s": bool(row["is_answered"] and row.get("wait_s") is not None),
        "aht_s": bool(row["is_aht_counted"]), "handle_time_s": bool(row["has_handle_time"]),
        "first_response_s": row.get("first_response_s") is not None,
        "sla_compliance": row.get("first_response_s") is not None, "closed": bool(row["is_closed"]),
        "repeat_contact_rate": bool(row["customer"]),
    }
    return {
        "values": values,
        "counted_in": counted,
        "applied": {"threshold_s": row.get("threshold_s"), "short_abandon_s": short_abandon_s,
                    "sl_formula": getattr(policy, "sl_formula", None), "repeat_contact_days": repeat_days},
    }


@router.get("/{contact_id}", summary="One contact: its events, derived values and how they were computed",
            responses={404: {"description": "No such contact, or its queue is outside the token's scope."},
                       **_ERRORS},
            description="`events`: every event with its time and seconds since creation; `raw` (event "
                        "data, Kafka partition and offset) only for admin and supervisor tokens. "
                        "`explain`: each derived value with its meaning and SQL, the threshold, "
                        "short-abandon time and SL formula applied, and which report figures count it.")
async def get_contact(request: Request, contact_id: str,
                      principal: Principal = Depends(require("can_read_reports"))):
    qs = request.app.state.queue_settings
    repeat_days = request.app.state.settings.repeat_contact_days
    row = await warehouse_call(request, contacts.contact_measures, contact_id, queue_settings=qs,
                               repeat_days=repeat_days)
    events = []
    if row is not None and principal.can_see(row["queue"]):
        events = await warehouse_call(request, contacts.contact_events, contact_id)
    if row is None or not principal.can_see(row["queue"]):
        raise HTTPException(404, "no contact with this id in the queues this token may read")
    raw = principal.role in ("admin", "supervisor")
    created = row["created"]
    timeline = []
    t0 = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    for e in events:
        item = {"id": e["id"], "type": e["type"], "time": e["time"], "agent": e["agent"] or None,
                "queue": e["queue"], "source": e["source"],
                "since_created_s": (dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00")) - t0).total_seconds()}
        if raw:
            item["raw"] = {"data": e["data"], "kafka_partition": e["kafka_partition"],
                           "kafka_offset": e["kafka_offset"], "ingested_at": e["ingested_at"]}
        timeline.append(item)
    policy = qs.for_queue(row["queue"], row["channel"]) if qs is not None else None
    short = reports.ReportParams.model_fields["short_abandon_s"].default
    # the window pairs contacts without a customer too (meaningless); and a scoped token does not
    # learn the id of a contact in a queue it may not read (the repeat flag itself stays: the
    # metric counts the customer's return on any queue)
    if not row["customer"] or not principal.can_see(row.get("next_contact_queue") or ""):
        row["next_contact_id"] = row["next_contact_created"] = row["next_contact_queue"] = None
    return json_response({"contact": row, "events": timeline, "raw_events": raw,
                          "explain": _explain(row, policy, short, repeat_days)})
