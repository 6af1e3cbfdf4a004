"""What each report figure means: formula, the time it is counted at, what it excludes, the SQL.

``definitions(...)`` is what GET /api/v1/definitions returns and what the reports page shows as
each figure's tooltip; the contact page uses ``MEASURES`` to explain a contact's derived values.
The prose lives here; the per-contact expressions are read from clickhouse/queries/
contact_measures.sql (``sql_expressions``), the file the reports and the contacts list both run,
so the formula shown is the one that counted. ``list`` is the drill-down: the GET /api/v1/contacts
parameters (on top of the report's filters) whose row count is the figure (for counts) or whose
rows the figure is computed from (for means, rates and percentiles).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

QUERIES_DIR = Path(__file__).resolve().parents[2] / "clickhouse" / "queries"

CREATED = "the interval in which the contact was created (report time zone)"

# key -> (label, formula, counted at, excludes, drill-down parameters, per-contact columns)
METRICS: dict[str, dict[str, Any]] = {
    "offered": dict(label="Offered", formula="contacts created", counted_at=CREATED, excludes="",
                    list={}, columns=[]),
    "conversations": dict(label="Conversations", formula="contacts created (= offered)", counted_at=CREATED,
                          excludes="", list={}, columns=[]),
    "answered": dict(label="Answered", formula="contacts answered: voice/chat connected to an agent; "
                                               "email: an agent replied",
                     counted_at=CREATED, excludes="", list={"outcome": "answered"}, columns=["is_answered"]),
    "abandoned": dict(label="Abandoned", formula="contacts whose customer left before being answered",
                      counted_at=CREATED, excludes="", list={"outcome": "abandoned"}, columns=["is_abandoned"]),
    "short_abandoned": dict(label="Short abandoned",
                            formula="abandoned after waiting at most the short-abandon time (default 5 s)",
                            counted_at=CREATED, excludes="", list={"outcome": "short_abandoned"},
                            columns=["abandon_wait_s", "is_short_abandoned"]),
    "answered_within_sl": dict(label="Within SL",
                               formula="answered with a wait (created → answered; email: → first reply) at "
                                       "most the queue's threshold (inclusive)",
                               counted_at=CREATED, excludes="abandoned and open contacts",
                               list={"within_sl": "true"}, columns=["threshold_s", "sl_wait_s", "is_within_sl"]),
    "service_level": dict(label="Service level",
                          formula="answered within threshold ÷ (answered + abandoned − short abandoned); the "
                                  "denominator is the queue's SL formula setting",
                          counted_at=CREATED, excludes="open contacts; short abandons (default formula)",
                          list={"within_sl": "true"}, columns=["threshold_s", "sl_wait_s", "is_within_sl"]),
    "asa_s": dict(label="ASA", formula="mean of wait (created → answered) over answered contacts",
                  counted_at=CREATED, excludes="contacts without an answer; email (no answer event)",
                  list={"outcome": "answered"}, columns=["wait_s"]),
    "aht_s": dict(label="AHT", formula="mean handle time over closed, not abandoned contacts (0 included)",
                  counted_at=CREATED, excludes="open and abandoned contacts", list={"outcome": "aht_counted"},
                  columns=["is_aht_counted"]),
    "customers": dict(label="Customers", formula="distinct customers", counted_at=CREATED,
                      excludes="contacts without a customer", list={}, columns=[]),
    "closed": dict(label="Closed", formula="contacts closed", counted_at=CREATED, excludes="",
                   list={"outcome": "closed"}, columns=["is_closed"]),
    "first_response_s": dict(label="First response",
                             formula="created → first agent reply (email/chat) or answer (voice); mean and "
                                     "interpolated percentiles",
                             counted_at=CREATED, excludes="contacts never responded to",
                             list={"first_response_s_gte": "0"}, columns=["first_response_s"]),
    "response_time_s": dict(label="Response time",
                            formula="each customer message → the next agent reply; every response counts",
                            counted_at=CREATED, excludes="messages never replied to", list={}, columns=[]),
    "handle_time_s": dict(label="Handle time",
                          formula="time agents actively worked the contact (voice: answered → closed; email/chat:"
                                  " opened → next reply, close or transfer, summed)",
                          counted_at=CREATED, excludes="contacts with no handle time",
                          list={"has_handle_time": "true"}, columns=["has_handle_time"]),
    "resolution_time_s": dict(label="Resolution time", formula="created → last close", counted_at=CREATED,
                              excludes="contacts not closed", list={"outcome": "closed"}, columns=["resolution_s"]),
    "resolved_on_first_reply_share": dict(label="Resolved on first reply",
                                          formula="closed with exactly one agent reply and never reopened ÷ closed",
                                          counted_at=CREATED, excludes="contacts not closed",
                                          list={"outcome": "resolved_on_first_reply"},
                                          columns=["is_resolved_on_first_reply"]),
    "sla_compliance": dict(label="SLA compliance",
                           formula="first responses within the queue's threshold ÷ first responses",
                           counted_at=CREATED, excludes="contacts never responded to",
                           list={"first_response_within_sl": "true"},
                           columns=["threshold_s", "is_first_response_within_sl"]),
    "csat": dict(label="CSAT", formula="mean score (1–5); share of scores ≥ 4", counted_at=CREATED,
                 excludes="contacts not rated", list={"rated": "true"}, columns=["is_rated", "is_rated_good"]),
    # issue 17: the resolution SLA cards open the contacts resolved within the target (the numerator)
    "resolution_sla": dict(label="Resolution SLA",
                           formula="closed within the queue's resolution target (calendar time, SLA pauses left "
                                   "out) ÷ closed contacts of queues with a target",
                           counted_at=CREATED, excludes="open contacts; queues without a resolution target",
                           list={"resolved_within_target": "true"},
                           columns=["resolution_target_s", "is_resolution_targeted", "is_resolved_within_target"]),
    "resolution_sla_business": dict(label="Resolution SLA (business hours)",
                                    formula="closed within the queue's resolution target in business time ÷ "
                                            "closed contacts of queues with a target",
                                    counted_at=CREATED, excludes="open contacts; queues without a resolution target",
                                    list={"resolved_within_target_business": "true"},
                                    columns=["resolution_target_s", "is_resolution_targeted",
                                             "is_resolved_within_target_business"]),
    "repeat_contact_rate": dict(label="Repeat contacts",
                                formula="contacts whose customer contacts again (any queue, any channel) within "
                                        "N days ÷ contacts with a customer",
                                counted_at=CREATED + "; the next contact may fall after the range",
                                excludes="contacts without a customer; the last N days are not final yet",
                                list={"repeat": "true"}, columns=["is_repeat"]),
}
# per-contact values the contact page explains (all columns of contact_measures or the fact row)
MEASURES: dict[str, str] = {
    "wait_s": "created → answered (voice/chat) or → abandoned",
    "first_response_s": "created → first agent reply (email/chat) or answer (voice)",
    "handle_s": "time agents actively worked the contact",
    "resolution_s": "created → last close",
    "threshold_s": "the service-level threshold of the contact's queue and channel",
    "on_business_clock": "1 when the queue's SL clock is business hours (clock = \"business\")",
    "resolution_target_s": "the resolution SLA target of the contact's queue and channel (0 = none)",
    "sl_wait_s": "the wait the service level judges: wait, else first response, on the queue's SL "
                 "clock with SLA pauses (a snooze, waiting for the customer) left out",
    "sl_first_response_s": "first response on the queue's SL clock, SLA pauses left out",
    "abandon_wait_s": "how long an abandoned contact waited",
    "is_within_sl": "answered and sl_wait_s ≤ threshold_s",
    "is_short_abandoned": "abandoned and abandon_wait_s ≤ the short-abandon time",
    "is_first_response_within_sl": "sl_first_response_s ≤ threshold_s",
    "is_resolution_targeted": "closed, and the queue has a resolution target",
    "is_resolved_within_target": "closed within the resolution target (calendar time, SLA pauses left out)",
    "is_resolved_within_target_business": "closed within the resolution target in business time",
    "is_aht_counted": "closed and not abandoned: counted in AHT",
    "has_handle_time": "handle_s > 0: counted in the handle-time statistics",
    "is_resolved_on_first_reply": "closed, one agent reply, never reopened",
    "is_repeat": "the customer's next contact (any queue, any channel) came within N days",
    "is_rated": "the customer gave a CSAT score",
    "is_rated_good": "the CSAT score is 4 or 5",
    "is_closed_without_reply": "closed with no agent reply",
    "response_bucket_ids": "per response (parallel to response_times_s), its response-time bucket of "
                           "the conversations report (1 = the first)",
    "handle_bucket": "the handle-time bucket of the conversations report (1 = the first; 0 = no handle time)",
    "local_weekday": "weekday of creation in the report's time zone (1 = Monday): the busiest-times row",
    "local_hour": "hour of creation in the report's time zone: the busiest-times column",
}


def _select_items(sql: str) -> list[str]:
    """The top-level items of the first SELECT list of ``sql`` (comments dropped)."""
    text = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    body = text[text.index("SELECT") + 6:]
    items, depth, cur = [], 0, []
    for i, ch in enumerate(body):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if depth == 0 and body.startswith("\nFROM", i):
            break
        if ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    return [" ".join(item.split()) for item in items if item.strip()]


@lru_cache(maxsize=1)
def sql_expressions() -> dict[str, str]:
    """alias -> SQL expression of every derived column of contact_measures.sql."""
    out = {}
    for item in _select_items((QUERIES_DIR / "contact_measures.sql").read_text(encoding="utf-8")):
        m = re.match(r"^(?P<expr>.+) AS (?P<alias>[a-z_][a-z0-9_]*)$", item, re.S)
        if m:
            out[m["alias"]] = m["expr"]
    return out


def definitions(*, thresholds: dict[str, float], short_abandon_s: float, repeat_days: float,
                per_queue: dict[tuple[str, str], float] | None = None) -> dict[str, Any]:
    """The GET /api/v1/definitions body: every metric with its SQL, and the settings applied."""
    sql = sql_expressions()
    metrics = []
    for key, m in METRICS.items():
        metrics.append({"key": key, "label": m["label"], "formula": m["formula"], "counted_at": m["counted_at"],
                        "excludes": m["excludes"], "list": m["list"],
                        "sql": {c: sql[c] for c in m["columns"] if c in sql}})
    return {
        "metrics": metrics,
        "measures": [{"key": k, "meaning": v, "sql": sql.get(k)} for k, v in MEASURES.items()],
        "settings": {"thresholds_s": thresholds,
                     "queue_thresholds_s": {f"{q}/{c}": v for (q, c), v in (per_queue or {}).items()},
                     "short_abandon_s": short_abandon_s, "repeat_contact_days": repeat_days},
        "times": "Event times (UTC) as the sources stamped them; reports count each contact in the "
                 "interval of its creation, in the report's time zone.",
    }
