"""Rows of several batches landed as one: the later fact row of a contact wins, the dedup token
covers every batch's offsets."""
from __future__ import annotations

from pipeline.history.rows import COLUMNS, Rows


def test_batches_add_up_with_the_latest_fact_row_per_contact_and_the_union_of_offsets():
    a = Rows(events=[("e1",)], contacts=[("c1", 1), ("c2", 1)], dedup_token="0:10-19,2:5-5")
    b = Rows(events=[("e2",)], contacts=[("c1", 2)], agent_states=[("a1",)], dedup_token="0:20-24,1:0-3")
    a.add(b)
    assert [r["id"] for r in a.dicts("events")] == ["e1", "e2"]
    assert sorted((r["contact_id"], r["version"]) for r in a.dicts("contacts")) == [("c1", 2), ("c2", 1)]
    assert a.dicts("agent_states") == [{"agent": "a1"}]
    assert a.dedup_token == "0:10-24,1:0-3,2:5-5"
    empty = Rows()
    empty.add(Rows(dedup_token="3:1-2"))
    assert empty.dedup_token == "3:1-2" and not empty


def test_rows_are_tuples_in_their_tables_column_order():
    names = dict((t, n) for t, n, _ in Rows().tables())
    assert names == COLUMNS
    assert COLUMNS["events"][0] == "id" and COLUMNS["contacts"][0] == "contact_id"  # add() keys on [0]
