import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pipeline.simulator.daytime import zone_where_local_hour


@pytest.mark.parametrize("utc_hour", range(24))
def test_moment_lands_at_the_wanted_local_hour(utc_hour):
    moment = dt.datetime(2026, 11, 22, utc_hour, 30, tzinfo=dt.timezone.utc)
    zone = zone_where_local_hour(moment, 10)
    assert moment.astimezone(ZoneInfo(zone)).hour == 10
