"""Dead-letter records: the original bytes untouched as the value, why in the headers
(the Kafka Connect convention), so an operator can read, fix and replay them."""
from __future__ import annotations

from dataclasses import dataclass

H_CODE = "tablero.code"
H_REASON = "tablero.reason"
H_FIELD = "tablero.field"
H_PARTITION = "tablero.source.partition"
H_OFFSET = "tablero.source.offset"


@dataclass(slots=True, frozen=True)
class DeadLetter:
    value: bytes
    key: bytes | None
    code: str
    reason: str
    field: str | None
    partition: int
    offset: int

    def headers(self) -> list[tuple[str, bytes]]:
        h = [(H_CODE, self.code.encode()), (H_REASON, self.reason.encode()),
             (H_PARTITION, str(self.partition).encode()), (H_OFFSET, str(self.offset).encode())]
        if self.field:
            h.append((H_FIELD, self.field.encode()))
        return h

    @classmethod
    def from_record(cls, key: bytes | None, value: bytes, headers) -> "DeadLetter":
        h = {k: v.decode(errors="replace") for k, v in (headers or [])}
        return cls(value=value, key=key, code=h.get(H_CODE, "?"), reason=h.get(H_REASON, ""),
                   field=h.get(H_FIELD), partition=int(h.get(H_PARTITION, -1)), offset=int(h.get(H_OFFSET, -1)))
