"""One settings object for every process (pydantic-settings, env prefix TABLERO_)."""
from __future__ import annotations

import hashlib
import re
import socket
from functools import lru_cache
from typing import Literal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
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
    batch_linger_s: float = Field(0.02, ge=0, le=1, description="How long Kafka may hold the worker's "
                                  "fetch while fewer than 256 KB of events wait (fetch.max.wait.ms, "
                                  "fetch.min.bytes): at moderate rates fewer, larger batches (at 2,000 "
                                  "events/s 40% less CPU in the worker's Python thread, p50 +7 ms: "
                                  "bench/soak_linger.md) for at most this much more latency; "
                                  "0: a fetch returns with the first event.")
    dedup_retention_days: float = Field(7, gt=0, description="How long (processing time) an ended contact "
                                        "stays in the worker's memory so a redelivered event is a duplicate "
                                        "(and at least until local midnight): about 1-2 KB per ended contact "
                                        "at rest, so a centre's worker holds this many days of contacts.")
    parking_timeout_s: float = Field(300, gt=0, description="How long an event for an unknown contact "
                                     "(or not yet applicable) waits before going to the dead letters.")
    # -- live publication and landing (issue 18): partials go out after every batch, rows land in bulk
    live_interval_s: float = Field(0.0, ge=0, le=10, description="Least seconds between two live "
                                   "publications of a partition (worker) and two merges (API); 0: after "
                                   "every batch and on arrival.")
    land_interval_s: float = Field(1.0, gt=0, le=60, description="Most seconds processed events wait "
                                   "before their rows land in ClickHouse and their offsets commit "
                                   "(sooner at batch_max events): few, large inserts.")
    gil_switch_s: float = Field(0.001, ge=0.0001, le=0.1, description="The worker process's GIL switch "
                                "interval: how long a thread waiting for the GIL (the ClickHouse landing) "
                                "waits before the event loop's thread must let go (Python's default: "
                                "0.005). Shorter lets a landing overlap the next fetch: "
                                "pipeline/agents/gil.py.")
    max_event_bytes: int = Field(65536, ge=1024, description="Largest accepted event, bytes.")
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest HTTP ingest body, bytes.")
    max_events_per_request: int = Field(10000, ge=1)
    worker_id: str = Field("", max_length=200, description="Static Kafka group member id of this worker "
                           "(a restarted worker takes its partitions back at once). Empty: host name + "
                           "data directory. Must differ between workers.")

    # -- Kafka security, topic durability and metrics (issue 11; pipeline/kafka/security.py) ----
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How every Kafka client connects: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (with SASL_PLAINTEXT / SASL_SSL).")
    kafka_username: str = Field("", description="SASL user name.")
    kafka_password: SecretStr = Field(SecretStr(""), description="SASL password.")
    kafka_ca_file: Path | None = Field(None, description="PEM file of the CA(s) that signed the brokers' "
                                       "certificates (SSL / SASL_SSL). Empty: the system's CAs.")
    kafka_cert_file: Path | None = Field(None, description="PEM client certificate, when the brokers ask for one.")
    kafka_key_file: Path | None = Field(None, description="PEM private key of the client certificate.")
    kafka_replication_factor: int = Field(1, ge=1, le=32, description="Replication factor of the topics "
                                          "Tablero creates (3 on a production cluster).")
    kafka_min_insync_replicas: int = Field(1, ge=1, le=32, description="min.insync.replicas of the topics "
                                           "Tablero creates (acks=all writes need this many replicas).")
    metrics_port: int = Field(0, ge=0, le=65535, description="Port of the worker's own /metrics when it "
                              "runs apart (`tablero worker`); 0: none. The API serves /metrics on its port.")

    @model_validator(mode="after")
    def _kafka_security(self):
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError("TABLERO_KAFKA_MIN_INSYNC_REPLICAS must not exceed TABLERO_KAFKA_REPLICATION_FACTOR")
        if self.kafka_security_protocol.startswith("SASL") and not self.kafka_username:
            raise ValueError(f"TABLERO_KAFKA_USERNAME is required with TABLERO_KAFKA_SECURITY_PROTOCOL="
                             f"{self.kafka_security_protocol}")
        if bool(self.kafka_cert_file) != bool(self.kafka_key_file):
            raise ValueError("TABLERO_KAFKA_CERT_FILE and TABLERO_KAFKA_KEY_FILE go together")
        for name in ("kafka_ca_file", "kafka_cert_file", "kafka_key_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"TABLERO_{name.upper()}: no such file {str(path)!r}")
        return self
    # --- Chatwoot connector (POST /api/v1/connectors/chatwoot; docs/connectors.md) ---------------
    chatwoot_secret: str = Field("", description="Webhook secret of the Chatwoot webhook: when set, the "
                                 "X-Chatwoot-Signature HMAC (with X-Chatwoot-Timestamp) must match, else 401.")
    chatwoot_inboxes: dict[str, str] = Field(default_factory=dict, description="JSON object inbox id -> queue "
                                             "name, e.g. {\"3\": \"Website chat\"}; unmapped inboxes are "
                                             "queue inbox-<id> (or the inbox name when the payload has one).")
    chatwoot_max_skew_s: int = Field(300, ge=1, description="Oldest accepted X-Chatwoot-Timestamp, seconds.")
    # -- Email connector: an IMAP mailbox (`tablero connect imap`, docs/connectors.md) -----------
    imap_host: str = Field("", description="IMAP server host name (required by `tablero connect imap`).")
    imap_port: int = Field(0, ge=0, le=65535, description="IMAP port; 0: 993 with tls, 143 otherwise.")
    imap_security: Literal["tls", "starttls", "none"] = Field(
        "tls", description="tls (IMAPS), starttls (upgrade a plain connection) or none (tests only).")
    imap_user: str = Field("", description="Login of the mailbox.")
    imap_password: str = Field("", description="Password (environment only, never on the command line).")
    imap_password_file: Path | None = Field(None, description="File holding the password (e.g. a secret mount); "
                                            "used when TABLERO_IMAP_PASSWORD is empty.")
    imap_ca_file: Path | None = Field(None, description="CA certificates to trust (PEM); empty: the system's.")
    imap_inbox: str = Field("INBOX", min_length=1, description="Folder where customer mail arrives.")
    imap_sent_folder: str = Field("", description="Agents' sent folder; empty: the \\Sent special-use folder.")
    imap_close_folders: str = Field("", description="Comma-separated folders whose arrivals close the contact; "
                                    "empty: the \\Archive special-use folder.")
    imap_queue: str = Field("email", min_length=1, max_length=128, description="Queue of the mailbox's contacts.")
    imap_agent_addresses: str = Field("", description="Comma-separated agent addresses, optionally "
                                      "address=agent name (ana@acme.com=Ana).")
    imap_agent_domains: str = Field("", description="Comma-separated domains whose senders are agents.")
    imap_poll_s: float = Field(30, gt=0, le=3600, description="How often the sent and close folders are read "
                               "(the inbox wakes the connector at once through IDLE).")
    imap_idle_renew_s: float = Field(1440, ge=10, le=1740, description="IDLE is renewed at least this often "
                                     "(servers may drop it after 30 minutes).")
    imap_retention_days: float = Field(60, gt=0, description="Closed contacts are forgotten by the threader after this.")

    # -- Help Scout webhooks (POST /api/v1/connectors/helpscout, docs/connectors.md) -------------
    helpscout_secret: str = Field("", description="Help Scout webhook secret key; empty: the endpoint answers 503.")


    # -- alerts (issue 15; pipeline/alerts, docs/alerts.md) ---------------------------------
    alerts_file: Path | None = Field(None, description="TOML file of alert rules (docs/alerts.md); "
                                     "reloaded when it changes. Empty: no alerts.")
    alerts_smtp: str = Field("", description="SMTP server for email: targets: "
                             "smtp://[user:password@]host[:port][?mode=starttls|ssl|insecure].")
    alerts_from: str = Field("", description="Sender address of alert emails.")
    alerts_interval_s: float = Field(0.5, gt=0, le=60, description="How often alert rules are evaluated.")
    alerts_max_attempts: int = Field(8, ge=1, le=100, description="Delivery attempts before a "
                                     "notification is kept as undeliverable.")
    # --- drill-down and customer journey (issue 17) ---------------------------------------------
    repeat_contact_days: float = Field(7, gt=0, le=365, description="Repeat-contact rate: a contact counts "
                                       "as repeated when its customer contacts again (any queue, any "
                                       "channel) within this many days.")

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
            if name in ("admin_token", "chatwoot_secret", "imap_password", "helpscout_secret") and value:
                value = "****"
            if isinstance(value, SecretStr):
                value = "****" if value.get_secret_value() else ""
            out[f"TABLERO_{name.upper()}"] = "" if value is None else str(value)
        out["(effective kafka)"] = self.kafka_bootstrap
        out["(effective clickhouse)"] = mask_dsn(self.clickhouse_dsn)
        out["TABLERO_CLICKHOUSE"] = mask_dsn(self.clickhouse)
        out["TABLERO_ALERTS_SMTP"] = mask_dsn(self.alerts_smtp)
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
            if not err["loc"]:  # a check across fields names its variables in the message
                lines.append(err["msg"].removeprefix("Value error, "))
                continue
            name = "TABLERO_" + str(err["loc"][0]).upper()
            shown = "****" if "password" in name.lower() else repr(err.get("input"))
            lines.append(f"{name}: {err['msg']} (got {shown})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
