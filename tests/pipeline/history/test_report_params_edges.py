"""Issue 19: the report parameter parser, for any input, either answers a ReportError naming a
parameter or parameters whose every derived instant (UTC ends, previous period, query parameters,
echo) stays near the supported range: no OverflowError, no date ClickHouse cannot hold."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st

from pipeline.history import reports
from pipeline.schemas.fields import END_TIME, MIN_TIME

DAY = dt.timedelta(days=1)
ZONES = ["UTC", "Europe/Madrid", "America/Santiago", "Pacific/Kiritimati", "Etc/GMT+12", "Australia/Lord_Howe"]
moments = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59),
                 timezones=st.one_of(st.none(), st.sampled_from([dt.timezone(dt.timedelta(hours=h))
                                                                 for h in (-14, -12, 0, 5, 14)])))
    .map(dt.datetime.isoformat),
    st.sampled_from(["1970-01-01", "2100-12-31", "1969-12-31", "2101-01-01", "", "2024-02-30", "x"]),
)


@settings(max_examples=400, deadline=None)
@given(start=moments, end=moments, tz=st.sampled_from(ZONES), by=st.sampled_from(["15m", "hour", "day", "week"]))
def test_any_input_is_a_named_error_or_params_inside_the_range(start, end, tz, by):
    try:
        params = reports.parse_params({"from": start, "to": end, "tz": tz, "by": by})
    except reports.ReportError as exc:
        assert exc.param in {"from", "to", "by", "tz"} and exc.reason
        return
    for p in (params, params.previous()):
        assert MIN_TIME - DAY <= p.start_utc <= p.end_utc <= END_TIME + DAY
        p.query_parameters()
        p.echo()
    assert params.previous().end_utc <= params.start_utc


def test_outside_dates_name_the_parameter_and_the_range():
    for raw, param in [({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
                       ({"from": "2024-01-01", "to": "9999-12-31T00:00:00+14:00"}, "to")]:
        try:
            reports.parse_params(raw)
        except reports.ReportError as exc:
            assert exc.param == param and reports.SUPPORTED_RANGE in exc.reason
        else:
            raise AssertionError(f"{raw} was accepted")


def test_previous_period_is_clipped_at_the_first_supported_day():
    p = reports.parse_params({"from": "1970-01-05", "to": "1970-01-14"})
    assert p.previous().start_utc == MIN_TIME and p.previous().end_utc == p.start_utc
    q = reports.parse_params({"from": "1970-01-11", "to": "1970-01-20"})
    assert q.previous().from_ == dt.date(1970, 1, 1) and q.previous().to == dt.date(1970, 1, 10)
