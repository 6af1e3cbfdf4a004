"""Anonymous Bank mapping: exact counts from the real file, every event valid, clear row errors."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from pipeline.connectors.anonymous_bank import (
    COLUMNS, AnonymousBankFormatError, count_rows, iter_events,
)
from pipeline.schemas.event import Event
from pipeline.schemas.validation import validate
from tests.datasets import ANONYMOUS_BANK

REAL = ANONYMOUS_BANK
HEADER = "\t".join(COLUMNS)


def test_real_file_counts_and_every_event_valid():
    types: Counter[str] = Counter()
    ids: set[str] = set()
    per_contact: dict[str, list[Event]] = {}
    rows = []
    for raw in iter_events(REAL, on_row=rows.append):
        ev = validate(orjson.dumps(raw), max_bytes=65536)
        assert isinstance(ev, Event), (ev, raw)
        types[ev.type] += 1
        ids.add(ev.id)
        per_contact.setdefault(ev.subject, []).append(ev)
    assert len(rows) == count_rows(REAL) == 33344
    assert types == {"contact.created": 31094, "contact.answered": 27162, "contact.closed": 27162,
                     "contact.abandoned": 3932}
    assert len(per_contact) == 31094
    assert len(ids) == sum(types.values())  # event ids unique
    for events in per_contact.values():
        kinds = [e.type for e in events]
        assert kinds in (["contact.created", "contact.answered", "contact.closed"],
                         ["contact.created", "contact.abandoned"])
        times = [e.time for e in events]
        assert times == sorted(times)
        assert all(e.data.get("channel", "voice") == "voice" for e in events)


def _file(tmp_path, *rows: str) -> Path:
    p = tmp_path / "calls.tsv"
    p.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode())
    return p


def row(**kw) -> str:
    base = {
        "vru+line": "AA0101", "call_id": "1", "customer_id": "0", "priority": "0", "type": "PS",
        "date": "990201", "vru_entry": "7:00:00", "vru_exit": "7:00:10", "vru_time": "10",
        "q_start": "0:00:00", "q_exit": "0:00:00", "q_time": "0", "outcome": "AGENT",
        "ser_start": "7:00:12", "ser_exit": "7:01:12", "ser_time": "60", "server": "DORIT",
    }
    base.update(kw)
    return "\t".join(base[c] for c in COLUMNS)


def _by_kind(path):
    return {e["type"].removeprefix("contact."): e for e in iter_events(path)}


def test_agent_without_queue(tmp_path):
    ev = _by_kind(_file(tmp_path, row()))
    assert ev["created"]["time"] == "1999-02-01T07:00:10Z"  # vru_exit
    assert ev["created"]["data"] == {"channel": "voice", "queue": "PS", "customer": None, "priority": 0, "tags": []}
    assert ev["created"]["subject"] == "anonbank-AA0101-1"
    assert ev["created"]["source"] == "anonymous-bank"
    assert ev["answered"]["time"] == "1999-02-01T07:00:12Z"
    assert ev["answered"]["data"] == {"agent": "DORIT"}
    assert ev["closed"]["time"] == "1999-02-01T07:01:12Z"
    assert ev["closed"]["id"] == "anonbank-AA0101-1-closed"


def test_answered_never_before_created(tmp_path):
    p = _file(tmp_path, row(q_start="7:00:10", q_time="30", ser_start="7:00:39", ser_time="5",
                            customer_id="23317894", priority="2", type="NW"))
    ev = _by_kind(p)
    assert ev["created"]["time"] == "1999-02-01T07:00:10Z"  # q_start
    assert ev["created"]["data"]["customer"] == "23317894"
    assert ev["answered"]["time"] == "1999-02-01T07:00:39Z"
    ev = _by_kind(_file(tmp_path, row(vru_exit="7:00:10", ser_start="7:00:09", ser_time="5")))
    assert ev["answered"]["time"] == "1999-02-01T07:00:10Z"  # max(ser_start, created)
    assert ev["closed"]["time"] == "1999-02-01T07:00:15Z"


def test_hang_after_queueing_is_abandoned(tmp_path):
    p = _file(tmp_path, row(outcome="HANG", q_start="7:00:10", q_time="45", ser_start="0:00:00",
                            ser_time="0", server="NO_SERVER"))
    ev = _by_kind(p)
    assert set(ev) == {"created", "abandoned"}
    assert ev["abandoned"]["time"] == "1999-02-01T07:00:55Z"
    assert ev["abandoned"]["data"] == {}


def test_not_contacts(tmp_path):
    p = _file(tmp_path, row(outcome="HANG", q_time="0"), row(outcome="PHANTOM", q_start="7:00:10", q_time="3"))
    assert list(iter_events(p)) == []
    assert count_rows(p) == 2


def test_times_past_midnight_belong_to_next_day(tmp_path):
    p = _file(tmp_path, row(date="990228", vru_entry="23:59:50", vru_exit="0:00:05", q_start="0:00:05",
                            q_time="20", ser_start="0:00:25", ser_time="100"))
    ev = _by_kind(p)
    assert ev["created"]["time"] == "1999-03-01T00:00:05Z"
    assert ev["answered"]["time"] == "1999-03-01T00:00:25Z"
    assert ev["closed"]["time"] == "1999-03-01T00:02:05Z"


@pytest.mark.parametrize("change,line_col", [
    ({"q_time": "x"}, "line 3, column 'q_time'"),
    ({"vru_entry": "25:00:00"}, "line 3, column 'vru_entry'"),
    ({"date": "99021"}, "line 3, column 'date'"),
    ({"outcome": "LOST"}, "line 3, column 'outcome'"),
    ({"ser_time": "-4"}, "line 3, column 'ser_time'"),
])
def test_malformed_row_names_line_and_column(tmp_path, change, line_col):
    p = _file(tmp_path, row(), row(**change))
    with pytest.raises(AnonymousBankFormatError, match=line_col) as info:
        list(iter_events(p))
    assert info.value.line == 3


def test_wrong_column_count_and_header(tmp_path):
    p = _file(tmp_path, row(), "AA0101\t2\t0")
    with pytest.raises(AnonymousBankFormatError, match="line 3: 3 columns"):
        list(iter_events(p))
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n")
    with pytest.raises(AnonymousBankFormatError, match="line 1"):
        list(iter_events(bad))


def test_streaming_is_lazy(tmp_path):
    p = _file(tmp_path, row(), row(q_time="oops"))
    it = iter_events(p)
    assert next(it)["type"] == "contact.created"  # first row served before the bad row is read
    next(it), next(it)
    with pytest.raises(AnonymousBankFormatError):
        next(it)
