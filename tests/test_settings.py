from __future__ import annotations

import pytest

from pipeline.settings import SettingsError, load_settings, mask_dsn


def test_defaults_use_local_kafka_and_embedded_clickhouse(tmp_path):
    s = load_settings(data_dir=tmp_path)
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.clickhouse_dsn == f"chdb://{tmp_path.resolve()}/clickhouse"
    assert s.is_embedded_clickhouse


@pytest.mark.parametrize("name,value,fragment", [
    ("site_tz", "Mars/Olympus", "TABLERO_SITE_TZ"),
    ("clickhouse", "mysql://x", "TABLERO_CLICKHOUSE"),
    ("kafka", "localhost", "TABLERO_KAFKA"),
    ("topic_partitions", 0, "TABLERO_TOPIC_PARTITIONS"),
])
def test_bad_values_name_the_variable(name, value, fragment):
    with pytest.raises(SettingsError) as exc:
        load_settings(**{name: value})
    assert fragment in str(exc.value)


def test_env_is_read_and_secrets_masked(monkeypatch):
    monkeypatch.setenv("TABLERO_CLICKHOUSE", "http://user:s3cret@ch:8123/db")
    monkeypatch.setenv("TABLERO_ADMIN_TOKEN", "topsecret")
    shown = load_settings().masked()
    text = repr(shown)
    assert "s3cret" not in text and "topsecret" not in text
    assert shown["TABLERO_CLICKHOUSE"] == "http://user:****@ch:8123/db"
    assert mask_dsn("chdb:///x") == "chdb:///x"


def test_worker_id_is_stable_per_data_directory_and_can_be_set(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert load_settings(data_dir=a).worker_instance_id == load_settings(data_dir=a).worker_instance_id
    assert load_settings(data_dir=a).worker_instance_id != load_settings(data_dir=b).worker_instance_id
    assert load_settings(data_dir=a, worker_id="worker-3").worker_instance_id == "worker-3"
