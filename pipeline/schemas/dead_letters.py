"""Dead-letter records: the original bytes untouched as the value, why in the headers
(the Kafka Connect convention), so an operator can read, fix and replay them.

A dead letter is identified by where its original was read (source partition and offset, or a
connector's file and line). The worker writes it at most once per landing, but a crash after the
write and before the offsets' commit replays the batch and writes it again; readers keep the
first of each identity (`first_of_each`), so the topic reads as if written once."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

H_CODE = "tablero.code"
H_REASON = "tablero.reason"
H_FIELD = "tablero.field"
H_PARTITION = "tablero.source.partition"
H_OFFSET = "tablero.source.offset"
# connectors reading files (tablero connect asterisk): where the unreadable record was
H_FILE = "tablero.source.file"
H_LINE = "tablero.source.line"
MALFORMED_SOURCE = "malformed_source"  # a source record (e.g. a queue_log line) a connector cannot read


@dataclass(slots=True, frozen=True)
class DeadLetter:
    value: bytes
    key: bytes | None
    code: str
    reason: str
    field: str | None
    partition: int
    offset: int
    source_file: str | None = None
    source_line: int | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        h = [(H_CODE, self.code.encode()), (H_REASON, self.reason.encode()),
             (H_PARTITION, str(self.partition).encode()), (H_OFFSET, str(self.offset).encode())]
        if self.field:
            h.append((H_FIELD, self.field.encode()))
        if self.source_file is not None:
            h.append((H_FILE, self.source_file.encode()))
        if self.source_line is not None:
            h.append((H_LINE, str(self.source_line).encode()))
        return h

    @classmethod
    def from_record(cls, key: bytes | None, value: bytes, headers) -> "DeadLetter":
        h = {k: v.decode(errors="replace") for k, v in (headers or [])}
        return cls(value=value, key=key, code=h.get(H_CODE, "?"), reason=h.get(H_REASON, ""),
                   field=h.get(H_FIELD), partition=int(h.get(H_PARTITION, -1)), offset=int(h.get(H_OFFSET, -1)),
                   source_file=h.get(H_FILE), source_line=int(h[H_LINE]) if h.get(H_LINE, "").isdigit() else None)

    @property
    def identity(self) -> tuple | None:
        """Where the original was read; None when the headers do not say (never deduplicated)."""
        if self.source_file is not None:
            return ("file", self.source_file, self.source_line)
        if self.partition >= 0 and self.offset >= 0:
            return ("event", self.partition, self.offset)
        return None

    @property
    def source(self) -> str:
        """Where the record came from: `file:line` for connectors, `partition/offset` otherwise."""
        if self.source_file is not None:
            return f"{self.source_file}:{self.source_line}"
        return f"{self.partition}/{self.offset}"


def first_of_each(letters: Iterable[tuple[T, DeadLetter]]) -> Iterator[tuple[T, DeadLetter]]:
    """(position, dead letter) pairs in topic order without the repeats of an identity seen
    before (a replayed batch's second copy)."""
    seen: set[tuple] = set()
    for position, dl in letters:
        ident = dl.identity
        if ident is not None:
            if ident in seen:
                continue
            seen.add(ident)
        yield position, dl
