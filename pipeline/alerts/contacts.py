"""Contact facts for contact rules, from the worker's contact state records. Pure.

The alert evaluator follows the compacted `tablero.state` topic (one record per contact, written by
the worker after every batch that touched it; a tombstone when the contact is evicted) and keeps
one small `ContactFacts` per contact that a contact rule could ever need: open contacts and
contacts with a rating. Everything else is dropped at once.

"Untouched" (the 24-hour escalation): an open contact, assigned or waiting, on which no agent has
worked since `untouched_since`. The clock starts at the contact's creation and restarts at every
agent action on it (answered, opened, agent_replied, resumed) and when it enters a new stretch of
responsibility (reopened, transferred to another queue or agent). Being *assigned* (distributed)
is not work: an email distributed and never opened for 24 hours is exactly what the rule is for.
A snoozed contact is not untouched before its `until`.
"""
from __future__ import annotations

from pipeline.alerts.engine import ContactFacts
from pipeline.live.contact_state import (
    AGENT_REPLIED, ANSWERED, CREATED, OPENED, RATED, REOPENED, RESUMED, TRANSFERRED, ContactState,
)

_RESTART = frozenset({CREATED, ANSWERED, OPENED, AGENT_REPLIED, RESUMED, REOPENED, TRANSFERRED})


def facts_from_state(s: ContactState) -> ContactFacts | None:
    """The facts contact rules use, or None when no contact rule can concern this contact
    (ended and never rated)."""
    since = None
    rated_at = None
    for t, _rank, _id, typ, _arg in s.events:
        if typ in _RESTART:
            since = t if since is None or t > since else since
        elif typ == RATED:
            rated_at = t if rated_at is None or t > rated_at else rated_at
    if s.ended and s.csat is None:
        return None
    return ContactFacts(
        contact=s.contact_id, channel=s.channel, queue=s.queue, agent=s.assignee or s.agent,
        open=not s.ended, untouched_since=None if s.ended else since,
        snooze_until=s.snooze_until, csat=s.csat, rated_at=rated_at if s.csat is not None else None)


def facts_from_record(value: dict) -> ContactFacts | None:
    """`value` is a decoded `c:<contact>` state record ({"p": partition, "c": state dict})."""
    return facts_from_state(ContactState.from_dict(value["c"]))
