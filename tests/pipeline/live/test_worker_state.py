"""The worker's batch step without Kafka or ClickHouse: what becomes a dead letter, a row,
a changelog entry; restarts from the changelog; parking and eviction."""
from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.live.queue_settings import load_queue_settings
from pipeline.live.worker_state import CONTACT, LOT, EndedContact, Record, WorkerState, decode_partition

T0 = 1_780_000_000.0  # 2026-05-28, a fixed instant


def ev(eid: str, typ: str, t: float, subject: str, **data) -> bytes:
    from datetime import datetime, timezone
    return orjson.dumps({"specversion": "1.0", "id": eid, "source": "test", "type": typ,
                         "time": datetime.fromtimestamp(t, timezone.utc).isoformat(), "subject": subject,
                         "data": data})


def records(values: list[bytes], partition: int = 0, first_offset: int = 0) -> list[Record]:
    return [Record(b"k", v, partition, first_offset + i) for i, v in enumerate(values)]


def state(**kw) -> WorkerState:
    return WorkerState(load_queue_settings(None, "UTC"), parking_timeout_s=60, **kw)


CALL = [ev("c1-1", "contact.created", T0, "c1", channel="voice", queue="billing"),
        ev("c1-2", "contact.answered", T0 + 12, "c1", agent="ana"),
        ev("c1-3", "contact.closed", T0 + 200, "c1", agent="ana")]


def test_invalid_bytes_become_dead_letters_with_their_position():
    ws = state()
    bad = [b"\xff\xfe", b"[1,2]", b'{"type":"contact.created"}', ev("x", "contact.exploded", T0, "c9")]
    out = ws.process(records(bad, partition=3, first_offset=40), T0)
    assert [d.code for d in out.dead_letters] == ["not_utf8", "not_object", "invalid_field", "unknown_type"]
    assert [d.value for d in out.dead_letters] == bad
    assert [(d.partition, d.offset) for d in out.dead_letters] == [(3, 40), (3, 41), (3, 42), (3, 43)]
    assert not out.rows and not out.changelog


def test_a_call_gives_event_rows_one_fact_row_and_a_changelog_entry():
    ws = state()
    out = ws.process(records(CALL), T0 + 300)
    assert out.applied == 3 and not out.dead_letters
    assert [r["id"] for r in out.rows.dicts("events")] == ["c1-1", "c1-2", "c1-3"]
    assert all(r["queue"] == "billing" and r["channel"] == "voice" for r in out.rows.dicts("events"))
    (fact,) = out.rows.dicts("contacts")
    assert (fact["contact_id"], fact["version"], fact["wait_s"], fact["handle_s"]) == ("c1", 3, 12.0, 188.0)
    assert [key for _, key, _ in out.changelog] == [CONTACT + b"c1"]
    assert out.rows.dedup_token == "0:0-2"


def test_redelivery_changes_no_state_but_lands_the_same_rows_again():
    ws = state()
    first = ws.process(records(CALL), T0 + 300)
    again = ws.process(records(CALL), T0 + 301)
    assert again.applied == 0 and again.duplicates == 3 and not again.dead_letters
    assert again.rows.contacts == first.rows.contacts          # identical: ReplacingMergeTree keeps one
    assert [r["id"] for r in again.rows.dicts("events")] == ["c1-1", "c1-2", "c1-3"]


def test_same_id_with_other_content_is_a_dead_letter():
    ws = state()
    ws.process(records(CALL[:1]), T0)
    conflict = ev("c1-1", "contact.created", T0 + 5, "c1", channel="chat", queue="support")
    out = ws.process(records([conflict], first_offset=9), T0 + 10)
    assert [d.code for d in out.dead_letters] == ["duplicate_conflict"]
    assert out.dead_letters[0].value == conflict


def test_restart_from_the_changelog_restores_the_same_state():
    ws = state()
    out = ws.process(records(CALL[:2] + [ev("a1", "agent.state_changed", T0, "ana", state="busy")]), T0 + 30)
    restored = state()
    for partition, key, value in out.changelog:
        assert decode_partition(value) == partition == 0
        restored.load(partition, key, value)
    assert restored.partial(0, T0 + 30) == ws.partial(0, T0 + 30)
    # and the restored worker still recognises the events it had applied
    assert restored.process(records(CALL[:2]), T0 + 31).duplicates == 2


def test_events_before_their_contact_wait_then_apply():
    ws = state()
    early = ws.process(records(CALL[1:2]), T0 + 20)
    assert early.parked == 1 and not early.dead_letters and not early.rows
    assert any(key.startswith(LOT) for _, key, _ in early.changelog)
    later = ws.process(records(CALL[:1], first_offset=5), T0 + 21)
    assert later.applied == 2
    assert later.rows.dicts("contacts")[0]["answered"] == T0 + 12
    assert sorted(r["kafka_offset"] for r in later.rows.dicts("events")) == [0, 5]   # the parked one keeps its offset


def test_parked_events_past_the_timeout_go_to_dead_letters_with_the_original_bytes():
    ws = state()
    orphan = ev("z-2", "contact.answered", T0, "nobody", agent="ana")
    ws.process(records([orphan], first_offset=3), T0)
    assert not ws.housekeeping(T0 + 59).dead_letters
    (dl,) = ws.housekeeping(T0 + 61).dead_letters
    assert (dl.code, dl.value, dl.offset) == ("unknown_contact", orphan, 3)


def test_a_closed_call_answered_again_waits_for_a_reopen_then_is_dead_lettered():
    ws = state()
    ws.process(records(CALL), T0 + 300)
    again = ev("c1-9", "contact.answered", T0 + 400, "c1", agent="bob")
    out = ws.process(records([again], first_offset=7), T0 + 400)
    assert out.parked == 1 and not out.dead_letters
    (dl,) = ws.housekeeping(T0 + 500).dead_letters
    assert dl.code == "contact_closed" and dl.value == again


def test_an_ended_contact_rests_as_its_changelog_value_and_an_open_one_stays_whole():
    ws = state()
    out = ws.process(records(CALL + [ev("c2-1", "contact.created", T0, "c2", channel="email", queue="x")]), T0 + 300)
    ps = ws.partitions[0]
    changelog = {key: value for _, key, value in out.changelog}
    assert type(ps.contacts["c1"]) is EndedContact and ps.contacts["c1"].value == changelog[CONTACT + b"c1"]
    assert type(ps.contacts["c2"]).__name__ == "ContactState"
    (whole,) = [s for s in ps.states() if s.contact_id == "c1"]
    assert (whole.version, whole.closed, whole.handle_ms) == (3, T0 + 200, 188_000)
    # and so after a restart
    restored = state()
    for partition, key, value in out.changelog:
        restored.load(partition, key, value)
    assert type(restored.partitions[0].contacts["c1"]) is EndedContact
    assert type(restored.partitions[0].contacts["c2"]).__name__ == "ContactState"
    assert restored.partial(0, T0 + 301) == ws.partial(0, T0 + 301)


def _facts_and_changelog(out) -> tuple:
    return ([{k: v for k, v in r.items()} for r in out.rows.dicts("contacts")],
            [(k, orjson.loads(v)) for _, k, v in out.changelog])


@given(st.lists(st.sampled_from(["rated", "duplicate", "answered_again", "reopened"]), min_size=1, max_size=4),
       st.booleans())
@settings(max_examples=40, deadline=None)
def test_events_after_the_end_thaw_it_into_what_the_whole_state_gives(later, restart):
    """A rating, a redelivery, an event that must wait (answered on a closed call) and a reopen,
    in later batches: every batch's rows and changelog, the live partial and the dead letters
    equal those of a worker that kept the whole state (its contacts compared as dicts)."""
    extra = {"rated": lambda i: ev(f"r{i}", "contact.rated", T0 + 300 + i, "c1", score=4),
             "duplicate": lambda i: CALL[1],
             "answered_again": lambda i: ev(f"a{i}", "contact.answered", T0 + 300 + i, "c1", agent="bob"),
             "reopened": lambda i: ev(f"o{i}", "contact.reopened", T0 + 300 + i, "c1")}
    rest, whole = state(), state()
    first = rest.process(records(CALL), T0 + 250)
    whole.process(records(CALL), T0 + 250)
    if restart:  # the resting form read back from the changelog
        rest = state()
        for partition, key, value in first.changelog:
            rest.load(partition, key, value)
    for i, kind in enumerate(later):
        batch = records([extra[kind](i)], first_offset=10 + i)
        got = rest.process(batch, T0 + 400 + i)
        for ps in whole.partitions.values():  # the reference never rests
            ps.contacts.update({cid: c.thaw() for cid, c in ps.contacts.items() if type(c) is EndedContact})
        want = whole.process(batch, T0 + 400 + i)
        assert _facts_and_changelog(got) == _facts_and_changelog(want)
        assert [d.code for d in got.dead_letters] == [d.code for d in want.dead_letters]
        assert rest.partial(0, T0 + 500) == whole.partial(0, T0 + 500)
        c = rest.partitions[0].contacts["c1"]
        assert (type(c) is EndedContact) == c.ended  # at rest exactly when ended
    assert ([s.to_dict() for s in rest.partitions[0].states()] ==
            [s.to_dict() for s in whole.partitions[0].states()])


def test_an_event_that_applies_to_nothing_leaves_the_contact_at_rest_untouched():
    ws = state()
    ws.process(records(CALL), T0 + 300)
    resting = ws.partitions[0].contacts["c1"]
    out = ws.process(records([ev("c1-9", "contact.answered", T0 + 400, "c1", agent="bob")], first_offset=7), T0 + 400)
    assert out.parked == 1 and ws.partitions[0].contacts["c1"] is resting


def test_ended_contacts_leave_memory_after_the_dedup_retention():
    ws = state(dedup_retention_s=3600)
    ws.process(records(CALL), T0 + 300)
    assert "c1" in ws.partitions[0].contacts
    out = ws.housekeeping(T0 + 300 + 86400 * 2)
    assert "c1" not in ws.partitions[0].contacts
    assert (0, CONTACT + b"c1", None) in out.changelog


def test_agent_intervals_become_rows():
    ws = state()
    out = ws.process(records([ev("a1", "agent.state_changed", T0, "ana", state="available"),
                              ev("a2", "agent.state_changed", T0 + 90, "ana", state="busy")]), T0 + 100)
    assert out.rows.dicts("agent_states") == [{"agent": "ana", "state": "available", "reason": "", "start": T0,
                                      "end": T0 + 90, "duration_s": 90.0}]


def test_ended_contacts_of_today_stay_until_the_next_day():
    ws = state(dedup_retention_s=60)
    day = 1_780_012_800.0  # 2026-05-29 00:00 UTC
    ws.process(records([ev("t-1", "contact.created", day + 3600, "t", channel="chat", queue="q"),
                        ev("t-2", "contact.abandoned", day + 3610, "t")]), day + 3610)
    for now in (day + 3700, day + 7300, day + 86399):  # past the retention and the 30 minutes: today's
        ws.housekeeping(now)
        assert "t" in ws.partitions[0].contacts
    out = ws.housekeeping(day + 86400)
    assert "t" not in ws.partitions[0].contacts and (0, CONTACT + b"t", None) in out.changelog


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_housekeeping_evicts_exactly_what_a_scan_of_every_contact_would(data):
    # the eviction queue against the rule applied to every contact (what housekeeping did before)
    from pipeline.live.live_view import is_evictable

    retention = 60.0
    ws = state(dedup_retention_s=retention)
    now = 1_780_000_000.0 + data.draw(st.floats(0, 86400))
    kinds = ["contact.created", "contact.abandoned", "contact.closed", "contact.reopened", "contact.rated"]
    n, sent = 0, []
    for _ in range(data.draw(st.integers(1, 25))):
        now += data.draw(st.sampled_from([0.0, 20.0, 45.0, 61.0, 2000.0, 90000.0]))
        if data.draw(st.booleans()):
            cid = f"c{data.draw(st.integers(0, 4))}"
            kind = data.draw(st.sampled_from(kinds))
            t = now - data.draw(st.sampled_from([0.0, 3000.0, 90000.0]))  # event time, may be old
            n += 1
            extra = {"channel": "chat", "queue": "q"} if kind == "contact.created" else (
                {"score": 4} if kind == "contact.rated" else {})
            value = ev(f"e{n}", kind, t, cid, **extra)
            if sent and data.draw(st.booleans()):
                value = data.draw(st.sampled_from(sent))  # a redelivery: a duplicate moves last_seen only
            sent.append(value)
            ws.process(records([value], first_offset=n), now)
        else:
            ps = ws.partitions.get(0)
            if ps is None:
                continue
            cutoff = now - retention
            want = {cid for cid, s in ps.contacts.items()
                    if s.ended and ps.last_seen.get(cid, now) <= cutoff and is_evictable(s, now, ws.queue_settings.tz)}
            before = set(ps.contacts)
            ws.housekeeping(now)
            assert before - set(ps.contacts) == want


def test_a_contact_seen_again_stays_for_the_retention_from_then():
    ws = state(dedup_retention_s=60)
    old = T0 - 90000  # events of an earlier day: only the retention holds the contact
    closed = [ev("o-1", "contact.created", old, "o", channel="chat", queue="q"),
              ev("o-2", "contact.abandoned", old + 5, "o")]
    ws.process(records(closed), T0)
    ws.process(records(closed[1:], first_offset=2), T0 + 40)  # redelivered: a duplicate, seen again
    ws.housekeeping(T0 + 61)
    assert "o" in ws.partitions[0].contacts  # 21 s since last seen
    ws.housekeeping(T0 + 101)
    assert "o" not in ws.partitions[0].contacts


def test_a_round_checks_a_bounded_number_of_contacts(monkeypatch):
    from pipeline.live import worker_state
    monkeypatch.setattr(worker_state, "EVICTION_CHECKS_PER_ROUND", 2)
    ws = state(dedup_retention_s=60)
    calls = [v for i in range(5) for v in (ev(f"c{i}-1", "contact.created", T0, f"c{i}", channel="chat", queue="q"),
                                           ev(f"c{i}-2", "contact.abandoned", T0 + 1, f"c{i}"))]
    ws.process(records(calls), T0 + 2)
    later = T0 + 3 * 86400
    left = [len(ws.partitions[0].contacts) for _ in range(4) if ws.housekeeping(later) or True]
    assert left == [3, 1, 0, 0]  # all due at once: two per round, the rest in the next rounds


def test_a_batch_validated_ahead_gives_exactly_what_validating_as_it_goes_gives():
    # the event stream validates a batch while the previous landing runs (agents/process.py)
    bad = [b"\xff\xfe", ev("x", "contact.exploded", T0, "c9")]
    batch = records([CALL[0], bad[0], CALL[1], bad[1], CALL[2], CALL[1]])
    as_it_goes, ahead = state(), state()
    one = as_it_goes.process(batch, T0 + 300)
    validated = ahead.validated(batch)
    two = ahead.process(batch, T0 + 300, validated)
    assert validated == []  # consumed: each event let go once applied
    assert (one.applied, one.duplicates) == (two.applied, two.duplicates) == (3, 1)
    assert [(d.code, d.offset) for d in one.dead_letters] == [(d.code, d.offset) for d in two.dead_letters]
    assert list(one.rows.tables()) == list(two.rows.tables())
    assert one.changelog == two.changelog and one.partitions == two.partitions
