"""`tablero plan` without ClickHouse: erlang and a backtest on the bank's 5-minute CSV."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.planning import forecast
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
    assert {line.split(",")[0] for line in lines[1:]} == set(forecast.METHODS)


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


def test_plan_backtest_and_staffing_from_clickhouse(chdb_dir, monkeypatch):
    """History from chDB (the session's directory, a database of its own), via the settings' DSN."""
    import datetime as dt

    from pipeline import settings as settings_mod
    from pipeline.history import clickhouse_store as store
    from pipeline.history import warehouse as warehouse_mod
    from tests.contact_rows import fact

    dsn = f"chdb://{chdb_dir}?database=plan_cli"
    client = store.connect(dsn)
    store.migrate(client, warehouse_mod.MIGRATIONS_DIR)
    day0 = dt.date(2024, 3, 4)
    rows = []
    for d in range(22):
        day = day0 + dt.timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for i in range(8 + day.weekday()):
            rows.append(fact(f"c{d}-{i}", f"{day}T09:0{i % 10}:00", queue="billing", channel="voice",
                             is_answered=1, wait_s=3.0, is_closed=1, handle_s=120.0, agent="ana", agents=["ana"]))
    store.insert_rows(client, "contacts", rows)
    client.close()
    monkeypatch.setenv("TABLERO_CLICKHOUSE", dsn)
    settings_mod.get_settings.cache_clear()
    try:
        r = runner.invoke(app, ["plan", "backtest", "--queue", "billing", "--channel", "voice", "--since", "2024-03-01",
                                "--until", "2024-03-30", "--days", "5", "--format", "json"])
        assert r.exit_code == 0, r.output
        scores = {s["method"]: s for s in json.loads(r.stdout)}
        # every weekday repeats its own volume: the historical average and seasonal naive are exact
        assert scores["historical_average"]["rmse"] == 0 and scores["seasonal_naive"]["rmse"] == 0
        r = runner.invoke(app, ["plan", "staffing", "--from", "2024-03-25T09:00:00", "--to", "2024-03-25T09:30:00",
                                "--queue", "billing", "--tz", "UTC", "--format", "json"])
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert out["rows"][0]["actual_volume"] == 8 and out["rows"][0]["forecast_volume"] == 8
    finally:
        settings_mod.get_settings.cache_clear()
        wh = warehouse_mod._instances.pop(dsn, None)  # noqa: SLF001
        if wh is not None:
            if wh._shared is not None:  # noqa: SLF001
                wh.call_sync(lambda c: c.close())
            wh.close()
