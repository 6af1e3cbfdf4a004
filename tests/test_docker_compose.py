"""docker-compose.yml cannot run here (no Docker engine); check its wiring against the settings."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from pipeline.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in COMPOSE["services"][service]["environment"].items()}


def test_services_and_healthchecks():
    services = COMPOSE["services"]
    assert {"kafka", "clickhouse", "worker", "api"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    for name in ("kafka", "clickhouse", "api"):
        assert "healthcheck" in services[name], name
    for name in ("worker", "api"):
        deps = services[name]["depends_on"]
        assert deps["kafka"]["condition"] == deps["clickhouse"]["condition"] == "service_healthy"


def test_every_tablero_variable_is_a_setting_and_loads():
    fields = {f"TABLERO_{n.upper()}" for n in Settings.model_fields}
    for service in ("worker", "api"):
        env = _env(service)
        unknown = {k for k in env if k.startswith("TABLERO_")} - fields
        assert not unknown, f"{service}: variables no setting reads: {unknown}"
        # ${VAR:-default} as compose reads it with VAR unset
        values = {k[len("TABLERO_"):].lower(): re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v) for k, v in env.items()}
        s = load_settings(**values)
        assert not s.is_embedded_clickhouse, "compose runs worker and api apart: needs the ClickHouse server"


def test_kafka_and_clickhouse_addresses_match_the_services():
    env = _env("worker")
    kafka_env = {k: str(v) for k, v in COMPOSE["services"]["kafka"]["environment"].items()}
    assert env["TABLERO_KAFKA"] == kafka_env["KAFKA_ADVERTISED_LISTENERS"].split("//", 1)[1]
    dsn = urlsplit(env["TABLERO_CLICKHOUSE"])
    ch_env = COMPOSE["services"]["clickhouse"]["environment"]
    assert dsn.hostname == "clickhouse" and dsn.port == 8123
    assert dsn.username == ch_env["CLICKHOUSE_USER"] and dsn.password == ch_env["CLICKHOUSE_PASSWORD"]
    assert dsn.path.strip("/") == ch_env["CLICKHOUSE_DB"]
    assert "8123:8123" in COMPOSE["services"]["clickhouse"]["ports"]


def test_api_port_is_published():
    env = _env("api")
    assert env["TABLERO_API_HOST"] == "0.0.0.0"
    assert f"{env['TABLERO_API_PORT']}:{env['TABLERO_API_PORT']}" in COMPOSE["services"]["api"]["ports"]


def test_worker_metrics_port_is_exposed_to_the_network():
    port = _env("worker")["TABLERO_METRICS_PORT"]
    assert port in [str(p) for p in COMPOSE["services"]["worker"]["expose"]]
