"""Contact state machine: outcomes, order independence, idempotency, parking, changelog form."""
from __future__ import annotations

import random

import orjson
import pytest

from pipeline.history.contact_facts import fact_row
from pipeline.live.contact_state import (
    APPLIED, DUPLICATE, DUPLICATE_CONFLICT, PARKED, REJECTED, AgentState, ContactState, ParkingLot,
    apply, apply_agent, apply_parked, replay,
)
from pipeline.schemas.event import Event

T = 1_780_000_000.0


def ev(i, dt, kind, subject="c1", **data) -> Event:
    return Event(f"e{i}", f"contact.{kind}", T + dt, subject, "test", data)


EMAIL = [
    ev(1, 0, "created", channel="email", queue="support", customer="cu1", tags=["b", "a"]),
    ev(2, 60, "assigned", agent="a1"),
    ev(3, 120, "opened", agent="a1"),
    ev(4, 300, "agent_replied", agent="a1"),
    ev(5, 1000, "customer_replied"),
    ev(6, 1100, "customer_replied"),
    ev(7, 1500, "opened", agent="a2"),
    ev(8, 1600, "agent_replied", agent="a2"),
    ev(9, 1700, "snoozed", until=T + 5000),
    ev(10, 2000, "closed", agent="a2"),
    ev(11, 3000, "reopened"),
    ev(12, 3100, "transferred", to_queue="billing-email"),
    ev(13, 3200, "tagged", tags=["c"]),
    ev(14, 3300, "closed", agent="a2"),
    ev(15, 3400, "rated", score=4),
]
VOICE = [
    ev(21, 0, "created", "v1", channel="voice", queue="billing"),
    ev(22, 5, "assigned", "v1", agent="a1"),
    ev(23, 8, "answered", "v1", agent="a1"),
    ev(24, 30, "held", "v1"),
    ev(25, 40, "resumed", "v1"),
    ev(26, 60, "transferred", "v1", to_queue="sales"),
    ev(27, 70, "answered", "v1", agent="a2"),
    ev(28, 190, "closed", "v1", agent="a2"),
]


def run(events):
    s = None
    outs = []
    for e in events:
        s, o = apply(s, e)
        outs.append(o)
    return s, outs


def test_email_lifecycle_derives_glossary_fields():
    s, outs = run(EMAIL)
    assert all(o.kind == APPLIED for o in outs)
    row = fact_row(s)
    assert row["version"] == 15
    assert row["queue"] == "billing-email" and row["tags"] == ["a", "b", "c"]
    assert row["first_response_s"] == 300.0
    assert row["response_times_s"] == [300.0, 600.0]  # oldest unanswered message -> next reply
    assert row["customer_messages"] == 3 and row["replies"] == 2
    assert row["handle_s"] == 180.0 + 100.0  # opened -> reply, summed
    assert row["reopened"] == 1 and row["transfers"] == 1 and row["csat"] == 4
    assert row["closed"] == T + 3300 and row["resolution_s"] == 3300.0
    assert row["agents"] == ["a1", "a2"] and row["agent"] == "a2"
    assert row["is_answered"] == 1 and row["answered"] is None and row["wait_s"] is None


def test_voice_lifecycle_with_transfer():
    s, outs = run(VOICE)
    assert [o.kind for o in outs] == [APPLIED] * 8
    row = fact_row(s)
    assert (row["wait_s"], row["first_response_s"], row["handle_s"]) == (8.0, 8.0, 52.0 + 120.0)
    assert row["queue"] == "sales" and row["transfers"] == 1 and row["is_closed"] == 1


def test_waiting_rules():
    s, _ = run(EMAIL[:1])
    assert s.waiting_since(T) == T
    s, _ = run(EMAIL[:4])
    assert s.waiting_since(T + 400) is None
    s, _ = run(EMAIL[:6])
    assert s.waiting_since(T + 1200) == T + 1000  # a second message keeps the wait's start
    s, _ = run(EMAIL[:9])
    assert s.waiting_since(T + 4999) is None and s.waiting_since(T + 5000) == T + 5000
    s, _ = run(EMAIL[:12])
    assert s.waiting_since(T + 3150) == T + 3100 and s.assignee == ""  # transfer to a queue


@pytest.mark.parametrize("seed", range(20))
def test_any_arrival_order_gives_the_same_state(seed):
    rnd = random.Random(seed)
    events = EMAIL + VOICE
    shuffled = events[:]
    rnd.shuffle(shuffled)
    expected = {"c1": run(EMAIL)[0], "v1": run(VOICE)[0]}
    assert replay("c1", [e for e in shuffled if e.subject == "c1"]) == expected["c1"]
    assert replay("v1", [e for e in shuffled if e.subject == "v1"]) == expected["v1"]


def test_idempotent_duplicates_and_conflicts():
    s, _ = run(EMAIL)
    row = fact_row(s)
    s2, outs = run(EMAIL + EMAIL)
    assert outs[15:] == [(DUPLICATE, "")] * 15
    assert s2 == s and fact_row(s2) == row
    doubled = [e for e in EMAIL for _ in (0, 1)]
    assert replay("c1", doubled) == s
    changed = Event("e4", "contact.agent_replied", T + 301, "c1", "test", {"agent": "a1"})
    s3, out = apply(s, changed)
    assert out.kind == DUPLICATE_CONFLICT and fact_row(s3) == row  # first wins


@pytest.mark.parametrize("events,bad,reason", [
    (VOICE[:3], ev(30, 9, "answered", "v1", agent="a1"), "already_answered"),
    (VOICE, ev(30, 200, "answered", "v1", agent="a3"), "contact_closed"),
    (VOICE, ev(30, 200, "closed", "v1"), "contact_closed"),
    (VOICE[:3], ev(30, 20, "reopened", "v1"), "contact_not_closed"),
    (VOICE[:2], ev(30, 20, "held", "v1"), "not_answered"),
    (VOICE[:3], ev(30, 20, "resumed", "v1"), "not_held"),
])
def test_state_dependent_violations_park_with_reason(events, bad, reason):
    s, _ = run(events)
    s2, out = apply(s, bad)
    assert out == (PARKED, reason) and s2 == s


@pytest.mark.parametrize("events,bad,reason", [
    (VOICE[:1], ev(30, 1, "created", "v1", channel="voice", queue="x"), "duplicate_created"),
    (VOICE[:1], ev(30, -1, "assigned", "v1", agent="a1"), "before_created"),
    (VOICE[:1], ev(30, 1, "agent_replied", "v1", agent="a1"), "wrong_channel"),
    (EMAIL[:1], ev(30, 1, "answered", agent="a1"), "wrong_channel"),
    (EMAIL[:1], ev(30, 10, "snoozed", until=T + 10), "snooze_in_past"),
])
def test_order_independent_violations_are_rejected(events, bad, reason):
    s, _ = run(events)
    s2, out = apply(s, bad)
    assert out == (REJECTED, reason) and s2 == s


@pytest.mark.parametrize("evs", [
    VOICE + [ev(31, 300, "reopened", "v1"), ev(32, 310, "answered", "v1", agent="a1")],
    # work at the reopen's own instant, on a contact closed before it: the reopen folds first
    EMAIL[:10] + [ev(40, 2500, "reopened"), ev(41, 2500, "assigned", agent="a3")],
], ids=["answered-after-the-reopen", "assigned-at-the-reopen's-instant"])
def test_work_before_its_reopen_arrives_waits_in_the_lot(evs):
    lot = ParkingLot(timeout_s=60)
    s = None
    for e in evs[:-2] + [evs[-1]]:
        s, res = apply_parked(s, e, lot, 0.0)
    assert res == [(evs[-1], (PARKED, "contact_closed"))] and len(lot) == 1
    s, res = apply_parked(s, evs[-2], lot, 1.0)
    assert [o.kind for _, o in res] == [APPLIED, APPLIED] and len(lot) == 0
    assert s == run(evs)[0]


def test_unknown_contact_parks_then_applies_on_created():
    lot = ParkingLot(timeout_s=60)
    s, res = apply_parked(None, VOICE[2], lot, 0.0)
    assert s is None and res[0][1] == (PARKED, "unknown_contact")
    s, res = apply_parked(None, VOICE[2], lot, 1.0)  # redelivered while parked
    assert res[0][1].kind == DUPLICATE and len(lot) == 1
    s, res = apply_parked(None, VOICE[0], lot, 2.0)
    assert [(e.id, o.kind) for e, o in res] == [("e21", APPLIED), ("e23", APPLIED)]
    assert s.answered == T + 8 and len(lot) == 0


def test_parking_timeout_returns_events_for_dead_letters():
    lot = ParkingLot(timeout_s=60)
    e = ev(40, 0, "assigned", "ghost", agent="a1")
    apply_parked(None, e, lot, 100.0)
    assert lot.expire(159.9) == [] and len(lot) == 1
    assert lot.expire(160.0) == [(e, "unknown_contact")] and len(lot) == 0
    # a retried event that is parked again keeps its first parking time
    lot = ParkingLot(timeout_s=60)
    s, _ = run(VOICE)
    late = ev(41, 400, "answered", "v1", agent="a1")
    apply_parked(s, late, lot, 100.0)
    s, _ = apply_parked(s, ev(42, 500, "tagged", "v1", tags=["x"]), lot, 150.0)
    assert lot.expire(160.0) == [(late, "contact_closed")]


def test_parking_lot_capacity_and_serialization():
    lot = ParkingLot(timeout_s=60, max_events=1)
    _, res = apply_parked(None, ev(50, 0, "assigned", "g1", agent="a"), lot, 0.0)
    _, res2 = apply_parked(None, ev(51, 0, "assigned", "g2", agent="a"), lot, 0.0)
    assert res[0][1].kind == PARKED and res2[0][1].kind == REJECTED
    lot2 = ParkingLot.from_list(orjson.loads(orjson.dumps(lot.to_list())), timeout_s=60)
    assert lot2.expire(60.0) == [(ev(50, 0, "assigned", "g1", agent="a"), "unknown_contact")]


def test_changelog_round_trip_is_exact_and_compact():
    for events in (EMAIL, VOICE):
        s, _ = run(events)
        d = orjson.loads(orjson.dumps(s.to_dict()))
        back = ContactState.from_dict(d)
        assert back == s and fact_row(back) == fact_row(s)
        for e in events:  # dedup still works after a restart
            assert apply(back, e)[1].kind == DUPLICATE


def test_beyond_the_sorted_bound_events_fold_in_arrival_order():
    s, _ = run(EMAIL[:1])
    for i in range(5):
        s, out = apply(s, ev(100 + i, 100 - i, "customer_replied"), max_sorted=3)
        assert out.kind == APPLIED
    # sorted while under the bound (e101 is earlier than e100), then appended as they came
    assert [e[2] for e in s.events] == ["e1", "e101", "e100", "e102", "e103", "e104"]
    s2, out = apply(s, ev(200, 1000, "tagged", tags=["x"]), max_events=6)
    assert out == (REJECTED, "contact_event_limit")


def test_agent_state_rules():
    a, o = apply_agent(None, Event("g1", "agent.state_changed", T, "a1", "t",
                                   {"state": "available", "capacity": {"voice": 1}}))
    assert o.kind == APPLIED and a.since == T
    b, o = apply_agent(a, Event("g2", "agent.state_changed", T + 5, "a1", "t",
                                {"state": "available", "capacity": {"voice": 2}}))
    assert (b.since, b.capacity) == (T, {"voice": 2})  # capacity only: the interval goes on
    c, o = apply_agent(b, Event("g3", "agent.state_changed", T + 9, "a1", "t", {"state": "busy"}))
    assert (c.state, c.since, c.capacity) == ("busy", T + 9, {"voice": 2})
    assert apply_agent(c, Event("g2", "agent.state_changed", T + 5, "a1", "t", {"state": "available"}))[1].kind == DUPLICATE
    assert apply_agent(c, Event("g4", "agent.state_changed", T + 1, "a1", "t", {"state": "away"}))[1] == (
        REJECTED, "stale_agent_state")
    assert AgentState.from_dict(orjson.loads(orjson.dumps(c.to_dict()))) == c


def test_contacts_with_the_same_tags_share_one_tuple_and_unique_tags_are_not_remembered():
    from pipeline.live import contact_state

    def created(i, tags):
        return apply(None, ev(i, 0, "created", f"t{i}", channel="chat", queue="q", tags=tags))[0]

    a, b = created(1, ["vip", "es"]), created(2, ["es", "vip", "es"])
    assert a.tags == b.tags == ("es", "vip") and a.tags is b.tags
    restored = ContactState.from_dict(orjson.loads(orjson.dumps(a.to_dict())))
    assert restored == a and restored.tags is a.tags  # a state read back shares it too
    tagged, _ = apply(a, ev(3, 5, "tagged", "t1", tags=["gold"]))
    assert tagged.tags == ("es", "gold", "vip")
    # the memo is bounded: past its size, sets are still right, just not shared
    memo = contact_state._TAG_SETS
    saved = dict(memo)
    try:
        memo.update({(f"x{i}",): (f"x{i}",) for i in range(contact_state._MAX_TAG_SETS)})
        one, two = created(4, ["order-1"]), created(5, ["order-1"])
        assert one.tags == two.tags == ("order-1",) and one.tags is not two.tags
        assert len(memo) == contact_state._MAX_TAG_SETS + len(saved)
    finally:
        memo.clear()
        memo.update(saved)


# A reopen and the work it starts at the same instant: what the simulator and second-precision
# sources give (the three-workers system test once parked such an assignment for ever).
SAME_INSTANT = EMAIL[:10] + [
    ev(40, 3000, "reopened"), ev(41, 3000, "assigned", agent="a3"), ev(42, 3000, "customer_replied"),
    ev(43, 3000, "tagged", tags=["d"]), ev(44, 3500, "agent_replied", agent="a3"),
    ev(45, 3500, "closed", agent="a3"), ev(46, 3500, "reopened"),  # a close and its reopen at once
    ev(47, 3550, "closed", agent="a3"),
    ev(48, 3600, "reopened"), ev(49, 3600, "closed", agent="a3"),  # ...and a reopen closed at once
]


def test_work_at_the_instant_of_its_reopen_applies():
    s, outs = run(SAME_INSTANT)
    assert [o.kind for o in outs] == [APPLIED] * len(SAME_INSTANT)
    assert s.assignee == "a3" and s.reopened == 3 and s.closed == T + 3600 and s.ended
    assert s.response_times[-1] == 500 and "d" in s.tags
    assert [e[2] for e in s.events[10:14]] == ["e40", "e43", "e41", "e42"]  # the reopen folds first


@pytest.mark.parametrize("seed", range(30))
def test_same_instant_reopens_give_the_same_state_in_any_arrival_order(seed):
    shuffled = SAME_INSTANT[:]
    random.Random(seed).shuffle(shuffled)
    s = replay("c1", shuffled)
    assert s == run(SAME_INSTANT)[0]
    assert ContactState.from_dict(orjson.loads(orjson.dumps(s.to_dict()))) == s
