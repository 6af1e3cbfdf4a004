"""FastAPI dependencies: settings and the authenticated principal."""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "supervisor", "planner", "publisher", "wallboard")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. `queues` None means every queue."""

    token_id: str
    role: str
    queues: frozenset[str] | None = None

    def can_see(self, queue: str) -> bool:
        return self.queues is None or queue in self.queues

    def can_read_live(self) -> bool:
        return self.role in ("admin", "supervisor", "wallboard")

    def can_read_reports(self) -> bool:
        return self.role in ("admin", "supervisor", "planner")

    def can_publish(self) -> bool:
        return self.role in ("admin", "publisher")


# --- request dependencies -------------------------------------------------------------------
from fastapi import Depends, HTTPException, Request  # noqa: E402
from starlette.requests import HTTPConnection  # noqa: E402

from pipeline.settings import Settings, get_settings  # noqa: E402


def settings_dep(request: Request) -> Settings:
    """The settings the app was created with (create_app(settings)), else the environment's."""
    return getattr(request.app.state, "settings", None) or get_settings()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.query_params.get("token") or None


LOGIN_RETRY_AFTER_S = 60


async def authenticate_connection(conn: HTTPConnection, token: str | None) -> Principal | None:
    """Authenticate `token` for a request or websocket, counting failures per client address.

    Raises LoginsThrottled when the address has failed too often (checked before the token, so a
    throttled address cannot keep guessing)."""
    from supervisor_api import auth

    limiter = getattr(conn.app.state, "auth_failures", None)
    client = conn.client.host if conn.client else "?"
    if limiter is not None and not limiter.allow_peek(client):
        raise LoginsThrottled()
    principal = await auth.authenticate_token(token)
    if principal is None and limiter is not None:
        limiter.allow(client)
    return principal


class LoginsThrottled(Exception):
    pass


async def current_principal(request: Request) -> Principal:
    try:
        principal = await authenticate_connection(request, bearer_token(request))
    except LoginsThrottled:
        raise HTTPException(429, "too many failed logins from this address; wait a minute",
                            headers={"Retry-After": str(LOGIN_RETRY_AFTER_S)}) from None
    if principal is None:
        raise HTTPException(401, "missing or invalid token: send `Authorization: Bearer <token>` "
                                 "(create one with `tablero token create`)",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(check: str):
    """Dependency factory: the principal must pass Principal.<check>()."""

    async def dep(principal: Principal = Depends(current_principal)) -> Principal:
        if not getattr(principal, check)():
            raise HTTPException(403, f"role {principal.role!r} may not do this")
        return principal

    return dep


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit` bytes (a declared
    Content-Length over it is refused before reading)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"body of {length} bytes is over {limit} bytes (TABLERO_MAX_BODY_BYTES)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body over {limit} bytes (TABLERO_MAX_BODY_BYTES)")
    return bytes(body)
