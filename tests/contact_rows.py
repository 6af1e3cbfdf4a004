"""`contacts` fact rows (pipeline.history.contact_facts shape) for tests that insert straight into chDB."""
from __future__ import annotations

import datetime as dt


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def fact(cid: str, created: str, **kw) -> dict:
    """One `contacts` row with neutral defaults; `kw` overrides columns."""
    row = {"contact_id": cid, "version": 1, "queue": "support", "channel": "email", "customer": "",
           "priority": 0, "tags": [], "created": ts(created), "first_assigned": None, "answered": None,
           "first_response": None, "abandoned": None, "closed": None, "agent": "", "agents": [],
           "wait_s": None, "first_response_s": None, "handle_s": 0.0, "resolution_s": None,
           "replies": 0, "customer_messages": 1, "response_times_s": [], "reopened": 0, "transfers": 0,
           "csat": None, "is_answered": 0, "is_abandoned": 0, "is_closed": 0, "last_event": ts(created)}
    row.update(kw)
    # business-hours twins default to the calendar values (a 24/7 calendar), unless given
    for cal, biz in (("wait_s", "wait_business_s"), ("first_response_s", "first_response_business_s"),
                     ("handle_s", "handle_business_s"), ("resolution_s", "resolution_business_s"),
                     ("response_times_s", "response_times_business_s")):
        row.setdefault(biz, row[cal])
    row.setdefault("settings_version", "")
    # SLA-clock durations: no pauses unless given
    sl = row["wait_s"] if row["wait_s"] is not None else row["first_response_s"]
    for k, v in (("sla_wait_s", sl), ("sla_first_response_s", row["first_response_s"]),
                 ("sla_resolution_s", row["resolution_s"])):
        row.setdefault(k, v)
        row.setdefault(k[:-2] + "_business_s", row[k])
    return row
