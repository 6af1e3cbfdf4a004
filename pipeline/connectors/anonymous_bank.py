"""Anonymous Bank (Feb 1999, Technion SEE lab) call log -> v1 contract events.

Mapping rules (binding; the history tests re-derive them independently from the raw file):
- one voice contact per row with outcome AGENT, or outcome HANG with q_time > 0; PHANTOM rows and
  HANG rows that never queued are not contacts;
- queue = `type`; times are naive wall-clock times read as UTC; a time of day earlier than
  vru_entry belongs to the next day;
- created = q_start if q_time > 0 else vru_exit;
- AGENT: answered by `server` at max(ser_start, created); closed by `server` at answered + ser_time s;
- HANG: abandoned at created + q_time s;
- customer = customer_id as written (a few are spreadsheet-mangled, e.g. "6.02701E+11"),
  None when "0"; priority = priority column.

call_id alone is NOT unique in the file (it restarts per IVR line: 7,919 contact call_ids repeat),
so the contact id is "anonbank-<vru+line>-<call_id>" and event ids append the event kind.
Events come per contact in time order; contacts in file order (not globally time-sorted).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

SOURCE = "anonymous-bank"
COLUMNS = (
    "vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry", "vru_exit",
    "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time", "server",
)
_COL = {name: i for i, name in enumerate(COLUMNS)}
_OUTCOMES = frozenset({"AGENT", "HANG", "PHANTOM"})


class AnonymousBankFormatError(ValueError):
    """A row the mapping cannot read; the message names the line number and the column."""

    def __init__(self, path: Path | str, line: int, column: str | None, problem: str):
        where = f"line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{path}: {where}: {problem}")
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Call:
    """One contact: the mapping's intermediate."""
    contact_id: str
    line: int
    queue: str
    priority: int
    customer: str | None
    created: datetime
    answered: datetime | None
    closed: datetime | None
    abandoned: datetime | None
    agent: str | None


def count_rows(path: Path | str) -> int:
    """Data rows (header excluded), for a progress bar."""
    with open(path, "rb") as f:
        n = sum(1 for line in f if line.strip())
    return max(n - 1, 0)


def iter_calls(path: Path | str, *, on_row: Callable[[int], None] | None = None) -> Iterator[Call]:
    """Stream the file's contacts. `on_row(line_number)` is called for every data row."""
    with open(path, encoding="ascii", newline="") as f:
        header = f.readline().rstrip("\r\n").split("\t")
        if tuple(header) != COLUMNS:
            raise AnonymousBankFormatError(path, 1, None, f"unexpected header {header!r}; expected {list(COLUMNS)!r}")
        for lineno, text in enumerate(f, start=2):
            text = text.rstrip("\r\n")
            if on_row is not None:
                on_row(lineno)
            if not text.strip():
                continue
            call = _row_to_call(path, lineno, text.split("\t"))
            if call is not None:
                yield call


def iter_events(path: Path | str, *, on_row: Callable[[int], None] | None = None) -> Iterator[dict]:
    """Stream CloudEvents envelope dicts (ready for orjson.dumps), per contact in time order."""
    for call in iter_calls(path, on_row=on_row):
        yield from call_events(call)


def call_events(call: Call) -> list[dict]:
    cid = call.contact_id
    events = [_event(cid, "created", call.created, {
        "channel": "voice", "queue": call.queue, "customer": call.customer,
        "priority": call.priority, "tags": [],
    })]
    if call.answered is not None:
        events.append(_event(cid, "answered", call.answered, {"agent": call.agent}))
        events.append(_event(cid, "closed", call.closed, {"agent": call.agent}))
    else:
        events.append(_event(cid, "abandoned", call.abandoned, {}))
    return events


# ---------------------------------------------------------------------------------------------

def _event(contact_id: str, kind: str, at: datetime, data: dict) -> dict:
    return {
        "specversion": "1.0",
        "id": f"{contact_id}-{kind}",
        "source": SOURCE,
        "type": f"contact.{kind}",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "subject": contact_id,
        "data": data,
    }


def _row_to_call(path, lineno: int, cells: list[str]) -> Call | None:
    if len(cells) != len(COLUMNS):
        raise AnonymousBankFormatError(path, lineno, None, f"{len(cells)} columns; expected {len(COLUMNS)}")

    def cell(name: str) -> str:
        return cells[_COL[name]].strip()

    def integer(name: str, minimum: int | None = None) -> int:
        try:
            v = int(cell(name))
        except ValueError:
            raise AnonymousBankFormatError(path, lineno, name, f"{cell(name)!r} is not an integer") from None
        if minimum is not None and v < minimum:
            raise AnonymousBankFormatError(path, lineno, name, f"{v} is below {minimum}")
        return v

    def clock(name: str) -> int:
        parts = cell(name).split(":")
        try:
            h, m, s = (int(p) for p in parts)
            if len(parts) != 3 or not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 60):
                raise ValueError
        except ValueError:
            raise AnonymousBankFormatError(path, lineno, name, f"{cell(name)!r} is not a time H:MM:SS") from None
        return h * 3600 + m * 60 + s

    outcome = cell("outcome")
    if outcome not in _OUTCOMES:
        raise AnonymousBankFormatError(path, lineno, "outcome", f"{outcome!r} is not AGENT, HANG or PHANTOM")
    q_time = integer("q_time", 0)
    if outcome == "PHANTOM" or (outcome == "HANG" and q_time == 0):
        return None

    date_text = cell("date")
    try:
        if len(date_text) != 6 or not date_text.isdigit():  # strptime alone takes "99021"
            raise ValueError
        day = datetime.strptime(date_text, "%y%m%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise AnonymousBankFormatError(path, lineno, "date", f"{date_text!r} is not YYMMDD") from None
    vru_entry = clock("vru_entry")

    def at(name: str) -> datetime:
        t = clock(name)
        # a time of day earlier than vru_entry belongs to the next day
        return day + timedelta(days=1 if t < vru_entry else 0, seconds=t)

    line, call_id = cell("vru+line"), cell("call_id")
    if not line:
        raise AnonymousBankFormatError(path, lineno, "vru+line", "empty")
    if not call_id.isdigit():
        raise AnonymousBankFormatError(path, lineno, "call_id", f"{call_id!r} is not a number")
    # kept as text: a few ids were mangled by a spreadsheet upstream ("6.02701E+11")
    customer_id = cell("customer_id")
    if not customer_id:
        raise AnonymousBankFormatError(path, lineno, "customer_id", "empty (0 means unidentified)")
    priority = integer("priority", 0)
    queue = cell("type")
    if not queue:
        raise AnonymousBankFormatError(path, lineno, "type", "empty")

    created = at("q_start") if q_time > 0 else at("vru_exit")
    answered = closed = abandoned = None
    agent = None
    if outcome == "AGENT":
        agent = cell("server")
        if not agent:
            raise AnonymousBankFormatError(path, lineno, "server", "empty")
        answered = max(at("ser_start"), created)
        closed = answered + timedelta(seconds=integer("ser_time", 0))
    else:
        abandoned = created + timedelta(seconds=q_time)
    return Call(
        contact_id=f"anonbank-{line}-{call_id}", line=lineno, queue=queue, priority=priority,
        customer=None if customer_id == "0" else customer_id, created=created, answered=answered,
        closed=closed, abandoned=abandoned, agent=agent,
    )
