"""One settings object for every process (pydantic-settings, env prefix TABLERO_)."""
from __future__ import annotations

import hashlib
import re
import socket
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.calendars.zones import ZoneName

DEFAULT_DATA_DIR = Path("data")


class Settings(BaseSettings):
    """Effective configuration. Every field maps to the env var TABLERO_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="TABLERO_", extra="ignore")

    kafka: str = Field(
        "", description="Kafka bootstrap servers (host:port[,host:port]). Empty: the local broker "
        "that `tablero kafka start` runs on 127.0.0.1:<kafka_port>.")
    kafka_namespace: str = Field("", pattern=r"^[a-z0-9_-]*$", max_length=40,
                                 description="Prefix of topic names and the consumer group (several "
                                 "Tablero installations or test runs on one broker).")
    kafka_port: int = Field(19092, ge=1024, le=65535, description="Port of the local broker.")
    clickhouse: str = Field(
        "", description="ClickHouse DSN: chdb:///path (embedded) or http(s)://user:pass@host:8123/db. "
        "Empty: chdb:///<data_dir>/clickhouse.")
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Where the local broker, chDB and caches live.")
    site_tz: ZoneName = Field("UTC", description="IANA time zone of the site: 'today' starts at its midnight.")
    queues_file: Path | None = Field(None, description="TOML file with per-queue settings.")
    topic_partitions: int = Field(4, ge=1, le=1024, description="Partitions of tablero.events.")
    api_host: str = Field("127.0.0.1")
    api_port: int = Field(8000, ge=1, le=65535)
    admin_token: str = Field("", description="Bootstrap admin token (plain); empty: none.")
    tokens_file: Path | None = Field(None, description="Hashed API tokens (JSON). Empty: <data_dir>/tokens.json.")
    ingest_rate_per_s: float = Field(2000, gt=0, description="HTTP ingest requests/s allowed per token.")
    batch_max: int = Field(20000, ge=1, description="Max events per processing batch.")
    batch_within_s: float = Field(0.2, gt=0, le=10, description="Max seconds to fill a batch.")
    dedup_retention_days: float = Field(7, gt=0)
    parking_timeout_s: float = Field(300, gt=0, description="How long an event for an unknown contact "
                                     "(or not yet applicable) waits before going to the dead letters.")
    # -- live publication and landing (issue 18): partials go out after every batch, rows land in bulk
    live_interval_s: float = Field(0.0, ge=0, le=10, description="Least seconds between two live "
                                   "publications of a partition (worker) and two merges (API); 0: after "
                                   "every batch and on arrival.")
    land_interval_s: float = Field(1.0, gt=0, le=60, description="Most seconds processed events wait "
                                   "before their rows land in ClickHouse and their offsets commit "
                                   "(sooner at batch_max events): few, large inserts.")
    max_event_bytes: int = Field(65536, ge=1024, description="Largest accepted event, bytes.")
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest HTTP ingest body, bytes.")
    max_events_per_request: int = Field(10000, ge=1)
    worker_id: str = Field("", max_length=200, description="Static Kafka group member id of this worker "
                           "(a restarted worker takes its partitions back at once). Empty: host name + "
                           "data directory. Must differ between workers.")


    @field_validator("clickhouse")
    @classmethod
    def _dsn_scheme(cls, v: str) -> str:
        if v and not re.match(r"^(chdb|https?|clickhouse)://", v):
            raise ValueError("must start with chdb://, http:// or https:// (e.g. chdb:///var/lib/tablero/ch)")
        return v

    @field_validator("kafka")
    @classmethod
    def _bootstrap(cls, v: str) -> str:
        for part in filter(None, v.split(",")):
            host, _, port = part.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{part!r} is not host:port (e.g. 127.0.0.1:9092)")
        return v

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka or f"127.0.0.1:{self.kafka_port}"

    @property
    def worker_instance_id(self) -> str:
        if self.worker_id:
            return self.worker_id
        # one worker per data directory (chDB allows no more), so host + directory is unique
        digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:10]
        return f"{socket.gethostname()}-{digest}"

    @property
    def uses_local_kafka(self) -> bool:
        return not self.kafka

    @property
    def clickhouse_dsn(self) -> str:
        return self.clickhouse or f"chdb://{self.data_dir.resolve()}/clickhouse"

    @property
    def is_embedded_clickhouse(self) -> bool:
        return self.clickhouse_dsn.startswith("chdb://")

    @property
    def tokens_path(self) -> Path:
        return self.tokens_file or self.data_dir / "tokens.json"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site_tz)

    def masked(self) -> dict[str, str]:
        """Effective values for display, passwords and tokens hidden."""
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "admin_token" and value:
                value = "****"
            out[f"TABLERO_{name.upper()}"] = "" if value is None else str(value)
        out["(effective kafka)"] = self.kafka_bootstrap
        out["(effective clickhouse)"] = mask_dsn(self.clickhouse_dsn)
        out["TABLERO_CLICKHOUSE"] = mask_dsn(self.clickhouse)
        return out


def mask_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password:
        netloc = f"{parts.username}:****@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return dsn


class SettingsError(RuntimeError):
    """Raised with one line per bad variable, naming it."""


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "TABLERO_" + str(err["loc"][0]).upper() if err["loc"] else "TABLERO_?"
            lines.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
