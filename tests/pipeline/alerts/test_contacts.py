"""Contact facts from the worker's state records: the untouched clock and ratings."""
from __future__ import annotations

from pipeline.alerts.contacts import facts_from_record, facts_from_state
from pipeline.live.contact_state import ContactState

T0 = 1_800_000_000.0


def state(*events) -> ContactState:
    return ContactState.from_dict({"c": "m-1", "e": [list(e) for e in events]})


CREATED = (T0, "e1", "contact.created", ["email", "support-email", "cust", 0, []])


def test_assignment_is_not_work_opening_is():
    f = facts_from_state(state(CREATED, (T0 + 60, "e2", "contact.assigned", "ana")))
    assert (f.open, f.untouched_since, f.agent, f.queue, f.channel) == (True, T0, "ana", "support-email", "email")
    f = facts_from_state(state(CREATED, (T0 + 60, "e2", "contact.assigned", "ana"),
                               (T0 + 90, "e3", "contact.opened", "ana")))
    assert f.untouched_since == T0 + 90


def test_transfer_and_reopen_restart_the_clock_customer_reply_does_not():
    f = facts_from_state(state(CREATED, (T0 + 10, "e2", "contact.agent_replied", "ana"),
                               (T0 + 20, "e3", "contact.customer_replied", None)))
    assert f.untouched_since == T0 + 10
    f = facts_from_state(state(CREATED, (T0 + 30, "e2", "contact.transferred", ["second-line", ""])))
    assert (f.untouched_since, f.queue) == (T0 + 30, "second-line")


def test_snooze_is_carried():
    f = facts_from_state(state(CREATED, (T0 + 5, "e2", "contact.snoozed", T0 + 3600)))
    assert f.snooze_until == T0 + 3600 and f.open


def test_closed_contacts_matter_only_when_rated():
    closed = (T0 + 50, "e2", "contact.closed", "ana")
    assert facts_from_state(state(CREATED, closed)) is None
    f = facts_from_record({"p": 0, "c": {"c": "m-1", "e": [list(CREATED), list(closed),
                                                           [T0 + 70, "e3", "contact.rated", 1]]}})
    assert (f.open, f.untouched_since, f.csat, f.rated_at, f.agent) == (False, None, 1, T0 + 70, "ana")
