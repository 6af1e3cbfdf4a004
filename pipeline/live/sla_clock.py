"""The SLA clock of one contact: how long a span that starts at creation counts against the
service level, in calendar and in business seconds, minus the time the clock was paused before
the span's end (snoozed, waiting for the customer: `ContactState.pause_spans`, plus the pause
still open). One definition for the history rows (`contact_facts.fact_row`'s `sla_*` columns)
and the live "today" / "last 30 minutes" service level, so the wallboard and the report agree.
Pure: no I/O, no clock.
"""
from __future__ import annotations

from typing import Callable

from pipeline.live.contact_state import ContactState

BusinessSeconds = Callable[[float, float], float]


def pauses(s: ContactState) -> tuple:
    """The finished pauses and the open one (to infinity), as (start, end) pairs."""
    if s.pause_start is None:
        return s.pause_spans
    return s.pause_spans + ((s.pause_start, float("inf")),)


def sla_seconds(created: float, end: float | None, total_business: float | None, spans: tuple,
                biz: BusinessSeconds | None) -> tuple[float | None, float | None]:
    """(calendar, business) seconds of created -> end the SLA clock ran. `total_business` is the
    span's business seconds (the calendar ones when there is no calendar: `biz` None)."""
    if end is None:
        return None, None
    cal_t, biz_t = end - created, total_business
    if not spans:
        return cal_t, biz_t
    for a, b in spans:
        if a < end and b > created:
            lo, hi = (a if a > created else created), (b if b < end else end)
            cal_t -= hi - lo
            biz_t -= biz(lo, hi) if biz else hi - lo
    return max(cal_t, 0.0), max(biz_t, 0.0)


def sl_wait(s: ContactState, end: float, biz: BusinessSeconds | None) -> float:
    """The wait the service-level threshold judges, created -> `end` (the answer, or an email's
    first response), on the queue's clock: business seconds when `biz` is given (a queue with
    clock = "business"), else calendar seconds; pauses before `end` do not count."""
    created = s.created
    total = end - created if biz is None else biz(created, end)
    cal_t, biz_t = sla_seconds(created, end, total, pauses(s), biz)
    return cal_t if biz is None else biz_t
