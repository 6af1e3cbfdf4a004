"""The contacts behind the numbers: the drill-down list, its export, one contact, a customer's journey.

Every query here reads clickhouse/queries/contact_list.sql, which reads contact_measures.sql: the
same per-contact definitions and filters the reports aggregate. So the number of contacts the
list returns for a filter is the report's figure for that filter (one definition, in SQL).

Parameters: the reports' own (``pipeline.history.reports.parse_params``: from, to, tz, queue,
channel, agent, tag, with the same validation and the same 400 answers) plus the figure being
drilled into (``Drill``): ``outcome``, the flags of ``FLAGS`` (``within_sl``, ``rated``, ...),
``final_agent`` (the staff report's per-contact measures), ``weekday`` / ``hour`` (a busiest-times
cell), ``response_bucket`` / ``handle_bucket`` (a conversations-report bucket, by its label) and
duration ranges ``<metric>_gt|_gte|_lt|_lte`` in seconds. A response bucket counts responses, not
contacts: its figure is the list's ``responses`` (each contact's ``matching_responses``, summed).

Pages are ordered by (created, contact id), oldest first; the cursor is opaque (base64 of the last
row's created ms and id), so a page never repeats or skips a contact while rows are added later.
``export_chunks`` yields the whole list as CSV or NDJSON bytes, formatted by ClickHouse and
streamed block by block (no ORDER BY, no row cap): memory stays flat whatever the row count.
Every function taking ``client`` is synchronous (run it on the warehouse thread).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.history import clickhouse_store
from pipeline.history.reports import (HANDLE_BUCKETS, RESPONSE_BUCKETS, ReportError, ReportParams, clocks_from,
                                      load_query, parse_params, thresholds_from)

OUTCOMES = ("answered", "abandoned", "short_abandoned", "open", "closed", "aht_counted",
            "resolved_on_first_reply")
FLAGS = ("within_sl", "first_response_within_sl", "has_handle_time", "repeat", "closed_without_reply",
         "rated", "rated_good", "resolution_targeted", "resolved_within_target",
         "resolved_within_target_business")
# busiest-times cell: (parameter, lowest, highest)
CELL = (("weekday", 1, 7), ("hour", 0, 23))
BUCKETS = {"response_bucket": RESPONSE_BUCKETS, "handle_bucket": HANDLE_BUCKETS}
RESPONSE_BUCKETS_T, HANDLE_BUCKETS_T = tuple(RESPONSE_BUCKETS), tuple(HANDLE_BUCKETS)  # for Literal[...]
# the duration columns of contact_list.sql's `durations` map (a test runs every one of them)
DURATIONS = ("wait_s", "first_response_s", "handle_s", "resolution_s", "sl_wait_s", "abandon_wait_s")
RANGE_OPS = ("gt", "gte", "lt", "lte")
_RANGE = re.compile(r"^(?P<metric>[a-z_]+)_(?P<op>gte|gt|lte|lt)$")
REPORT_PARAMS = ("from", "to", "tz", "queue", "channel", "agent", "tag", "by")
MAX_PAGE = 1000
# contacts per export slice: a slice is held in memory a few times over (ClickHouse's result, the
# bytes handed to the response, one slice in flight); NDJSON rows are ~3x larger than CSV rows
EXPORT_SLICE_ROWS = {"csv": 50_000, "ndjson": 20_000}
FORMATS = {"csv": "CSV", "ndjson": "JSONEachRow"}
# text formats: ISO 8601 times (UTC, "Z"), numbers as numbers
EXPORT_SETTINGS = {"date_time_output_format": "iso", "output_format_json_quote_64bit_integers": 0,
                   "output_format_json_quote_denormals": 0, "format_csv_null_representation": ""}
FAR_FUTURE_MS = 7258118400000  # 2200-01-01T00:00:00Z (DateTime64 ends in 2299)


@dataclass(frozen=True)
class Drill:
    """The figure drilled into, on top of the report filters."""

    outcome: str = ""
    within_sl: bool | None = None
    first_response_within_sl: bool | None = None
    has_handle_time: bool | None = None
    repeat: bool | None = None
    closed_without_reply: bool | None = None
    rated: bool | None = None
    rated_good: bool | None = None
    resolution_targeted: bool | None = None
    resolved_within_target: bool | None = None
    resolved_within_target_business: bool | None = None
    final_agent: str = ""
    weekday: int | None = None
    hour: int | None = None
    response_bucket: str = ""   # a label of reports.RESPONSE_BUCKETS
    handle_bucket: str = ""     # a label of reports.HANDLE_BUCKETS
    ranges: tuple[tuple[str, str, float], ...] = ()   # (duration column, op, seconds)
    limit: int = 100
    cursor: str = ""

    def query_parameters(self) -> dict[str, Any]:
        def flag(v: bool | None) -> int:
            return -1 if v is None else int(v)
        after_ms, after_id = decode_cursor(self.cursor) if self.cursor else (-1, "")
        return {
            "outcome": self.outcome,
            **{name: flag(getattr(self, name)) for name in FLAGS},
            "final_agent": self.final_agent,
            **{name: -1 if getattr(self, name) is None else getattr(self, name) for name, _, _ in CELL},
            # 1-based bucket index (0 = any)
            **{name: labels.index(getattr(self, name)) + 1 if getattr(self, name) else 0
               for name, labels in BUCKETS.items()},
            "dur_keys": [r[0] for r in self.ranges], "dur_ops": [r[1] for r in self.ranges],
            "dur_values": [float(r[2]) for r in self.ranges],
            "after_ms": after_ms, "after_id": after_id, "limit": self.limit,
        }

    def echo(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.outcome:
            out["outcome"] = self.outcome
        for name in FLAGS + tuple(c[0] for c in CELL) + tuple(BUCKETS) + ("final_agent",):
            if getattr(self, name) not in (None, ""):
                out[name] = getattr(self, name)
        for metric, op, value in self.ranges:
            out[f"{metric}_{op}"] = value
        return out


def _bool(name: str, value: Any) -> bool | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ReportError(name, f"{value!r} is not true or false")


def encode_cursor(created_ms: int, contact_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_ms}:{contact_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ms, cid = text.split(":", 1)
        return int(ms), cid
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ReportError("cursor", "not a cursor from this list; use the `next_cursor` of the "
                                    "previous page, or leave it out for the first page") from None


def parse_drill(raw: dict[str, Any], *, max_limit: int = MAX_PAGE) -> Drill:
    """The drill-down part of a query string (everything but the report parameters).
    Unknown parameters are a ReportError naming them."""
    values: dict[str, Any] = {}
    ranges: list[tuple[str, str, float]] = []
    for key, value in raw.items():
        if value is None or key in REPORT_PARAMS:
            continue
        if key == "outcome":
            if value and value not in OUTCOMES:
                raise ReportError("outcome", f"unknown outcome {value!r}; one of {', '.join(OUTCOMES)}")
            values["outcome"] = value
        elif key in FLAGS:
            values[key] = _bool(key, value)
        elif key == "final_agent":
            values[key] = str(value)
        elif key in BUCKETS:
            if value and value not in BUCKETS[key]:
                raise ReportError(key, f"unknown bucket {value!r}; one of {', '.join(BUCKETS[key])}")
            values[key] = value
        elif key in (c[0] for c in CELL):
            if value == "":
                continue
            _, low, high = next(c for c in CELL if c[0] == key)
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ReportError(key, f"{value!r} is not a whole number") from None
            if not low <= number <= high:
                raise ReportError(key, f"between {low} and {high}" + (" (1 = Monday)" if key == "weekday" else ""))
            values[key] = number
        elif key == "limit":
            try:
                limit = int(value)
            except (TypeError, ValueError):
                raise ReportError("limit", f"{value!r} is not a whole number") from None
            if not 1 <= limit <= max_limit:
                raise ReportError("limit", f"between 1 and {max_limit}; page on with `cursor`, "
                                           "or export every row with format=csv|ndjson")
            values["limit"] = limit
        elif key == "cursor":
            if value:
                decode_cursor(value)
            values["cursor"] = value
        elif (m := _RANGE.match(key)) and m["metric"] in DURATIONS:
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                raise ReportError(key, f"{value!r} is not a number of seconds") from None
            if seconds != seconds or seconds in (float("inf"), float("-inf")):
                raise ReportError(key, "must be a finite number of seconds")
            ranges.append((m["metric"], m["op"], seconds))
        else:
            raise ReportError(key, "unknown parameter; duration ranges are "
                                   f"<metric>_gt|_gte|_lt|_lte with metric one of {', '.join(DURATIONS)}")
    return Drill(ranges=tuple(ranges), **values)


def parse_list(raw: dict[str, Any]) -> tuple[ReportParams, Drill]:
    """(report parameters, drill) from a query string; every problem is a ReportError.
    The report part goes through reports.parse_params: same ranges, same limits, same errors."""
    report_raw = {k: v for k, v in raw.items() if k in REPORT_PARAMS or k in ("allowed_queues", "repeat_days",
                                                                               "short_abandon_s")}
    drill_raw = {k: v for k, v in raw.items() if k not in report_raw}
    return parse_params(report_raw), parse_drill(drill_raw)


def _parameters(params: ReportParams, drill: Drill, queue_settings: Any = None) -> dict[str, Any]:
    per_queue, per_channel = thresholds_from(queue_settings)
    return {**params.query_parameters(per_queue, per_channel, clocks_from(queue_settings)),
            **drill.query_parameters()}


def _ms(value: Any) -> int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(round(value.timestamp() * 1000))
    return int(round(float(value) * 1000))


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    for k, v in out.items():
        if isinstance(v, dt.datetime):
            out[k] = (v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)).isoformat().replace("+00:00", "Z")
    return out


def _sql(name: str, drill: Drill | None = None) -> str:
    """A list query; the repeat filter (a window over the customers' contacts) only when asked."""
    if drill is None or drill.repeat is None:
        return load_query(name, (("contact_repeat_filter", "always_true"),))
    return load_query(name)


def _query(client: Any, name: str, parameters: dict[str, Any], drill: Drill | None = None) -> list[dict[str, Any]]:
    return clickhouse_store.query_rows(client, _sql(name, drill), parameters)


# ------------------------------------------------------------------------------------ the list
def totals(client: Any, params: ReportParams, drill: Drill, queue_settings: Any = None) -> dict[str, int]:
    """``total``: how many contacts the list has; ``responses``: how many responses they hold
    (in ``drill.response_bucket`` when given: that bucket's figure)."""
    row = _query(client, "contacts_count", _parameters(params, drill, queue_settings), drill)[0]
    return {"total": int(row["n"]), "responses": int(row["responses"] or 0)}


def count(client: Any, params: ReportParams, drill: Drill, queue_settings: Any = None) -> int:
    return totals(client, params, drill, queue_settings)["total"]


def list_page(client: Any, params: ReportParams, drill: Drill, queue_settings: Any = None) -> dict[str, Any]:
    """One page (``drill.limit`` rows after ``drill.cursor``), the next cursor (None at the end)
    and, on the first page, ``total``: how many contacts match (the report's figure) and
    ``responses``: how many responses they hold (a response bucket's figure)."""
    qp = _parameters(params, drill, queue_settings)
    rows = _query(client, "contacts_page", qp, drill)
    next_cursor = None
    if len(rows) == drill.limit:
        last = rows[-1]
        next_cursor = encode_cursor(_ms(last["created"]), last["contact_id"])
    out: dict[str, Any] = {"params": {**params.echo(), **drill.echo()}, "contacts": [_row(r) for r in rows],
                           "next_cursor": next_cursor}
    if not drill.cursor:
        out.update(totals(client, params, drill, queue_settings))
    return out


def export_columns(client: Any) -> list[str]:
    """The export's header (the list's columns, in order)."""
    sql = "SELECT * FROM (" + _sql("contact_list") + ") LIMIT 0"
    empty = {**ReportParams.model_validate({"from": "2000-01-01", "to": "2000-01-01"}).query_parameters(),
             **Drill().query_parameters()}
    result = client.query(sql, parameters=empty)
    return list(result.column_names)


def plan_slices(hours: list[tuple[int, int]], start_ms: int, end_ms: int,
                slice_rows: int) -> list[tuple[int, int]]:
    """[from, to) ms slices covering the hours that hold contacts, each about ``slice_rows``
    contacts (an hour is never split): consecutive hours are grouped until the slice is full.
    ``hours`` is (hour start ms, contacts) in time order. Pure."""
    slices: list[tuple[int, int]] = []
    first, rows = None, 0
    for hour_ms, n in hours:
        if first is None:
            first = max(hour_ms, start_ms)
        rows += n
        if rows >= slice_rows:
            slices.append((first, min(hour_ms + 3_600_000, end_ms)))
            first, rows = None, 0
    if first is not None:
        slices.append((first, min(hours[-1][0] + 3_600_000, end_ms)))
    return slices


def export_chunks(client: Any, params: ReportParams, drill: Drill, fmt: str,
                  queue_settings: Any = None, slice_rows: int | None = None) -> Iterator[bytes]:
    """Every matching contact, in list order, as CSV (header line first; arrays joined with ';')
    or NDJSON, formatted by ClickHouse. Read in slices of creation time holding about
    ``slice_rows`` contacts each (planned from one count per hour), so memory is bounded by a
    slice whatever the row count (see contacts_export.sql for why not one streaming query)."""
    if fmt not in FORMATS:
        raise ReportError("format", f"one of json, {', '.join(FORMATS)}")
    slice_rows = slice_rows or EXPORT_SLICE_ROWS[fmt]
    if fmt == "csv":
        yield (",".join(export_columns(client)) + "\n").encode()
    qp = _parameters(params, drill, queue_settings)
    hours = [(int(r["hour_ms"]), int(r["n"])) for r in _query(client, "contacts_export_plan", qp, drill)]
    sql = _sql("contacts_export_csv" if fmt == "csv" else "contacts_export", drill)
    for start_ms, end_ms in plan_slices(hours, qp["from_ms"], qp["to_ms"], slice_rows):
        data = client.raw_query(sql, parameters={**qp, "from_ms": start_ms, "to_ms": end_ms},
                                settings=EXPORT_SETTINGS, fmt=FORMATS[fmt])
        if data:
            yield data


# ------------------------------------------------------------------------------- one contact
def _span(start_ms: int, end_ms: int, *, tz: str = "UTC", allowed_queues: tuple[str, ...] = (),
          repeat_days: float = 7.0) -> ReportParams:
    """Report parameters over [start, end) built by the server, not a user (not validated: the
    customer journey spans every date, which no report range allows)."""
    utc = dt.timezone.utc
    return ReportParams.model_construct(
        from_=dt.datetime.fromtimestamp(start_ms / 1000, utc), to=dt.datetime.fromtimestamp(end_ms / 1000, utc),
        tz=tz, allowed_queues=tuple(allowed_queues), repeat_days=repeat_days)


def contact_measures(client: Any, contact_id: str, *, queue_settings: Any = None, tz: str = "UTC",
                     repeat_days: float = 7.0) -> dict[str, Any] | None:
    """The contact's row of contact_measures (every derived value, as the reports count it), with
    its next contact and repeat flag; None when there is no such contact."""
    found = _query(client, "contact_created", {"contact_id": contact_id})
    if not found:
        return None
    created_ms = _ms(found[0]["created"])
    params = _span(created_ms, created_ms + 1, tz=tz, repeat_days=repeat_days)
    qp = {**_parameters(params, Drill(), queue_settings), "contact_id": contact_id}
    rows = _query(client, "contact_measures_one", qp)
    return _row(rows[0]) if rows else None


def contact_events(client: Any, contact_id: str) -> list[dict[str, Any]]:
    rows = _query(client, "contact_events", {"contact_id": contact_id})
    out = []
    for r in rows:
        r = dict(r)
        for k, v in r.items():
            if isinstance(v, dt.datetime):
                r[k] = (v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)).isoformat().replace("+00:00", "Z")
        out.append(r)
    return out


def customer_contacts(client: Any, customer: str, *, allowed_queues: tuple[str, ...] = (),
                      queue_settings: Any = None, limit: int = 100, before: str = "",
                      repeat_days: float = 7.0) -> dict[str, Any]:
    """The customer's contacts on every queue and channel (within the caller's queues), newest
    first, ``limit`` per page; ``next_cursor`` pages on to older ones."""
    params = _span(0, FAR_FUTURE_MS, allowed_queues=allowed_queues, repeat_days=repeat_days)
    before_ms, before_id = decode_cursor(before) if before else (FAR_FUTURE_MS, "")
    qp = {**_parameters(params, Drill(limit=limit), queue_settings), "customer": customer,
          "before_ms": before_ms, "before_id": before_id}
    rows = _query(client, "customer_contacts", qp)
    next_cursor = None
    if len(rows) == limit:
        next_cursor = encode_cursor(_ms(rows[-1]["created"]), rows[-1]["contact_id"])
    return {"customer": customer, "contacts": [_row(r) for r in rows], "next_cursor": next_cursor}
