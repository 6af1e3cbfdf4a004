"""Staffing per interval over hand-built history in chDB (clickhouse/queries/planning_*.sql), with
agent states: logged-in agents are time-weighted per 15 minutes, offline time does not count."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pipeline.history import clickhouse_store as store
from pipeline.planning import erlang, staffing
from tests.contact_rows import fact, ts

UTC = dt.timezone.utc
HISTORY = [dt.date(2024, 3, 4) + dt.timedelta(days=i) for i in range(12) if (dt.date(2024, 3, 4) + dt.timedelta(days=i)).weekday() < 5]


def _calls(day: dt.date, n: int, abandoned: int, agents=("ana",)) -> list[dict]:
    rows = []
    for i in range(n):
        created = f"{day}T09:0{i % 10}:00"
        if i < abandoned:
            rows.append(fact(f"{day}-{i}", created, queue="billing", channel="voice", is_abandoned=1,
                             abandoned=ts(created) + 60, wait_s=None))
            continue
        agent = agents[i % len(agents)]
        ans = ts(created) + 5
        rows.append(fact(f"{day}-{i}", created, queue="billing", channel="voice", agent=agent, agents=[agent],
                         is_answered=1, answered=ans, wait_s=5.0, is_closed=1, closed=ans + 180, handle_s=180.0))
    return rows


def _state(agent, state, start, end):
    s, e = ts(start), ts(end)
    return {"agent": agent, "state": state, "reason": "", "start": s, "end": e, "duration_s": e - s}


@pytest.fixture
def db(ch):
    rows = [r for d in HISTORY for r in _calls(d, 10, 1)]
    rows += _calls(dt.date(2024, 3, 18), 12, 0, agents=("ana", "bob"))
    store.insert_rows(ch, "contacts", rows)
    store.insert_rows(ch, "agent_states", [
        _state("ana", "available", "2024-03-18T09:00:00", "2024-03-18T09:10:00"),
        _state("ana", "busy", "2024-03-18T09:10:00", "2024-03-18T09:20:00"),
        _state("bob", "available", "2024-03-18T09:05:00", "2024-03-18T09:15:00"),
        _state("cy", "offline", "2024-03-18T09:00:00", "2024-03-18T10:00:00"),
        _state("zed", "available", "2024-03-18T09:00:00", "2024-03-18T10:00:00"),   # never on billing
    ])
    return ch


def test_staffing_with_agent_states(db):
    p = staffing.StaffingParams(channel="voice", queue="billing", target_answer_s=20, threshold_s=20)
    r = staffing.staffing_report(db, p, dt.datetime(2024, 3, 18, 9, tzinfo=UTC), dt.datetime(2024, 3, 18, 10, tzinfo=UTC),
                                 ZoneInfo("UTC"), now=dt.datetime(2024, 3, 19, tzinfo=UTC))
    assert r["summary"]["presence"] == "agent_states"
    # patience: 1 abandoned a day after 60 s; 9 answered after 5 s: (9 x 5 + 60) / 1
    assert r["patience_s"] == pytest.approx(105.0)
    first, second = r["rows"][0], r["rows"][1]
    assert first["start"] == "2024-03-18T09:00:00+00:00"
    assert first["forecast_volume"] == pytest.approx(10.0)
    assert first["forecast_aht_s"] == pytest.approx(180.0)
    assert first["agents_required"] == erlang.solve(10, 900, 180, target_answer_s=20, target_sl=0.8).agents
    assert first["actual_volume"] == 12 and first["actual_aht_s"] == pytest.approx(180.0)
    need = erlang.solve(12, 900, 180, target_answer_s=20, target_sl=0.8).agents
    assert first["agents_required_actual"] == need
    # ana 09:00-09:15 (available, then busy) 900 s + bob 09:05-09:15 600 s = 1500 / 900
    assert first["agents_logged_in"] == pytest.approx(1500 / 900, abs=1e-3)
    assert first["shortfall"] == pytest.approx(need - 1500 / 900, abs=1e-3) and first["understaffed"]
    # ana busy 09:15-09:20 only
    assert second["agents_logged_in"] == pytest.approx(300 / 900, abs=1e-3)
    assert second["actual_volume"] == 0 and second["agents_required_actual"] == 0
    assert r["rows"][2]["agents_logged_in"] == 0.0
    # without a queue, every agent logged in counts (zed too, cy is offline)
    p_all = staffing.StaffingParams(channel="voice", target_answer_s=20, threshold_s=20)
    r_all = staffing.staffing_report(db, p_all, dt.datetime(2024, 3, 18, 9, tzinfo=UTC),
                                     dt.datetime(2024, 3, 18, 10, tzinfo=UTC), ZoneInfo("UTC"),
                                     now=dt.datetime(2024, 3, 19, tzinfo=UTC))
    assert r_all["rows"][0]["agents_logged_in"] == pytest.approx(2400 / 900, abs=1e-3)


def test_future_intervals_have_no_actuals(db):
    p = staffing.StaffingParams(channel="voice", queue="billing", model="a", target_answer_s=20, threshold_s=20)
    r = staffing.staffing_report(db, p, dt.datetime(2024, 3, 18, 9, tzinfo=UTC), dt.datetime(2024, 3, 18, 10, tzinfo=UTC),
                                 ZoneInfo("UTC"), now=dt.datetime(2024, 3, 18, 9, 20, tzinfo=UTC))
    assert [x["past"] for x in r["rows"]] == [True, False, False, False]
    assert "actual_volume" not in r["rows"][1]
    assert r["rows"][0]["agents_required"] == erlang.solve(10, 900, 180, target_answer_s=20, target_sl=0.8,
                                                           patience_s=105.0).agents


def test_email_uses_the_backlog_model(db):
    store.insert_rows(db, "contacts", [fact(f"m{i}", "2024-03-11T09:00:00", queue="mail", channel="email",
                                            is_closed=1, handle_s=600.0, agent="ana", agents=["ana"])
                                       for i in range(6)])
    p = staffing.StaffingParams(channel="email", queue="mail", threshold_s=3600)
    r = staffing.staffing_report(db, p, dt.datetime(2024, 3, 18, 9, tzinfo=UTC), dt.datetime(2024, 3, 18, 11, tzinfo=UTC),
                                 ZoneInfo("UTC"), now=dt.datetime(2024, 3, 1, tzinfo=UTC))
    assert r["model"] == "backlog"
    # 6 emails x 600 s due within 4 intervals: 3600 s / 4 x 900 s = 1 agent for the first hour
    assert [x["agents_required"] for x in r["rows"][:5]] == [1, 1, 1, 1, 0]
    assert r["rows"][0]["backlog_items"] == pytest.approx(4.5)


def test_public_holidays_are_closed(db):
    # 2024-03-29 is Good Friday, a public holiday in GB
    p = staffing.StaffingParams(channel="voice", queue="billing", target_answer_s=20, threshold_s=20, holidays="GB")
    r = staffing.staffing_report(db, p, dt.datetime(2024, 3, 29, 9, tzinfo=UTC), dt.datetime(2024, 3, 29, 10, tzinfo=UTC),
                                 ZoneInfo("UTC"), now=dt.datetime(2024, 3, 1, tzinfo=UTC))
    assert [x["forecast_volume"] for x in r["rows"]] == [0, 0, 0, 0]
    assert [x["agents_required"] for x in r["rows"]] == [0, 0, 0, 0]
    p_open = staffing.StaffingParams(channel="voice", queue="billing", target_answer_s=20, threshold_s=20)
    r = staffing.staffing_report(db, p_open, dt.datetime(2024, 3, 29, 9, tzinfo=UTC),
                                 dt.datetime(2024, 3, 29, 10, tzinfo=UTC), ZoneInfo("UTC"),
                                 now=dt.datetime(2024, 3, 1, tzinfo=UTC))
    assert r["rows"][0]["forecast_volume"] == pytest.approx(10.0)
