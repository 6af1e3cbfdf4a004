"""The incremental live index against live_view.partial (itself checked against a brute force
in test_live_view.py): same partial after any sequence of events, reads at any instants (later,
earlier, before pruned entries), prunes and evictions; and the worker's partials come from it."""
from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pipeline.live.contact_state import ParkingLot, apply_parked
from pipeline.live.live_index import LiveIndex
from pipeline.live.live_view import merge, partial
from tests.pipeline.live.test_live_view import SETTINGS, T0, histories
from tests.pipeline.live.test_worker_state import CALL, T0 as WT0, ev, records, state


def _same(idx: LiveIndex, contacts: dict, now: float) -> None:
    got = orjson.loads(orjson.dumps(idx.partial(now, [])))
    want = orjson.loads(orjson.dumps(partial(contacts.values(), [], now, SETTINGS)))
    assert got == want, now


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_index_partial_equals_the_partial_over_all_contacts(h, data):
    contact_events, arrival, _agents, instants = h
    contacts: dict = {}
    idx = LiveIndex(SETTINGS, contacts.values)
    lot = ParkingLot(timeout_s=1e9)
    reads = set(data.draw(st.lists(st.integers(0, len(arrival) - 1), max_size=6)))
    for i, e in enumerate(arrival):
        before = idx.previous(contacts.get(e.subject))  # as the worker: the footprint kept on the state
        new, _ = apply_parked(contacts.get(e.subject), e, lot, 0.0)
        if new is not None:
            contacts[e.subject] = new
            idx.update(before, new)
        if i in reads:
            # any instant: the clock may step back, land before or after the events so far
            now = data.draw(st.sampled_from(instants + [e.time, e.time - 1.5, e.time + 1800]))
            if data.draw(st.booleans()):
                idx.prune(now)
            _same(idx, contacts, now)
            if data.draw(st.booleans()):  # evict an ended contact (the worker's housekeeping)
                ended = [c for c in contacts.values() if c.ended]
                if ended:
                    gone = data.draw(st.sampled_from(ended))
                    idx.remove(contacts.pop(gone.contact_id))
    for now in instants:  # time moving forward, as on a worker
        _same(idx, contacts, now)
    _same(idx, contacts, instants[0])  # and back


def test_windows_slide_and_roll_over_at_midnight_without_visiting_contacts():
    contacts: dict = {}
    idx = LiveIndex(SETTINGS, contacts.values)
    lot = ParkingLot()
    from pipeline.schemas.event import Event
    for i in range(3):
        e = Event(f"e{i}", "contact.created", T0 + 600 * i, f"c{i}", "t", {"channel": "voice", "queue": "billing"})
        contacts[e.subject], _ = apply_parked(None, e, lot, 0.0)
        idx.add(contacts[e.subject])
    # T0 is 23:00 Madrid on 2026-03-28: contacts at 23:00, 23:10, 23:20
    for now in (T0 + 1200, T0 + 1800, T0 + 2400, T0 + 3000, T0 + 3600 + 1, T0 + 9000):
        _same(idx, contacts, now)
    assert idx.prune(T0 + 9000) == 3  # all three are before both windows now
    _same(idx, contacts, T0 + 9100)
    _same(idx, contacts, T0 + 1300)  # a read before the pruned entries recomputes them
    assert idx.pruned_before == float("-inf")


def test_worker_partials_come_from_the_index_and_merge_like_before():
    ws = state()
    ws.process(records(CALL[:1]), WT0)
    p = ws.partial(0, WT0 + 5)
    ps = ws.partitions[0]
    assert p == partial(ps.states(), ps.agents.values(), WT0 + 5, ws.queue_settings)
    view = merge([p], WT0 + 30, ws.queue_settings)
    row = next(r for r in view["queues"] if r["queue"] == "billing")
    assert (row["waiting"], row["breached"]) == (1, 1)
    ws.process(records(CALL[1:] + [ev("c2-1", "contact.created", WT0 + 300, "c2", channel="email", queue="x")],
                       first_offset=1), WT0 + 400)
    for now in (WT0 + 400, WT0 + 86400 * 9):  # the second after housekeeping evicted the call
        if now > WT0 + 400:
            ws.housekeeping(now)
            assert "c1" not in ps.contacts and "c2" in ps.contacts
        assert ws.partial(0, now) == partial(ps.states(), ps.agents.values(), now, ws.queue_settings)
