"""Queue settings: defaults, overrides, errors that name the key path."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.live.queue_settings import QueueSettings, QueueSettingsError, load_queue_settings

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "queues.example.toml"


def test_example_file_loads():
    s = load_queue_settings(EXAMPLE, "UTC")
    assert s.site_tz == "Europe/Madrid"
    p = s.for_queue("billing", "voice")
    assert (p.threshold_s, p.at_risk_fraction, p.short_abandon_s, p.sl_formula, p.at_risk_s) == (
        20.0, 0.8, 5.0, "answered_and_late_abandons", 16.0)
    assert s.for_queue("sales", "voice").sl_formula == "answered_and_abandons"
    assert s.for_queue("support-email", "email").threshold_s == 28800.0
    assert ("billing", "voice") in s.configured()


def test_channel_defaults_for_unknown_queues_and_channel_mismatch():
    s = load_queue_settings(None, "Europe/Madrid")
    assert s.site_tz == "Europe/Madrid"
    assert [s.for_queue("nope", c).threshold_s for c in ("voice", "chat", "email")] == [20.0, 60.0, 14400.0]
    s = QueueSettings.from_dict({"queues": {"billing": {"channel": "voice", "threshold_s": 30}},
                                 "channels": {"chat": {"threshold_s": 45, "short_abandon_s": 8}}})
    assert s.for_queue("billing", "voice").threshold_s == 30.0
    assert s.for_queue("billing", "chat").threshold_s == 45.0  # configured for voice only
    assert s.for_queue("x", "chat").short_abandon_s == 8.0
    assert s.for_queue("x", "chat") is s.for_queue("x", "chat")  # cached


def test_sl_denominators():
    s = QueueSettings.from_dict({"queues": {q: {"channel": "voice", "sl_formula": q} for q in (
        "answered_and_late_abandons", "answered_and_abandons", "answered", "offered")}})
    got = {q: s.for_queue(q, "voice").sl_denominator(answered=10, abandoned=4, short_abandoned=1, offered=20)
           for q, _ in s.configured()}
    assert got == {"answered_and_late_abandons": 13, "answered_and_abandons": 14, "answered": 10, "offered": 20}


@pytest.mark.parametrize("toml,expected", [
    ("[queues.billing]\nchannel='voice'\nthreshold_s=0", "queues.billing.threshold_s: must be > 0"),
    ("[queues.billing]\nchannel='voice'\nat_risk_fraction=1.5", "queues.billing.at_risk_fraction: must be <= 1"),
    ("[queues.billing]\nchannel='fax'", "queues.billing.channel: must be one of"),
    ("[queues.billing]\nthreshold_s=20", "queues.billing.channel: required"),
    ("[queues.billing]\nchannel='voice'\ntreshold_s=20", "queues.billing.treshold_s: unknown key"),
    ("[queues.billing]\nchannel='voice'\nsl_formula='magic'", "queues.billing.sl_formula: must be one of"),
    ("[channels.email]\nthreshold_s=-1", "channels.email.threshold_s: must be > 0"),
    ("[channels.fax]\nthreshold_s=1", "channels.fax: must be one of"),
    ("site_tz='Mars/Olympus'", "site_tz: unknown IANA time zone"),
    ("queues = [", "not TOML"),
])
def test_invalid_settings_name_the_key_path(toml, expected):
    with pytest.raises(QueueSettingsError) as exc:
        QueueSettings.from_toml(toml)
    assert expected in str(exc.value)


def test_unreadable_file_is_a_settings_error(tmp_path):
    with pytest.raises(QueueSettingsError, match="cannot read"):
        load_queue_settings(tmp_path / "missing.toml")
    bad = tmp_path / "q.toml"
    bad.write_text("[queues.b]\nchannel='voice'\nthreshold_s=0\n")
    with pytest.raises(QueueSettingsError, match=r"(?s)q.toml: .*queues.b.threshold_s: must be > 0"):
        load_queue_settings(bad)


# -- calendars, clocks, versions (issue 14) ------------------------------------------------------
CAL = """
site_tz = "Europe/Madrid"
[calendars.office]
hours = { mon = ["08:00-14:00", "15:00-18:00"] }
holidays = ["2026-12-24"]
public_holidays = { country = "ES", subdiv = "MD" }
days = { "2026-12-31" = ["09:00-13:00"] }
[calendars.default]
tz = "America/New_York"
hours = { sat = ["10:00-12:00"] }
[queues.mail]
channel = "email"
calendar = "office"
clock = "business"
resolution_target_s = 86400
[queues.other]
channel = "chat"
"""


def test_calendars_clock_and_resolution_target():
    import datetime as dt
    qs = QueueSettings.from_toml(CAL)
    p = qs.for_queue("mail", "email")
    assert (p.clock, p.business, p.resolution_target_s, p.calendar.name) == ("business", True, 86400.0, "office")
    assert p.calendar.tz == "Europe/Madrid" and p.calendar.blocks(dt.date(2026, 12, 28)) == ((28800, 50400), (54000, 64800))
    assert p.calendar.blocks(dt.date(2026, 12, 31)) == ((32400, 46800),)
    assert p.calendar.is_holiday(dt.date(2026, 12, 24)) and p.calendar.is_holiday(dt.date(2026, 12, 8))
    o = qs.for_queue("other", "chat")
    assert (o.clock, o.calendar.name, o.calendar.tz) == ("calendar", "default", "America/New_York")
    assert qs.for_queue("mail", "voice").clock == "calendar"  # channel mismatch: channel defaults
    assert QueueSettings.from_toml("").for_queue("x", "voice").calendar.always_open


@pytest.mark.parametrize("text, message", [
    ('[queues.a]\nchannel = "voice"\ncalendar = "nope"', "queues.a.calendar: no calendar 'nope'"),
    ('[calendars.x]\nhours = { mon = ["9-10"] }', "calendars.x.hours.mon: '9-10' is not a block"),
    ('[calendars.x]\nhours = { mon = ["08:00-12:00", "11:00-13:00"] }', "calendars.x.hours.mon: blocks overlap"),
    ('[calendars.x]\nhours = { funday = ["08:00-12:00"] }', "calendars.x.hours"),
    ('[calendars.x]\nholidays = ["2026-13-01"]', "calendars.x.holidays.0: must be a date"),
    ('[calendars.x]\npublic_holidays = { country = "XX" }', "calendars.x.public_holidays: unknown country 'XX'"),
    ('[calendars.x]\npublic_holidays = { country = "ES", subdiv = "ZZ" }', "unknown subdiv 'ZZ' for ES"),
    ('[calendars.x]\ntz = "Mars/Base"', "calendars.x.tz"),
    ('[queues.a]\nchannel = "voice"\nclock = "wall"', "queues.a.clock: must be one of"),
    ('[queues.a]\nchannel = "voice"\nresolution_target_s = 0', "queues.a.resolution_target_s: must be > 0"),
])
def test_calendar_errors_name_the_key(text, message):
    with pytest.raises(QueueSettingsError) as info:
        QueueSettings.from_toml(text)
    assert message in str(info.value)


def test_version_hash_follows_meaning_not_layout():
    a = QueueSettings.from_toml(CAL)
    reordered = QueueSettings.from_toml("# same settings\n" + CAL.replace(
        'clock = "business"\nresolution_target_s = 86400', 'resolution_target_s = 86400.0\nclock = "business"'))
    assert a.version == reordered.version and len(a.version) == 12
    assert a.version != QueueSettings.from_toml(CAL.replace("15:00-18:00", "15:00-19:00")).version
