"""Forecasts and their backtest on real data: the bank's 5-minute calls of 2003 (tests/data README)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pipeline.planning import forecast
from tests.datasets import BANK_CALLS_5MIN


@pytest.fixture(scope="module")
def bank():
    with open(BANK_CALLS_5MIN, encoding="ascii") as f:
        return forecast.build_series(forecast.parse_csv_rows(f))


@pytest.fixture(scope="module")
def scores(bank):
    return {s.method: s for s in forecast.backtest(bank, days=20)}


def test_bank_series_shape(bank):
    assert bank.interval_s == 300
    assert len(bank.days) == 164 and len(bank.slots) == 169
    assert bank.slots[0] == dt.time(7, 0) and bank.slots[-1] == dt.time(21, 0)


def test_backtest_anchor_last_20_weekdays_one_day_ahead(scores):
    assert scores["historical_average"].rmse == pytest.approx(21.4, abs=0.05)
    assert scores["seasonal_naive"].rmse == pytest.approx(30.4, abs=0.05)
    # the level x profile model beats the historical average (measured 19.8; the goal of
    # 18 is not reached: even with the true daily totals this profile gives 18.2)
    assert scores["ets_profile"].rmse < 20.0
    assert scores["ets_profile"].wape < scores["historical_average"].wape
    # settings chosen by an inner backtest on earlier days beat the fixed ones (measured 19.6 / 7.2 %;
    # 18 is still not reached)
    assert scores["tuned_profile"].rmse < scores["ets_profile"].rmse
    assert scores["tuned_profile"].wape < scores["ets_profile"].wape
    assert scores["tuned_profile"].rmse_15m < scores["ets_profile"].rmse_15m
    for s in scores.values():
        assert s.rmse_15m > s.rmse                      # 3 intervals summed: larger counts
        assert 0 < s.wape_15m <= s.wape


def test_forecast_day_chooses_by_backtest_with_intervals(bank):
    target = bank.days[-1]
    fc = forecast.forecast_day(bank, target, backtest_days=5)
    assert fc.method == min(fc.scores, key=lambda s: s.rmse).method
    actual = bank.volume[-1]
    f = np.array(fc.volume)
    assert len(f) == len(actual)
    assert np.all(np.array(fc.lo95) <= np.array(fc.lo80)) and np.all(np.array(fc.lo80) <= f)
    assert np.all(f <= np.array(fc.hi80)) and np.all(np.array(fc.hi80) <= np.array(fc.hi95))
    inside80 = np.mean((actual >= fc.lo80) & (actual <= fc.hi80))
    assert 0.6 <= inside80 <= 0.97
    assert abs(f.sum() - actual.sum()) / actual.sum() < 0.1


def test_closed_day_forecasts_zero_and_the_day_after_is_lifted(bank):
    # 2003-09-01 (Labor Day) is absent from the data: the bank was closed
    labor_day = dt.date(2003, 9, 1)
    assert labor_day not in bank.days
    fc = forecast.forecast_day(bank, labor_day, method="ets_profile", closed_days=[labor_day])
    assert fc.closed and sum(fc.volume) == 0
    # forecasting the Tuesday after it (2003-09-02) from the history up to Friday 08-29
    after = forecast.forecast_day(bank, dt.date(2003, 9, 2), method="ets_profile")
    plain = forecast.forecast_day(bank, dt.date(2003, 9, 2), method="historical_average")
    assert sum(after.volume) > 1.05 * sum(plain.volume)


def test_calendar_classes():
    open_wd = frozenset(range(5))
    assert forecast._day_class(dt.date(2003, 10, 1), False, open_wd) == "month_start"     # Wed, 1st
    assert forecast._day_class(dt.date(2003, 10, 3), False, open_wd) == "month_start"     # 3rd business day
    assert forecast._day_class(dt.date(2003, 10, 6), False, open_wd) == "plain"           # 4th
    assert forecast._day_class(dt.date(2003, 10, 31), False, open_wd) == "month_end"      # Friday, last
    assert forecast._day_class(dt.date(2003, 5, 30), False, open_wd) == "month_end"       # Fri before Sat 31
    assert forecast._day_class(dt.date(2003, 10, 15), True, open_wd) == "after_closure"


def test_handle_time_per_interval_from_history():
    base = dt.datetime(2024, 1, 1, 9, 0)              # a Monday
    pts = []
    for week in range(3):
        day = base + dt.timedelta(days=7 * week)
        pts.append((day, 10, 10 * 120.0))
        pts.append((day + dt.timedelta(minutes=15), 10, 10 * 300.0))
    s = forecast.build_series(pts)
    fc = forecast.forecast_day(s, dt.date(2024, 1, 22), method="historical_average")
    assert s.interval_s == 900
    assert fc.aht_s == pytest.approx([120.0, 300.0])
    assert fc.volume == pytest.approx([10.0, 10.0])


def test_csv_errors_name_the_line():
    with pytest.raises(forecast.ForecastError) as e:
        forecast.parse_csv_rows(["start,volume", "2024-01-01T09:00:00,3", "2024-01-01T09:15:00,x"])
    assert "line 3" in e.value.reason
    with pytest.raises(forecast.ForecastError) as e:
        forecast.parse_csv_rows(["when,what"])
    assert e.value.param == "csv"
    with pytest.raises(forecast.ForecastError) as e:
        forecast.backtest(forecast.build_series(forecast.parse_csv_rows(
            ["start,volume", "2024-01-01T09:00:00,3", "2024-01-01T09:15:00,4"])), days=5)
    assert e.value.param == "days"


def test_public_holidays_are_closed_days(bank):
    us = forecast.holiday_dates("US", [2003])
    assert dt.date(2003, 9, 1) in us and dt.date(2003, 11, 27) in us
    fc = forecast.forecast_day(bank, dt.date(2003, 11, 27), method="historical_average", closed_days=us)
    assert fc.closed and sum(fc.volume) == 0
    with pytest.raises(forecast.ForecastError) as e:
        forecast.holiday_dates("XX", [2003])
    assert e.value.param == "holidays"


# --- tuned_profile on small hand-checkable series ----------------------------------------------------

def _weekdays(start: dt.date, weeks: int) -> list[dt.date]:
    return [start + dt.timedelta(days=7 * w + k) for w in range(weeks) for k in range(5)]


def test_ses_with_a_fixed_constant():
    assert forecast._ses_fixed(np.array([10.0, 20.0]), 0.5) == pytest.approx(15.0)
    assert forecast._ses_fixed(np.array([10.0, 20.0, 40.0]), 0.5) == pytest.approx(27.5)
    assert forecast._ses_fixed(np.array([100.0, 0.0]), 0.1) == pytest.approx(90.0)
    assert forecast._ses_fixed(np.array([7.0]), 0.3) == 7.0


def test_smooth_profile_spreads_a_spike_to_its_neighbours():
    flat = forecast._smooth_profile(np.full(6, 1 / 6), 1.5)
    assert flat == pytest.approx(np.full(6, 1 / 6))
    spike = forecast._smooth_profile(np.array([0, 0, 0, 0, 1.0, 0, 0, 0, 0]), 1.0)
    assert spike.sum() == pytest.approx(1.0)
    assert spike[4] == spike.max()
    assert spike[3] == pytest.approx(spike[5]) and spike[3] / spike[4] == pytest.approx(np.exp(-0.5))
    assert spike[2] / spike[4] == pytest.approx(np.exp(-2.0))


def test_tuned_profile_flat_days_and_a_busy_monday():
    days = _weekdays(dt.date(2024, 1, 1), 4)                 # 2024-01-01 is a Monday
    vol = np.array([[20.0] * 4 if d.weekday() == 0 else [10.0] * 4 for d in days])
    monday, tuesday = dt.date(2024, 1, 29), dt.date(2024, 1, 30)
    # weekday factors: Monday 80 / mean(80, 40, 40, 40, 40) = 80/48; level 48 every day
    assert forecast.tuned_profile(vol, days, monday) == pytest.approx([20.0] * 4)
    assert forecast.tuned_profile(vol, days, tuesday) == pytest.approx([10.0] * 4)


def test_tuned_profile_follows_a_recent_shift_of_the_profile():
    # 4 weeks with the morning busiest, then 4 weeks with the evening busiest; each day totals 100
    days = _weekdays(dt.date(2024, 1, 1), 8)
    vol = np.array([[40.0, 20, 20, 20] if i < 20 else [20.0, 20, 20, 40] for i in range(len(days))])
    target = dt.date(2024, 2, 26)
    total, profile, level_cfg, profile_cfg = forecast.tuned_parts(vol, days, target)
    assert total == pytest.approx(100.0)
    assert profile_cfg[0] is not None                        # a recency half-life was chosen
    assert profile[3] > profile[0]
    fc = forecast.tuned_profile(vol, days, target)
    ha = forecast.historical_average(vol, days, target)
    assert ha[0] == pytest.approx(ha[3])                     # equal weights: no preference
    assert fc[3] > fc[0] and fc.sum() == pytest.approx(100.0)
