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

from pipeline.settings import Settings, get_settings  # noqa: E402


def settings_dep() -> Settings:
    return get_settings()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.query_params.get("token") or None


async def current_principal(request: Request) -> Principal:
    from supervisor_api.auth import authenticate_token

    limiter = getattr(request.app.state, "auth_failures", None)
    client = request.client.host if request.client else "?"
    if limiter is not None and not limiter.allow_peek(client):
        raise HTTPException(429, "too many failed logins from this address; wait a minute",
                            headers={"Retry-After": "60"})
    principal = await authenticate_token(bearer_token(request))
    if principal is None:
        if limiter is not None:
            limiter.allow(client)
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
