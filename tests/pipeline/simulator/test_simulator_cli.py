"""`tablero simulate` through typer's CliRunner (NDJSON output; no Kafka needed)."""
from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pytest
import typer
from typer.testing import CliRunner

from pipeline.commands.simulate import paced, parse_duration, parse_speed, register
from pipeline.simulator import SimConfig, simulate

START = "2024-03-04T08:00:00Z"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.command("noop", hidden=True)
    def _noop() -> None:  # a second command keeps typer from collapsing `simulate` into the root
        pass

    return a


def test_ndjson_file_matches_the_model(app, tmp_path):
    out = tmp_path / "events.ndjson"
    r = CliRunner().invoke(app, ["simulate", "--seed", "9", "--start", START, "--duration", "3h",
                                 "--speed", "max", "--out", str(out), "--tz", "UTC"])
    assert r.exit_code == 0, r.output
    lines = out.read_bytes().splitlines()
    expected = [orjson.dumps(e) for e in simulate(SimConfig(
        seed=9, start=datetime(2024, 3, 4, 8, tzinfo=timezone.utc), duration_s=3 * 3600, tz="UTC"))]
    assert lines == expected
    assert len(lines) > 100
    types = {orjson.loads(x)["type"] for x in lines}
    assert {"contact.created", "contact.answered", "agent.state_changed"} <= types


def test_stdout_and_determinism(app):
    args = ["simulate", "--seed", "4", "--start", START, "--duration", "30m", "--out", "-", "-q", "--tz", "UTC"]
    a = CliRunner().invoke(app, args)
    b = CliRunner().invoke(app, args)
    assert a.exit_code == 0 and b.exit_code == 0
    assert a.stdout == b.stdout
    events = [orjson.loads(x) for x in a.stdout.splitlines()]
    assert events and all(e["specversion"] == "1.0" and e["source"] == "tablero-simulator" for e in events)


def test_naive_start_uses_the_site_zone(app):
    r = CliRunner().invoke(app, ["simulate", "--start", "2024-03-04T00:00", "--duration", "1m", "--out", "-",
                                 "-q", "--tz", "Europe/Madrid"])
    assert r.exit_code == 0, r.output
    first = orjson.loads(r.stdout.splitlines()[0])
    assert first["time"] == "2024-03-03T23:00:00.000Z"


@pytest.mark.parametrize("args, option", [
    (["--duration", "8x"], "--duration"),
    (["--duration", "0h"], "--duration"),
    (["--speed", "fast"], "--speed"),
    (["--speed", "-2"], "--speed"),
    (["--start", "yesterday"], "--start"),
    (["--rate", "0"], "--rate"),
    (["--tz", "Nowhere/Land"], "--tz"),
])
def test_errors_name_the_option(app, args, option):
    r = CliRunner().invoke(app, ["simulate", "--out", "-", "-q", *args])
    assert r.exit_code == 2
    assert option in r.output


def test_help_has_an_example(app):
    r = CliRunner().invoke(app, ["simulate", "--help"])
    assert r.exit_code == 0
    assert "tablero simulate --" in r.output


def test_duration_and_speed_parsing():
    assert parse_duration("8h") == 8 * 3600
    assert parse_duration("30d") == 30 * 86400
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90") == 90
    assert parse_speed("max") == 0 and parse_speed("0") == 0 and parse_speed("60") == 60


def test_pacing_releases_events_at_their_event_time():
    """Fake clock: no real sleeping, no timing assertions on the machine."""
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    events = [{"time": "2024-03-04T08:00:00.000Z"}, {"time": "2024-03-04T08:00:10.000Z"},
              {"time": "2024-03-04T08:01:00.000Z"}]
    t0 = datetime(2024, 3, 4, 8, tzinfo=timezone.utc).timestamp()
    released = []
    for e in paced(events, t0=t0, speed=2.0, rate=None, clock=lambda: now[0], sleep=sleep):
        released.append(now[0])
    assert released == [0.0, 5.0, 30.0]
    now[0] = 0.0
    released = [now[0] for _ in paced(events * 2, t0=t0, speed=0, rate=2.0, clock=lambda: now[0], sleep=sleep)]
    assert released == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_registered_on_the_tablero_cli(tmp_path):
    from pipeline.cli import app as tablero

    out = tmp_path / "e.ndjson"
    r = CliRunner().invoke(tablero, ["simulate", "--seed", "2", "--start", START, "--duration", "20m",
                                     "--out", str(out), "-q", "--tz", "UTC"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes().count(b"\n") > 0
