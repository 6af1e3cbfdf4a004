"""API tokens: roles, queue scopes, stored hashed.

Tokens look like `tb_<id>_<secret>`; the store keeps only sha256(secret) per id in a JSON file
(`<data_dir>/tokens.json`, or TABLERO_TOKENS_FILE), so `tablero token create` works while the
API runs (a chDB directory can only be opened by one process) and API replicas can share it
through a mounted volume. The file is re-read when it changes, so a revocation takes effect
without a restart.

Router contract: ``async def authenticate_token(token) -> Principal | None`` (None = invalid).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from supervisor_api.deps import ROLES, Principal

# Tokens registered in process (tests, the bootstrap admin token).
TOKENS: dict[str, Principal] = {}


def register_tokens(tokens: dict[str, Principal]) -> None:
    TOKENS.update(tokens)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class TokenRecord:
    token_id: str
    name: str
    role: str
    queues: list[str] | None
    sha256: str
    created: float
    revoked: bool = False

    def principal(self) -> Principal:
        return Principal(self.token_id, self.role, None if self.queues is None else frozenset(self.queues))


class TokenStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._records: dict[str, TokenRecord] = {}

    def _load(self) -> dict[str, TokenRecord]:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._records, self._mtime = {}, None
            return self._records
        if mtime != self._mtime:
            raw = orjson.loads(self.path.read_bytes() or b"{}")
            self._records = {k: TokenRecord(**v) for k, v in raw.items()}
            self._mtime = mtime
        return self._records

    def _save(self, records: dict[str, TokenRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({k: vars(v) for k, v in records.items()}, option=orjson.OPT_INDENT_2))
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    def create(self, name: str, role: str, queues: list[str] | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(24)
        with self._lock:
            records = dict(self._load())
            records[token_id] = TokenRecord(token_id, name, role, sorted(set(queues)) if queues else None,
                                            _hash(secret), time.time())
            self._save(records)
        return f"tb_{token_id}_{secret}"

    def revoke(self, token_id: str) -> bool:
        with self._lock:
            records = dict(self._load())
            if token_id not in records:
                return False
            records[token_id].revoked = True
            self._save(records)
            return True

    def list(self) -> list[TokenRecord]:
        with self._lock:
            return sorted(self._load().values(), key=lambda r: r.created)

    def authenticate(self, token: str) -> Principal | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "tb":
            return None
        with self._lock:
            record = self._load().get(parts[1])
        if record is None or record.revoked:
            return None
        if not hmac.compare_digest(record.sha256, _hash(parts[2])):
            return None
        return record.principal()


_store: TokenStore | None = None


def configure(path: Path, admin_token: str = "") -> TokenStore:
    """Point authentication at a token file; register the bootstrap admin token if any."""
    global _store
    _store = TokenStore(path)
    if admin_token:
        TOKENS[admin_token] = Principal("admin-bootstrap", "admin", None)
    return _store


def token_store() -> TokenStore:
    if _store is None:
        from pipeline.settings import get_settings
        s = get_settings()
        return configure(s.tokens_path, s.admin_token)
    return _store


async def authenticate_token(token: str | None) -> Principal | None:
    if not token:
        return None
    for known, principal in TOKENS.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            return principal
    return token_store().authenticate(token)
