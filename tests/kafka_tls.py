"""Certificates the tests make for the local broker's SASL_SSL listener (cryptography): a CA, the
broker's certificate (SAN 127.0.0.1 and localhost) and a client certificate, all PEM, unencrypted
PKCS#8 keys (Kafka reads PEM key stores since KIP-651). Nothing here is reused outside tests."""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TlsFiles:
    ca: Path            # CA certificate: clients trust it; the broker checks client certificates with it
    broker: Path        # broker key + certificate chain (the listener's PEM key store)
    client_cert: Path
    client_key: Path


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool = False, san=None, usage=None):
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1))
               .not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_tls_files(directory: Path) -> TlsFiles:
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca = _cert("tablero test CA", ca_key, None, None, ca=True)
    broker_key = _key()
    broker = _cert("127.0.0.1", broker_key, ca.subject, ca_key,
                   san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
                   usage=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    client_key = _key()
    client = _cert("tablero-client", client_key, ca.subject, ca_key, usage=[ExtendedKeyUsageOID.CLIENT_AUTH])
    pem = serialization.Encoding.PEM
    files = TlsFiles(directory / "ca.pem", directory / "broker.pem", directory / "client.pem",
                     directory / "client.key")
    files.ca.write_bytes(ca.public_bytes(pem))
    files.broker.write_bytes(_pem_key(broker_key) + broker.public_bytes(pem) + ca.public_bytes(pem))
    files.client_cert.write_bytes(client.public_bytes(pem))
    files.client_key.write_bytes(_pem_key(client_key))
    return files
