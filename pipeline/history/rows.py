"""The rows one processed batch adds to history, per table (pure data: built by the worker's
batch step, landed by pipeline/history/landing.py). `dedup_token` makes a retried insert of the
same batch a no-op in ClickHouse. The worker lands several batches at once (`add`): ClickHouse
wants few, large inserts."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Rows:
    events: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    agent_states: list[dict] = field(default_factory=list)
    dedup_token: str = ""

    def __bool__(self) -> bool:
        return bool(self.events or self.contacts or self.agent_states)

    def add(self, other: "Rows") -> None:
        """Append a later batch's rows. A contact's fact row replaces an earlier one of the same
        contact (versions only grow); the token covers both batches' offset spans."""
        self.events += other.events
        self.agent_states += other.agent_states
        if other.contacts:
            if self.contacts:
                later = {r["contact_id"] for r in other.contacts}
                self.contacts = [r for r in self.contacts if r["contact_id"] not in later]
            self.contacts += other.contacts
        self.dedup_token = _merge_spans(self.dedup_token, other.dedup_token)

    def tables(self):
        yield "events", self.events
        yield "contacts", self.contacts
        yield "agent_states", self.agent_states


def _merge_spans(a: str, b: str) -> str:
    """Tokens are "partition:first-last" per partition, comma-separated: the union's spans."""
    if not a or not b:
        return a or b
    spans: dict[int, list[int]] = {}
    for part in (a + "," + b).split(","):
        p, _, ab = part.partition(":")
        lo, _, hi = ab.partition("-")
        cur = spans.setdefault(int(p), [int(lo), int(hi)])
        cur[0], cur[1] = min(cur[0], int(lo)), max(cur[1], int(hi))
    return ",".join(f"{p}:{lo}-{hi}" for p, (lo, hi) in sorted(spans.items()))
