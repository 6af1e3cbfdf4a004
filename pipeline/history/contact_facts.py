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
    """One `contacts` row, by column name (`fact_values` in CONTACT_COLUMNS order)."""
    return dict(zip(CONTACT_COLUMNS, fact_values(s, calendar, settings_version)))


def fact_values(s: ContactState, calendar: Calendar | None = None, settings_version: str = "") -> tuple:
    """One `contacts` row as a tuple in CONTACT_COLUMNS order (what the worker lands: a fifth of
    the memory of a dict). `answered` and `wait_s` follow the voice/chat definitions (email has
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
    return (
        s.contact_id,
        len(s.events),
        s.queue,
        s.channel,
        s.customer,
        s.priority,
        list(s.tags),
        created,
        s.first_assigned,
        s.answered,
        s.first_response,
        s.abandoned,
        s.closed,
        s.agent,
        list(s.agents),
        wait_s,
        None if s.first_response is None else s.first_response - created,  # first_response_s
        s.handle_ms / 1000.0,  # handle_s
        None if s.closed is None else s.closed - created,  # resolution_s
        s.replies,
        s.customer_messages,
        list(s.response_times),  # response_times_s
        s.reopened,
        s.transfers,
        s.csat,
        int(s.answer_time is not None),  # is_answered
        int(s.abandoned is not None),  # is_abandoned
        int(s.closed is not None),  # is_closed
        s.last_event,
        wait_b,  # wait_business_s
        fr_b,  # first_response_business_s
        handle_b,  # handle_business_s
        res_b,  # resolution_business_s
        resp_b,  # response_times_business_s
        settings_version,
        sla_wait[0],  # sla_wait_s
        sla_wait[1],  # sla_wait_business_s
        sla_fr[0],  # sla_first_response_s
        sla_fr[1],  # sla_first_response_business_s
        sla_res[0],  # sla_resolution_s
        sla_res[1],  # sla_resolution_business_s
    )


def agent_interval_row(prev: AgentState | None, new: AgentState) -> dict | None:
    """`agent_interval_values` by column name."""
    values = agent_interval_values(prev, new)
    return None if values is None else dict(zip(AGENT_STATE_COLUMNS, values))


def agent_interval_values(prev: AgentState | None, new: AgentState) -> tuple | None:
    """The interval `prev` finished when `new` started, in AGENT_STATE_COLUMNS order, or None
    when no interval finished (first state seen, capacity-only update, or a zero/negative-length
    interval)."""
    if prev is None or new.since <= prev.since:
        return None
    return (prev.agent, prev.state, prev.reason, prev.since, new.since, new.since - prev.since)
