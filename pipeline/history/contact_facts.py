"""ClickHouse rows from states: `contacts` fact rows and `agent_states` intervals.

Columns and meanings: docs/internal-interfaces.md. Pure functions of the state, so a retried
batch produces byte-identical rows (ReplacingMergeTree(version) then keeps one).
Times are float epoch seconds (UTC); None is NULL.

Business-hours twins (`*_business_s`): the same spans measured in business seconds of the
calendar given (the queue's: `QueueSettings.calendar_for(state.queue)`, i.e. the contact's current
queue after transfers); without a calendar they equal the calendar-time values (24/7).
`settings_version` is the queue-settings hash the row was computed with.

SLA-clock durations (`sla_*`): the wait the service level judges (answer, else first response),
the first response and the resolution, each minus the time the SLA clock was paused before its
end (`ContactState.pause_spans`: snoozed, waiting for the customer), in calendar and business time.
"""
from __future__ import annotations

from pipeline.calendars.business_time import Calendar
from pipeline.live.contact_state import AgentState, ContactState
from pipeline.live.sla_clock import pauses, sla_seconds

CONTACT_COLUMNS = (
    "contact_id", "version", "queue", "channel", "customer", "priority", "tags", "created",
    "first_assigned", "answered", "first_response", "abandoned", "closed", "agent", "agents",
    "wait_s", "first_response_s", "handle_s", "resolution_s", "replies", "customer_messages",
    "response_times_s", "reopened", "transfers", "csat", "is_answered", "is_abandoned",
    "is_closed", "last_event", "wait_business_s", "first_response_business_s", "handle_business_s",
    "resolution_business_s", "response_times_business_s", "settings_version",
    "sla_wait_s", "sla_wait_business_s", "sla_first_response_s", "sla_first_response_business_s",
    "sla_resolution_s", "sla_resolution_business_s",
)
AGENT_STATE_COLUMNS = ("agent", "state", "reason", "start", "end", "duration_s")


def fact_row(s: ContactState, calendar: Calendar | None = None, settings_version: str = "") -> dict:
    """One `contacts` row. `answered` and `wait_s` follow the voice/chat definitions (email has
    no answer event: its wait_s is set only when abandoned); `is_answered` is 1 for email once an
    agent replied, so per-channel answered counts mean the same thing on every channel."""
    created = s.created
    voice_chat = s.channel != "email"
    if voice_chat and s.answered is not None:
        wait_end = s.answered
    elif s.abandoned is not None:
        wait_end = s.abandoned
    else:
        wait_end = None
    wait_s = None if wait_end is None else wait_end - created
    if calendar is None or calendar.always_open:
        biz = None
    else:
        biz = calendar.business_seconds
    if biz is None:
        wait_b = wait_s
        fr_b = None if s.first_response is None else s.first_response - created
        res_b = None if s.closed is None else s.closed - created
        handle_b = s.handle_ms / 1000.0
        resp_b = list(s.response_times)
    else:
        wait_b = None if wait_end is None else biz(created, wait_end)
        fr_b = None if s.first_response is None else biz(created, s.first_response)
        res_b = None if s.closed is None else biz(created, s.closed)
        handle_b = sum(biz(a, b) for a, b in s.handle_spans)
        resp_b = [biz(a, b) for a, b in s.response_spans]
    # SLA clock: the same spans minus the pauses before their end (calendar and business)
    spans = pauses(s)

    def sla(end, total_b):
        return sla_seconds(created, end, total_b, spans, biz)

    if wait_end is not None:  # = coalesce(wait_s, first_response_s), as the reports' SL wait
        sla_wait = sla(wait_end, wait_b)
    else:
        sla_wait = sla(s.first_response, fr_b)
    sla_fr = sla(s.first_response, fr_b)
    sla_res = sla(s.closed, res_b)
    return {
        "contact_id": s.contact_id,
        "version": len(s.events),
        "queue": s.queue,
        "channel": s.channel,
        "customer": s.customer,
        "priority": s.priority,
        "tags": list(s.tags),
        "created": created,
        "first_assigned": s.first_assigned,
        "answered": s.answered,
        "first_response": s.first_response,
        "abandoned": s.abandoned,
        "closed": s.closed,
        "agent": s.agent,
        "agents": list(s.agents),
        "wait_s": wait_s,
        "first_response_s": None if s.first_response is None else s.first_response - created,
        "handle_s": s.handle_ms / 1000.0,
        "resolution_s": None if s.closed is None else s.closed - created,
        "replies": s.replies,
        "customer_messages": s.customer_messages,
        "response_times_s": list(s.response_times),
        "reopened": s.reopened,
        "transfers": s.transfers,
        "csat": s.csat,
        "is_answered": int(s.answer_time is not None),
        "is_abandoned": int(s.abandoned is not None),
        "is_closed": int(s.closed is not None),
        "last_event": s.last_event,
        "wait_business_s": wait_b,
        "first_response_business_s": fr_b,
        "handle_business_s": handle_b,
        "resolution_business_s": res_b,
        "response_times_business_s": resp_b,
        "settings_version": settings_version,
        "sla_wait_s": sla_wait[0],
        "sla_wait_business_s": sla_wait[1],
        "sla_first_response_s": sla_fr[0],
        "sla_first_response_business_s": sla_fr[1],
        "sla_resolution_s": sla_res[0],
        "sla_resolution_business_s": sla_res[1],
    }


def agent_interval_row(prev: AgentState | None, new: AgentState) -> dict | None:
    """The interval `prev` finished when `new` started, or None when no interval finished
    (first state seen, capacity-only update, or a zero/negative-length interval)."""
    if prev is None or new.since <= prev.since:
        return None
    return {
        "agent": prev.agent,
        "state": prev.state,
        "reason": prev.reason,
        "start": prev.since,
        "end": new.since,
        "duration_s": new.since - prev.since,
    }
