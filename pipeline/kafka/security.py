"""How every Kafka client of Tablero connects: one place that turns the TABLERO_KAFKA_* security
settings (protocol PLAINTEXT / SSL / SASL_PLAINTEXT / SASL_SSL, SASL mechanism PLAIN /
SCRAM-SHA-256 / SCRAM-SHA-512, user name, password, CA file, client certificate and key) into the
keyword arguments of each client library:

  client_kwargs("aiokafka")      AIOKafkaConsumer / AIOKafkaProducer (worker, state restore, API)
  client_kwargs("kafka-python")  KafkaAdminClient / KafkaConsumer / KafkaProducer (admin, status,
                                 publish, import, simulate, dlq)
  faust_credentials()            faust.App(broker_credentials=...) (Faust's own producer/consumer)

Both libraries get the same ssl.SSLContext (one per process and file set). `access_error` turns
a client's failure into one line naming the setting to fix (wrong password, unknown CA, ...), so
commands can stop at once instead of retrying an error that retries cannot fix.
"""
from __future__ import annotations

import ssl
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pipeline.settings import Settings, get_settings

Library = Literal["aiokafka", "kafka-python"]


@lru_cache(maxsize=8)
def _ssl_context(ca: Path | None, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)  # verifies the host name too
    if cert:
        ctx.load_cert_chain(str(cert), str(key) if key else None)
    return ctx


def ssl_context(settings: Settings | None = None) -> ssl.SSLContext | None:
    s = settings or get_settings()
    if s.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    try:
        return _ssl_context(s.kafka_ca_file, s.kafka_cert_file, s.kafka_key_file)
    except ssl.SSLError as exc:
        raise KafkaAccessError(f"TABLERO_KAFKA_CA_FILE / TABLERO_KAFKA_CERT_FILE / TABLERO_KAFKA_KEY_FILE: "
                               f"not usable PEM files ({exc.reason or exc})") from None


def client_kwargs(library: Library, settings: Settings | None = None) -> dict:
    """Security keyword arguments for one client of `library` (empty dict for PLAINTEXT)."""
    s = settings or get_settings()
    protocol = s.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    kwargs: dict = {"security_protocol": protocol}
    ctx = ssl_context(s)
    if ctx is not None:
        kwargs["ssl_context"] = ctx
    if protocol.startswith("SASL"):
        kwargs.update(sasl_mechanism=s.kafka_sasl_mechanism, sasl_plain_username=s.kafka_username,
                      sasl_plain_password=s.kafka_password.get_secret_value())
    if library == "kafka-python" and ctx is not None:
        kwargs["ssl_check_hostname"] = True
    return kwargs


def faust_credentials(settings: Settings | None = None):
    """Faust's broker_credentials (None for PLAINTEXT)."""
    import faust

    s = settings or get_settings()
    protocol = s.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(ssl_context(s))
    return faust.SASLCredentials(username=s.kafka_username, password=s.kafka_password.get_secret_value(),
                                 ssl_context=ssl_context(s), mechanism=s.kafka_sasl_mechanism)


class KafkaAccessError(RuntimeError):
    """One line: what the broker or the TLS handshake refused, and the setting to fix."""


def access_error(exc: BaseException, settings: Settings | None = None) -> str | None:
    """The one-line reason when `exc` (from any client, possibly wrapped) is a credentials or TLS
    problem that retrying cannot fix; None for anything else (broker away, timeouts...)."""
    s = settings or get_settings()
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen and len(seen) < 10:
        seen.append(e)
        e = e.__cause__ or e.__context__
    text = " | ".join(f"{type(x).__name__}: {x}" for x in seen)
    low = text.lower()
    where = f"Kafka at {s.kafka_bootstrap}"
    if "authentication" in low or "sasl" in low and "fail" in low or "invalid credentials" in low:
        return (f"{where} rejected user {s.kafka_username!r} with {s.kafka_sasl_mechanism}: check "
                f"TABLERO_KAFKA_USERNAME, TABLERO_KAFKA_PASSWORD and TABLERO_KAFKA_SASL_MECHANISM")
    if "certificate verify failed" in low or "certificate_verify_failed" in low:
        return (f"{where}: the broker's certificate is not trusted or does not name this host: check "
                f"TABLERO_KAFKA_CA_FILE (and that TABLERO_KAFKA names the broker as in its certificate)")
    if "tlsv13 alert certificate required" in low or "alert certificate required" in low \
            or "alert bad certificate" in low or "alert_bad_certificate" in low:
        return (f"{where} refused the client certificate: check TABLERO_KAFKA_CERT_FILE and "
                f"TABLERO_KAFKA_KEY_FILE")
    if "wrong version number" in low or "unexpected eof" in low and "ssl" in low:
        return (f"{where} does not speak {s.kafka_security_protocol} on that port: check "
                f"TABLERO_KAFKA_SECURITY_PROTOCOL and the port in TABLERO_KAFKA")
    return None


async def _probe(host: str, port: int, settings: Settings, timeout_s: float) -> None:
    from aiokafka.conn import create_conn
    from aiokafka.protocol.admin import ApiVersionRequest

    conn = await create_conn(host, port, client_id="tablero-check", request_timeout_ms=int(timeout_s * 1000),
                             **client_kwargs("aiokafka", settings))
    try:
        await conn.send(ApiVersionRequest())  # a request after the handshake: the listener really serves us
    finally:
        conn.close()


def check_access(settings: Settings | None = None, timeout_s: float = 10.0) -> None:
    """Connect once to a bootstrap broker with the security settings and raise KafkaAccessError
    with one line naming the setting at fault when the broker refuses them. A broker that cannot
    be reached at all is not this check's business (callers report it as unreachable)."""
    import asyncio

    from aiokafka.errors import KafkaConnectionError

    s = settings or get_settings()
    if s.kafka_security_protocol == "PLAINTEXT":
        return
    ctx = ssl_context(s)  # bad PEM files fail here, naming the file settings
    del ctx
    host, _, port = s.kafka_bootstrap.split(",")[0].strip().rpartition(":")
    try:
        asyncio.run(asyncio.wait_for(_probe(host.strip("[]"), int(port), s, timeout_s), timeout_s + 1))
    except (asyncio.TimeoutError, ConnectionRefusedError, OSError) as exc:
        why = access_error(exc, s)
        if why:
            raise KafkaAccessError(why) from None
    except KafkaConnectionError as exc:
        why = access_error(exc, s)
        if why is None and "closed" in str(exc):
            why = (f"Kafka at {s.kafka_bootstrap} closed the connection during the handshake: check "
                   f"TABLERO_KAFKA_SECURITY_PROTOCOL ({s.kafka_security_protocol}) against the listener on that "
                   f"port, and TABLERO_KAFKA_CERT_FILE / TABLERO_KAFKA_KEY_FILE if it asks for a client certificate")
        if why:
            raise KafkaAccessError(why) from None
    except Exception as exc:  # SASL failures, TLS errors
        raise KafkaAccessError(access_error(exc, s) or f"Kafka at {s.kafka_bootstrap}: {type(exc).__name__}: "
                               f"{exc} (check the TABLERO_KAFKA_* security settings)") from None
