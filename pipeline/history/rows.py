"""The rows one processed batch adds to history, per table (pure data: built by the worker's
batch step, landed by pipeline/history/landing.py). `dedup_token` makes a retried insert of the
same batch a no-op in ClickHouse. The worker lands several batches at once (`add`): ClickHouse
wants few, large inserts.

A row is a tuple in its table's column order (EVENT_COLUMNS, CONTACT_COLUMNS,
AGENT_STATE_COLUMNS), not a dict: the rows of up to TABLERO_BATCH_MAX events wait in memory for
their landing, and a 41-column contact row is 0.4 KB as a tuple against 2.3 KB as a dict. The
landing turns them into columns in one transposition (`zip(*rows)`). `dicts()` gives them by
name (tests, tools). An event row's `data` is the event's data dict: ClickHouse stores it as
its JSON text (clickhouse_store.insert_json), so the batch step does not serialize it."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.history.contact_facts import AGENT_STATE_COLUMNS, CONTACT_COLUMNS

EVENT_COLUMNS = ("id", "type", "time", "subject", "source", "queue", "channel", "agent", "data",
                 "kafka_partition", "kafka_offset", "ingested_at")
COLUMNS = {"events": EVENT_COLUMNS, "contacts": CONTACT_COLUMNS, "agent_states": AGENT_STATE_COLUMNS}


@dataclass
class Rows:
    events: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)  # contact_id first
    agent_states: list[tuple] = field(default_factory=list)
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
                later = {r[0] for r in other.contacts}
                self.contacts = [r for r in self.contacts if r[0] not in later]
            self.contacts += other.contacts
        self.dedup_token = _merge_spans(self.dedup_token, other.dedup_token)

    def tables(self):
        """(table, column names, rows) for each table."""
        yield "events", EVENT_COLUMNS, self.events
        yield "contacts", CONTACT_COLUMNS, self.contacts
        yield "agent_states", AGENT_STATE_COLUMNS, self.agent_states

    def dicts(self, table: str) -> list[dict]:
        """A table's rows by column name."""
        names = COLUMNS[table]
        return [dict(zip(names, r)) for r in getattr(self, table)]


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
