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
