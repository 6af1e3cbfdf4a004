"""Email backlog model on a hand-worked case (numbers worked out in the comments)."""
from __future__ import annotations

import pytest

from pipeline.planning import backlog

# 1-hour intervals, 10-minute handle time, 2-hour deadline (d = 2: an item of interval i is due by
# the end of interval i + 1). Arrivals 6, 0, 12, 0 items = 3600, 0, 7200, 0 seconds of work.
VOL, AHT, IV, DL = [6, 0, 12, 0], 600.0, 3600.0, 7200.0


def test_required_spreads_work_until_each_deadline():
    rows = backlog.required(VOL, AHT, IV, DL)
    # t0: 3600 s due by end of t1 over 2 intervals -> 1800 s -> 0.5 agent; 3 items carried
    # t1: 1800 s due now -> 0.5 agent; nothing carried
    # t2: 7200 s due by end of t3 -> 3600 s -> 1 agent; 6 items carried
    # t3: 3600 s due now -> 1 agent
    assert [r.agents for r in rows] == pytest.approx([0.5, 0.5, 1.0, 1.0])
    assert [r.agents_rounded for r in rows] == [1, 1, 1, 1]
    assert [r.backlog_items for r in rows] == pytest.approx([3, 0, 6, 0])
    assert [r.workload_s for r in rows] == [3600, 0, 7200, 0]
    assert sum(r.late_items for r in rows) == 0


def test_simulate_counts_late_items_once():
    rows = backlog.simulate(VOL, [0.25, 0.25, 1.0, 1.0], AHT, IV, DL)
    # t0: 900 s done (c0 2700 left); t1: 900 s (c0 1800 s = 3 items miss the end of t1)
    # t2: 3600 s: c0's 1800 s first (earliest deadline), then 1800 s of c2 (5400 left)
    # t3: 3600 s of c2: 1800 s = 3 items miss the end of t3
    assert [r.done_s for r in rows] == pytest.approx([900, 900, 3600, 3600])
    assert [r.late_items for r in rows] == pytest.approx([0, 3, 0, 3])
    assert [r.backlog_items for r in rows] == pytest.approx([4.5, 3, 9, 3])


def test_closed_interval_has_no_capacity():
    # same arrivals, interval 1 closed: c0 (due end of t1) must be done in t0 alone
    rows = backlog.required(VOL, AHT, IV, DL, open_mask=[True, False, True, True])
    assert [r.agents for r in rows] == pytest.approx([1.0, 0.0, 1.0, 1.0])
    assert sum(r.late_items for r in rows) == 0


def test_bad_input_names_the_field():
    with pytest.raises(backlog.BacklogError) as e:
        backlog.required(VOL, AHT, IV, 0)
    assert e.value.param == "deadline_s"
    with pytest.raises(backlog.BacklogError) as e:
        backlog.simulate(VOL, [1, 1], AHT, IV, DL)
    assert e.value.param == "agents"
