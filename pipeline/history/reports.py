"""History reports: parameter handling, previous period, named queries, JSON/CSV shaping.

Pure except for ``queues_report`` / ``conversations_report`` / ``agents_report``, which run
the named SQL files in clickhouse/queries through ``pipeline.history.clickhouse_store.query_rows``.

Range semantics: ``from`` and ``to`` are ISO dates or datetimes in the report time zone
(``tz``) unless they carry an offset. A date ``from`` is its local midnight; a date ``to`` is
inclusive (the range ends at the next local midnight); a datetime ``to`` is exclusive.
Contacts are counted in the interval in which they were created.

Supported dates: 1970-01-01 .. 2100-12-31 (the years the event contract accepts, so no event can
lie outside). A ``from``/``to`` outside is a ReportError naming the parameter; every derived
instant (UTC ends, the previous period) stays within a day of that range, so no date arithmetic
can overflow and no query sees a date ClickHouse cannot hold.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Sequence
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.history import clickhouse_store
from pipeline.calendars.zones import ZoneName
from pipeline.schemas.fields import MAX_YEAR, MIN_YEAR, MIN_TIME
from pipeline.schemas.param_error import ParamError

QUERIES_DIR = Path(__file__).resolve().parents[2] / "clickhouse" / "queries"
DEFAULT_THRESHOLDS_S = {"voice": 20.0, "chat": 60.0, "email": 14400.0}
CHANNELS = ("voice", "chat", "email")
MAX_RANGE_DAYS = {"15m": 92, "hour": 366, "day": 3660, "week": 7320}
RESPONSE_BUCKETS = ["<15m", "15-30m", "30-60m", "1-2h", "2-3h", "3-6h", "6-12h", "12-24h", "1-2d", ">2d"]
HANDLE_BUCKETS = ["<1m", "1-2m", "2-5m", "5-10m", ">10m"]
# each bucket's lower bound (s); a bucket ends where the next begins (the first is open below, the
# last above). Passed to contact_measures.sql, which the report and the drill-down list both read.
RESPONSE_BUCKET_BOUNDS_S = (0.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0, 172800.0)
HANDLE_BUCKET_BOUNDS_S = (0.0, 60.0, 120.0, 300.0, 600.0)
FIRST_DATE = dt.date(MIN_YEAR, 1, 1)
LAST_DATE = dt.date(MAX_YEAR, 12, 31)
SUPPORTED_RANGE = f"{FIRST_DATE.isoformat()} .. {LAST_DATE.isoformat()}"


class ReportError(ParamError):
    """A bad report parameter: ``param`` names it, ``reason`` says why (for a 400 answer)."""


def _parse_moment(value: Any, name: str) -> dt.date | dt.datetime:
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be an ISO date (2024-02-01) or datetime (2024-02-01T08:00:00+01:00)")
    text = value.strip()
    try:
        if len(text) == 10:
            moment = dt.date.fromisoformat(text)
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text[:64]!r} is not an ISO date (2024-02-01) or datetime "
                         "(2024-02-01T08:00:00+01:00)") from None
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(f"{text[:64]!r} is outside the supported dates {SUPPORTED_RANGE}")
    return moment


class ReportParams(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    from_: dt.datetime | dt.date = Field(alias="from")
    to: dt.datetime | dt.date
    queue: str = ""
    channel: str = ""
    agent: str = ""
    tag: str = ""
    tz: ZoneName = "UTC"
    by: Literal["15m", "hour", "day", "week"] = "day"
    short_abandon_s: float = Field(5.0, ge=0, le=3600)
    # repeat contact: the customer contacts again within this many days (TABLERO_REPEAT_CONTACT_DAYS)
    repeat_days: float = Field(7.0, gt=0, le=365)
    # queue scope of the caller's token (empty: every queue); set by the API, not by users
    allowed_queues: tuple[str, ...] = ()

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _moment(cls, v: Any, info) -> Any:
        return _parse_moment(v, "from" if info.field_name == "from_" else info.field_name)


    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v and v not in CHANNELS:
            raise ValueError(f"unknown channel {v!r}; one of {', '.join(CHANNELS)}")
        return v

    @model_validator(mode="after")
    def _range(self) -> "ReportParams":
        start, end = self.start_utc, self.end_utc
        both_dates = not isinstance(self.from_, dt.datetime) and not isinstance(self.to, dt.datetime)
        if start > end or (both_dates and self.from_ > self.to):
            raise ReportError("from", f"from ({self.from_}) is after to ({self.to})")
        days = (end - start).total_seconds() / 86400
        if days > MAX_RANGE_DAYS[self.by]:
            raise ReportError("by", f"by={self.by} allows at most {MAX_RANGE_DAYS[self.by]} days; "
                                    f"the range has {days:.0f}; use a coarser interval or a shorter range")
        return self

    # --- derived --------------------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def _localize(self, moment: dt.date | dt.datetime, end: bool) -> dt.datetime:
        if not isinstance(moment, dt.datetime):
            day = moment + dt.timedelta(days=1) if end else moment
            return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    @property
    def start_utc(self) -> dt.datetime:
        return self._localize(self.from_, end=False).astimezone(dt.timezone.utc)

    @property
    def end_utc(self) -> dt.datetime:
        return self._localize(self.to, end=True).astimezone(dt.timezone.utc)

    @property
    def days(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds() / 86400

    def previous(self) -> "ReportParams":
        """The period of the same length immediately before (whole local days when both ends
        are dates, so a DST change does not shift it)."""
        if not isinstance(self.from_, dt.datetime) and not isinstance(self.to, dt.datetime):
            n = (self.to - self.from_).days + 1
            if self.from_ - FIRST_DATE >= dt.timedelta(days=n):
                return self.model_copy(update={"from_": self.from_ - dt.timedelta(days=n),
                                               "to": self.from_ - dt.timedelta(days=1)})
        start, end = self.start_utc, self.end_utc
        # clipped at the first supported instant (an empty period when the range starts there)
        prev_start = max(start - (end - start), min(MIN_TIME, start))
        return self.model_copy(update={"from_": prev_start, "to": start})

    def query_parameters(self, thresholds: dict[tuple[str, str], float] | None = None,
                         channel_defaults: dict[str, float] | None = None,
                         clocks: "Clocks | None" = None) -> dict[str, Any]:
        chan = dict(DEFAULT_THRESHOLDS_S, **(channel_defaults or {}))
        per_queue = thresholds or {}
        ck = clocks or Clocks()
        return {
            # per queue/channel and per channel, parallel to sl_keys / ch_keys (issue 14)
            "sl_business": [int(ck.business.get(k, False)) for k in per_queue],
            "ch_business": [int(ck.ch_business.get(c, False)) for c in chan],
            "rt_values": [float(ck.targets.get(k) or 0.0) for k in per_queue],
            "ch_rt_values": [float(ck.ch_targets.get(c) or 0.0) for c in chan],
            "from_ms": int(round(self.start_utc.timestamp() * 1000)),
            "to_ms": int(round(self.end_utc.timestamp() * 1000)),
            "queue": self.queue, "channel": self.channel, "agent": self.agent, "tag": self.tag,
            "allowed_queues": list(self.allowed_queues), "tz": self.tz, "by": self.by, "short_abandon_s": float(self.short_abandon_s),
            "sl_keys": [f"{q}/{c}" for q, c in per_queue], "sl_values": [float(v) for v in per_queue.values()],
            "ch_keys": list(chan), "ch_values": [float(v) for v in chan.values()],
            "sl_default": float(DEFAULT_THRESHOLDS_S["voice"]),
            "repeat_days": float(self.repeat_days), "customer": "", "contact_id": "",
            "response_bounds": list(RESPONSE_BUCKET_BOUNDS_S), "handle_bounds": list(HANDLE_BUCKET_BOUNDS_S),
        }

    def echo(self) -> dict[str, Any]:
        return {"from": self.start_utc.astimezone(self.zone).isoformat(),
                "to": self.end_utc.astimezone(self.zone).isoformat(),
                "queue": self.queue, "channel": self.channel, "agent": self.agent, "tag": self.tag,
                "tz": self.tz, "by": self.by, "short_abandon_s": self.short_abandon_s,
                "repeat_days": self.repeat_days}


def parse_params(raw: dict[str, Any]) -> ReportParams:
    """Build ReportParams from query-string-like values; every problem is a ReportError."""
    values = {k: v for k, v in raw.items() if v is not None}
    try:
        return ReportParams.model_validate(values)
    except ReportError:
        raise
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc") or ("?",)
        param = "from" if loc[0] == "from_" else str(loc[0])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ReportError):
            raise cause from None
        reason = str(cause) if cause else err.get("msg", "invalid")
        if err.get("type") == "missing":
            reason = "required"
        elif err.get("type") == "extra_forbidden":
            reason = "unknown parameter"
        raise ReportError(param, reason) from None


# ------------------------------------------------------------------------------------- queries
_INCLUDE = re.compile(r"\{\{([a-z_]+)\}\}")


@lru_cache(maxsize=None)
def load_query(name: str, swap: tuple[tuple[str, str], ...] = ()) -> str:
    """The named SQL file, with each ``{{other}}`` replaced by ``(<other.sql>)`` (recursively):
    how every report and the contacts list share contact_measures.sql, the one definition of
    each per-contact value. ``swap`` pairs (include, replacement) change an include, e.g. an
    optional filter for always_true (full-line ``--`` comments are dropped)."""
    return _expand(name, (), dict(swap))


def _expand(name: str, stack: tuple[str, ...], swap: dict[str, str] | None = None) -> str:
    swap = swap or {}
    if name in stack:
        raise ValueError(f"query {name!r} includes itself: {' -> '.join(stack + (name,))}")
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}")
    text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                      if not line.lstrip().startswith("--"))
    return _INCLUDE.sub(lambda m: "(\n" + _expand(swap.get(m.group(1), m.group(1)), stack + (name,), swap)
                        + "\n)", text)


def run_query(client: Any, name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return clickhouse_store.query_rows(client, load_query(name), parameters)


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if not den or num is None else num / den


def _q(values: list | None, i: int) -> float | None:
    return values[i] if values and len(values) > i else None


@lru_cache(maxsize=65536)
def _iso(epoch: int, zone: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(epoch, zone).isoformat()


# -------------------------------------------------------------------------------------- queues
_QUEUE_SUMS = ("offered", "answered_n", "abandoned_n", "short_abandoned", "answered_within_sl",
               "wait_sum_s", "wait_n", "handle_sum_s", "handle_n",
               "wait_business_sum_s", "handle_business_sum_s")


class Clocks(BaseModel):
    """Each queue's SL clock (business or calendar) and resolution target (issue 14)."""
    business: dict[tuple[str, str], bool] = {}
    ch_business: dict[str, bool] = {}
    targets: dict[tuple[str, str], float | None] = {}
    ch_targets: dict[str, float | None] = {}


def clocks_from(queue_settings: Any) -> Clocks:
    if queue_settings is None:
        return Clocks()
    pols = {(q, c): queue_settings.for_queue(q, c) for q, c in queue_settings.configured()}
    chans = {c: queue_settings.for_queue("", c) for c in CHANNELS}
    return Clocks(business={k: p.business for k, p in pols.items()},
                  ch_business={c: p.business for c, p in chans.items()},
                  targets={k: p.resolution_target_s for k, p in pols.items()},
                  ch_targets={c: p.resolution_target_s for c, p in chans.items()})


def bucket_end(start_epoch: int, by: str, zone: ZoneInfo) -> int:
    """The end (exclusive, epoch s) of the interval starting at ``start_epoch``: the next local
    midnight / Monday for day and week (a DST day has 23 or 25 hours), else + 15 min / 1 h."""
    if by in ("15m", "hour"):
        return start_epoch + (900 if by == "15m" else 3600)
    local = dt.datetime.fromtimestamp(start_epoch, zone)
    day = local.date() + dt.timedelta(days=1 if by == "day" else 7)
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=zone).timestamp())


def thresholds_from(queue_settings: Any) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """(per queue/channel thresholds, per channel thresholds) from a
    pipeline.live.queue_settings.QueueSettings (None: the channel defaults only)."""
    if queue_settings is None:
        return {}, {}
    per_queue = {(q, c): queue_settings.for_queue(q, c).threshold_s for q, c in queue_settings.configured()}
    per_channel = {c: queue_settings.for_queue("", c).threshold_s for c in CHANNELS}
    return per_queue, per_channel


def _queue_metrics(offered: int, answered: int, abandoned: int, short: int, within: int,
                   wait_sum: float | None, wait_n: int, handle_sum: float | None, handle_n: int,
                   wait_business_sum: float | None, handle_business_sum: float | None,
                   policy: Any = None) -> dict[str, Any]:
    """A queues row's (or the total's) figures from its sums (queues.sql's columns, in the order of
    _QUEUE_SUMS); ``policy`` (QueueSettings.for_queue) says the service level's denominator.
    Called once per row (22k rows for 30 days by 15 minutes at 10M events): positional sums and
    plain divisions (a dict of sums per row and a helper per ratio took half the report's Python
    time). A sum is NULL when it summed no value (no business time)."""
    if policy is not None:
        sl_den = policy.sl_denominator(answered, abandoned, short, offered)
    else:
        sl_den = answered + abandoned - short
    return {
        "offered": offered, "answered": answered, "abandoned": abandoned,
        "short_abandoned": short, "answered_within_sl": within,
        "asa_s": wait_sum / wait_n if wait_n and wait_sum is not None else None,
        "aht_s": handle_sum / handle_n if handle_n and handle_sum is not None else None,
        "service_level": within / sl_den if sl_den else None,
        "asa_business_s": wait_business_sum / wait_n if wait_n and wait_business_sum is not None else None,
        "aht_business_s": handle_business_sum / handle_n if handle_n and handle_business_sum is not None else None,
    }


def _no_policy(queue: str, channel: str) -> None:
    return None


# the queues report counts nothing of a customer's next contact: no window, no join for it
_WITHOUT_NEXT_CONTACT = (("contacts_in_range", "contacts_in_range_no_next"),)


def queues_report(client: Any, params: ReportParams,
                  thresholds: dict[tuple[str, str], float] | None = None,
                  channel_defaults: dict[str, float] | None = None,
                  queue_settings: Any = None) -> dict[str, Any]:
    """Interval report: rows per queue, channel and interval; totals over all rows.
    ``queue_settings`` (QueueSettings) supplies thresholds and each queue's SL formula;
    explicit ``thresholds`` / ``channel_defaults`` override it."""
    qs_q, qs_c = thresholds_from(queue_settings)
    cols = clickhouse_store.query_columns(client, load_query("queues", _WITHOUT_NEXT_CONTACT), params.query_parameters(
        {**qs_q, **(thresholds or {})}, {**qs_c, **(channel_defaults or {})}, clocks_from(queue_settings)))
    zone, by = params.zone, params.by
    # one policy lookup per queue and channel, not per row
    policy = lru_cache(maxsize=None)(queue_settings.for_queue) if queue_settings is not None else _no_policy

    def column(name: str) -> Sequence[Any]:
        return cols.get(name, ())  # no rows: the store may name no columns

    rows = []
    for queue, channel, start, *sums in zip(column("queue"), column("channel_name"), column("start_epoch"),
                                            *(column(k) for k in _QUEUE_SUMS)):
        rows.append({"queue": queue, "channel": channel, "start": _iso(start, zone),
                     **_queue_metrics(*sums, policy=policy(queue, channel)),
                     "end": _iso(bucket_end(start, by, zone), zone)})
    # sums of the rows' sums (filter: NULL and 0 add nothing)
    total = _queue_metrics(*(sum(filter(None, column(k))) for k in _QUEUE_SUMS))
    return {"report": "queues", "params": params.echo(), "rows": rows, "total": total}


# ------------------------------------------------------------------------------- conversations
def _headline(r: dict[str, Any], days: float) -> dict[str, Any]:
    return {
        "conversations": int(r["conversations"]),
        "customers": int(r["customers"]),
        "conversations_per_day": _ratio(r["conversations"], days),
        "conversations_per_customer": _ratio(r["conversations_with_customer"], r["customers"]),
        "replies": int(r["replies_total"]),
        "replies_per_conversation": _ratio(r["replies_closed"], r["closed_n"]),
        "closed": int(r["closed_n"]),
        "first_response_s": {"mean": r["first_response_avg_s"], "p50": _q(r["first_response_q"], 0),
                             "p90": _q(r["first_response_q"], 1), "count": int(r["first_responses"])},
        "response_time_s": {"mean": r["response_avg_s"], "p50": _q(r["response_q"], 0),
                            "p90": _q(r["response_q"], 1), "count": int(r["responses"])},
        "handle_time_s": {"mean": r["handle_avg_s"], "p50": _q(r["handle_q"], 0),
                          "p90": _q(r["handle_q"], 1), "count": int(r["handled"])},
        "resolution_time_s": {"mean": r["resolution_avg_s"], "p50": _q(r["resolution_q"], 0),
                              "p90": _q(r["resolution_q"], 1)},
        "resolution_sla": _ratio(r["resolved_within_target"], r["resolutions_targeted"]),
        "resolution_sla_business": _ratio(r["resolved_within_target_business"], r["resolutions_targeted"]),
        "asa_s": r["asa_avg_s"],
        "asa_business_s": r["asa_business_avg_s"],
        "first_response_business_s": {"mean": r["first_response_business_avg_s"],
                                      "p50": _q(r["first_response_business_q"], 0),
                                      "p90": _q(r["first_response_business_q"], 1),
                                      "count": int(r["first_responses"])},
        "response_time_business_s": {"mean": r["response_business_avg_s"], "p50": _q(r["response_business_q"], 0),
                                     "p90": _q(r["response_business_q"], 1), "count": int(r["responses"])},
        "handle_time_business_s": {"mean": r["handle_business_avg_s"], "p50": _q(r["handle_business_q"], 0),
                                   "p90": _q(r["handle_business_q"], 1), "count": int(r["handled"])},
        "resolution_time_business_s": {"mean": r["resolution_business_avg_s"],
                                       "p50": _q(r["resolution_business_q"], 0),
                                       "p90": _q(r["resolution_business_q"], 1)},
        "resolved_on_first_reply": int(r["resolved_first_reply"]),
        "resolved_on_first_reply_share": _ratio(r["resolved_first_reply"], r["closed_n"]),
        "sla_compliance": _ratio(r["first_responses_within_sla"], r["first_responses"]),
        "csat": {"mean": r["csat_avg"], "good_share": _ratio(r["ratings_good"], r["ratings"]),
                 "ratings": int(r["ratings"])},
        "repeat_contacts": int(r["repeat_contacts"]),
        "repeat_contact_rate": _ratio(r["repeat_contacts"], r["conversations_with_customer"]),
    }


def _period_rows(client: Any, both: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """conversations.sql's rows of (the report's period, the previous one). The query gives a row
    per period that has contacts; a period without any gets what each aggregate gives over no
    rows, from the same SQL over an empty range with `period` constant (split_periods = 0)."""
    rows = {r.pop("period"): r for r in run_query(client, "conversations", {**both, "split_periods": 1})}
    if len(rows) < 2:
        empty = run_query(client, "conversations", {**both, "split_periods": 0, "from_ms": both["to_ms"],
                                                   "current_from_ms": both["to_ms"]})[0]
        empty.pop("period")
        rows = {0: rows.get(0, empty), 1: rows.get(1, empty)}
    return rows[1], rows[0]


def _bucket_counts(labels: Any, ids_counts: tuple[list[int], list[int]]) -> dict[str, int]:
    """Each bucket's count by label from sumMap's (1-based bucket ids, counts); missing ids are 0."""
    counts = dict(zip(*ids_counts))
    return {label: int(counts.get(i, 0)) for i, label in enumerate(labels, start=1)}


def conversations_report(client: Any, params: ReportParams,
                         thresholds: dict[tuple[str, str], float] | None = None,
                         channel_defaults: dict[str, float] | None = None,
                         queue_settings: Any = None) -> dict[str, Any]:
    qs_q, qs_c = thresholds_from(queue_settings)
    thresholds = {**qs_q, **(thresholds or {})}
    channel_defaults = {**qs_c, **(channel_defaults or {})}
    clocks = clocks_from(queue_settings)
    prev = params.previous()
    qp = params.query_parameters(thresholds, channel_defaults, clocks)
    # one scan of both periods (conversations.sql): they are adjacent, the previous one first
    assert prev.end_utc == params.start_utc, "the previous period ends where the report's begins"
    both = {**qp, "from_ms": prev.query_parameters()["from_ms"], "current_from_ms": qp["from_ms"]}
    head, prev_head = _period_rows(client, both)
    out = {"report": "conversations", "params": params.echo(), **_headline(head, params.days)}
    out["response_time_buckets"] = _bucket_counts(RESPONSE_BUCKETS, head["response_buckets"])
    out["handle_time_buckets"] = _bucket_counts(HANDLE_BUCKETS, head["handle_buckets"])
    out["busiest"] = [{"weekday": cell // 24 + 1, "hour": cell % 24, "conversations": int(n)}
                      for cell, n in enumerate(head["busiest"]) if n]
    out["tags"] = sorted(({"tag": tag, "conversations": int(n)} for tag, n in zip(*head["tags"])),
                         key=lambda t: (-t["conversations"], t["tag"]))
    out["previous"] = {"from": prev.echo()["from"], "to": prev.echo()["to"], **_headline(prev_head, prev.days)}
    return out


# ---------------------------------------------------------------------------------------- agents
def agents_report(client: Any, params: ReportParams, **_: Any) -> dict[str, Any]:
    qp = params.query_parameters()
    facts = {r["agent_name"]: r for r in run_query(client, "agents", qp)}
    replies = {r["agent"]: int(r["replies"]) for r in run_query(client, "agent_replies", qp)}
    rows = []
    for name in sorted(set(facts) | set(replies)):
        f = facts.get(name)
        rows.append({
            "agent": name,
            "handled": int(f["handled"]) if f else 0,
            "replies": replies.get(name, 0),
            "closed": int(f["closed_n"]) if f else 0,
            "closed_without_reply": int(f["closed_without_reply"]) if f else 0,
            "handle_s": float(f["handle_sum_s"]) if f else 0.0,
            "aht_s": _ratio(f["handle_sum_s"], f["handle_n"]) if f else None,
            "first_response_s": f["first_response_avg_s"] if f else None,
            "handle_business_s": float(f["handle_business_sum_s"] or 0.0) if f else 0.0,
            "aht_business_s": _ratio(f["handle_business_sum_s"], f["handle_n"]) if f else None,
            "first_response_business_s": f["first_response_business_avg_s"] if f else None,
            "customers": int(f["customers"]) if f else 0,
            "csat": {"mean": f["csat_avg"] if f else None,
                     "good_share": _ratio(f["ratings_good"], f["ratings"]) if f else None,
                     "ratings": int(f["ratings"]) if f else 0},
        })
    return {"report": "agents", "params": params.echo(), "rows": rows}


REPORTS = {"queues": queues_report, "conversations": conversations_report, "agents": agents_report}


_NOT_HEADLINE = {"report", "params", "response_time_buckets", "handle_time_buckets", "busiest", "tags", "previous"}


def table_rows(name: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a table or CSV shows: per-interval/agent rows, or the conversations headline."""
    if name == "conversations":
        return [{k: v for k, v in result.items() if k not in _NOT_HEADLINE}]
    return result.get("rows", [])


def policy_kwargs(name: str, queue_settings: Any) -> dict[str, Any]:
    """The queue-settings argument each report takes (thresholds and SL formula)."""
    return {} if name == "agents" else {"queue_settings": queue_settings}


# ----------------------------------------------------------------------------------------- csv
def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            out[name] = ";".join(map(str, value))
        else:
            out[name] = value
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text (header + rows); nested dicts become dotted columns, None an empty cell."""
    flat = [_flatten(r) for r in rows]
    columns: list[str] = []
    for r in flat:
        columns.extend(k for k in r if k not in columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in flat:
        writer.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in columns})
    return buf.getvalue()
