"""`tablero plan` without ClickHouse: erlang and a backtest on the bank's 5-minute CSV."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from tests.datasets import BANK_CALLS_5MIN

runner = CliRunner()


def test_plan_erlang_json_is_the_worked_example():
    r = runner.invoke(app, ["plan", "erlang", "--volume", "100", "--interval-s", "1800", "--aht-s", "180",
                            "--shrinkage", "0.3", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["agents"] == 14 and d["staff"] == 20 and round(d["service_level"], 3) == 0.888


def test_plan_erlang_bad_value_names_the_option():
    r = runner.invoke(app, ["plan", "erlang", "--volume", "10", "--aht-s", "0"])
    assert r.exit_code == 2
    assert "--aht-s" in r.output


def test_plan_backtest_csv():
    r = runner.invoke(app, ["plan", "backtest", "--csv", str(BANK_CALLS_5MIN), "--days", "3", "--format", "csv"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("method,rmse,wape,rmse_15m,wape_15m")
    assert {line.split(",")[0] for line in lines[1:]} == {"seasonal_naive", "historical_average", "ets_profile"}


def test_plan_forecast_closed_day():
    r = runner.invoke(app, ["plan", "forecast", "--csv", str(BANK_CALLS_5MIN), "--day", "2003-10-27",
                            "--closed", "2003-10-27", "--method", "historical_average", "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["closed"] is True and len(d["rows"]) == 169 and sum(x["volume"] for x in d["rows"]) == 0


def test_plan_forecast_holidays():
    r = runner.invoke(app, ["plan", "forecast", "--csv", str(BANK_CALLS_5MIN), "--day", "2003-11-27",
                            "--holidays", "US", "--method", "historical_average", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["closed"] is True
    r = runner.invoke(app, ["plan", "forecast", "--csv", str(BANK_CALLS_5MIN), "--day", "2003-11-27",
                            "--holidays", "XX"])
    assert r.exit_code == 2 and "--holidays" in r.output
