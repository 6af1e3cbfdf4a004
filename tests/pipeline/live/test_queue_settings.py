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
