"""The contacts list over hand-built facts: repeat contacts across channels and past the range,
every duration range, cursors, export slices, and the SQL include mechanism."""
from __future__ import annotations

import csv
import io

import orjson
import pytest

from pipeline.history import clickhouse_store as store
from pipeline.history import contacts, definitions, reports
from pipeline.history.reports import ReportError, parse_params
from tests.contact_rows import fact, ts

DAY = {"from": "2024-03-04", "to": "2024-03-04"}


@pytest.fixture
def db(ch):
    store.insert_rows(ch, "contacts", [
        # cu1: email, then a voice call 3 days later (after the range) -> e1 is a repeat contact
        fact("e1", "2024-03-04T09:00:00", customer="cu1", first_response_s=1800.0, replies=1, is_answered=1,
             is_closed=1, handle_s=300.0, resolution_s=3600.0),
        fact("v9", "2024-03-07T09:00:00", customer="cu1", channel="voice", queue="phone", wait_s=10.0,
             is_answered=1),
        # cu2: a chat, and the next contact 9 days later: not a repeat with N = 7
        fact("c1", "2024-03-04T12:00:00", customer="cu2", channel="chat", wait_s=70.0, is_answered=1,
             first_response_s=70.0),
        fact("c9", "2024-03-13T12:00:00", customer="cu2", channel="chat"),
        # no customer: never a repeat
        fact("a1", "2024-03-04T13:00:00", channel="voice", abandoned=ts("2024-03-04T13:00:04"), wait_s=4.0,
             is_abandoned=1),
        fact("a2", "2024-03-04T14:00:00", channel="voice", abandoned=ts("2024-03-04T14:01:00"), wait_s=60.0,
             is_abandoned=1),
    ])
    return ch


def count(db, **raw) -> int:
    params, drill = contacts.parse_list({**DAY, **raw})
    return contacts.count(db, params, drill)


def test_repeat_contacts_cross_channels_and_the_range_end(db):
    r = reports.conversations_report(db, parse_params(DAY))
    assert (r["repeat_contacts"], r["conversations"]) == (1, 4)
    assert r["repeat_contact_rate"] == pytest.approx(1 / 2)   # e1 of {e1, c1} (a1, a2 have no customer)
    assert count(db, repeat="true") == 1 and count(db, repeat="false") == 3
    longer = reports.conversations_report(db, parse_params({**DAY, "repeat_days": 10}))
    assert longer["repeat_contacts"] == 2
    one = contacts.contact_measures(db, "e1")
    assert (one["next_contact_id"], one["is_repeat"]) == ("v9", 1)


def test_outcomes_and_flags(db):
    assert count(db) == 4
    assert count(db, outcome="answered") == 2 and count(db, outcome="abandoned") == 2
    assert count(db, outcome="short_abandoned") == 1       # a1 waited 4 s <= 5 s
    assert count(db, outcome="open") == 1 and count(db, outcome="closed") == 1   # c1; e1
    assert count(db, within_sl="true") == 1                 # e1: 1800 s <= 4 h; c1: 70 s > 60 s
    q = reports.queues_report(db, parse_params(DAY))["total"]
    assert (q["answered_within_sl"], q["short_abandoned"]) == (1, 1)


@pytest.mark.parametrize("metric", contacts.DURATIONS)
def test_every_duration_metric_filters(db, metric):
    """Each name in DURATIONS is a key of contact_list.sql's map (an unknown key would match nothing)."""
    params, drill = contacts.parse_list({**DAY, f"{metric}_gte": "0", "limit": "100"})
    rows = contacts.list_page(db, params, drill)["contacts"]
    assert rows and all(r[metric] is not None and r[metric] >= 0 for r in rows)
    assert len(rows) == sum(1 for r in contacts.list_page(db, *contacts.parse_list(DAY))["contacts"]
                            if r[metric] is not None)


def test_ranges_are_strict_or_inclusive(db):
    assert count(db, wait_s_gt="60") == 1 and count(db, wait_s_gte="60") == 2   # c1 70; a2 60
    assert count(db, wait_s_gte="4", wait_s_lte="60") == 2                       # a1, a2
    assert count(db, wait_s_gt="4", wait_s_lt="60") == 0


def test_cursor_pages_never_repeat_or_skip(db):
    params, drill = contacts.parse_list({**DAY, "limit": "1"})
    seen, page = [], contacts.list_page(db, params, drill)
    assert page["total"] == 4
    while True:
        seen += [c["contact_id"] for c in page["contacts"]]
        if not page["next_cursor"]:
            break
        page = contacts.list_page(db, params, contacts.parse_drill({"limit": "1", "cursor": page["next_cursor"]}))
    assert seen == ["e1", "c1", "a1", "a2"]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_export_slices_add_up_to_one_export(db, fmt):
    params, drill = contacts.parse_list({"from": "2024-03-01", "to": "2024-03-31"})
    whole = b"".join(contacts.export_chunks(db, params, drill, fmt))
    assert b"".join(contacts.export_chunks(db, params, drill, fmt, slice_rows=1)) == whole
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(whole.decode())))
        assert rows[0]["created"] == "2024-03-04T09:00:00.000Z" and rows[0]["first_assigned"] == ""
    else:
        rows = [orjson.loads(line) for line in whole.splitlines()]
    assert [r["contact_id"] for r in rows] == ["e1", "c1", "a1", "a2", "v9", "c9"]


def test_plan_slices():
    h = 3_600_000
    assert contacts.plan_slices([], 0, 10 * h, 5) == []
    assert contacts.plan_slices([(0, 3), (h, 3), (5 * h, 1)], 0, 10 * h, 5) == [(0, 2 * h), (5 * h, 6 * h)]
    assert contacts.plan_slices([(0, 9)], h // 2, h - 1, 5) == [(h // 2, h - 1)]   # clamped to the range


@pytest.mark.parametrize("raw, param", [
    ({"outcome": "lost"}, "outcome"), ({"within_sl": "maybe"}, "within_sl"), ({"limit": "0"}, "limit"),
    ({"wait_s_between": "1"}, "wait_s_between"), ({"csat_gt": "3"}, "csat_gt"), ({"cursor": "%%%"}, "cursor"),
])
def test_bad_drill_parameters_name_themselves(raw, param):
    with pytest.raises(ReportError) as err:
        contacts.parse_list({**DAY, **raw})
    assert err.value.param == param


def test_includes_and_swaps(tmp_path, monkeypatch):
    sql = reports.load_query("queues")
    assert "{{" not in sql and "FROM contacts FINAL" in sql and "is_within_sl" in sql
    assert "is_repeat = {repeat:Int8}" in reports.load_query("contact_list")
    assert "is_repeat = {repeat:Int8}" not in reports.load_query("contact_list", (("contact_repeat_filter", "always_true"),))
    (tmp_path / "a.sql").write_text("SELECT * FROM {{b}}")
    (tmp_path / "b.sql").write_text("-- {{a}} in a comment is not an include\nSELECT * FROM {{a}}")
    monkeypatch.setattr(reports, "QUERIES_DIR", tmp_path)
    with pytest.raises(ValueError, match="a -> b -> a"):
        reports._expand("a", ())


def test_definitions_show_the_sql_that_runs():
    sql = definitions.sql_expressions()
    assert set(definitions.MEASURES) - {"wait_s", "first_response_s", "handle_s", "resolution_s"} <= set(sql)
    assert sql["is_within_sl"] == "toUInt8(is_answered = 1 AND ifNull(sl_wait_s <= threshold_s, 0))"
    body = definitions.definitions(thresholds={"voice": 20.0}, short_abandon_s=5, repeat_days=7)
    keys = {m["key"] for m in body["metrics"]}
    assert {"offered", "answered", "abandoned", "service_level", "repeat_contact_rate"} <= keys
    assert all(m["formula"] and m["counted_at"] for m in body["metrics"])


# ---- issue 17: buckets, busiest-times cells and staff-table cells open their lists ---------------
@pytest.fixture
def staff_db(ch):
    store.insert_rows(ch, "contacts", [
        fact("r1", "2024-03-04T09:10:00", response_times_s=[100.0, 1000.0, 1200.0], agent="ann", agents=["ann"],
             is_answered=1, is_closed=1, replies=2, handle_s=30.0, csat=5, first_response_s=100.0),
        fact("r2", "2024-03-04T09:40:00", response_times_s=[5000.0, 900.0], agent="bob", agents=["ann", "bob"],
             is_closed=1, replies=0, handle_s=0.0, csat=2, customer="cu1"),
        fact("r3", "2024-03-04T15:00:00", channel="chat", agent="ann", agents=["ann"], is_answered=1,
             handle_s=700.0, first_response_s=20.0, wait_s=20.0, customer="cu1"),
        # 23:30 UTC on Monday is 00:30 on Tuesday in Madrid
        fact("r4", "2024-03-04T23:30:00", channel="voice", agent="bob", agents=["bob"], is_answered=1,
             is_closed=1, handle_s=90.0, wait_s=5.0, csat=4, first_response_s=5.0),
    ])
    return ch


def rows_of(db, raw) -> list[dict]:
    params, drill = contacts.parse_list({**raw, "limit": "1000"})
    return contacts.list_page(db, params, drill)["contacts"]


@pytest.mark.parametrize("tz", ["UTC", "Europe/Madrid"])
def test_buckets_and_busiest_cells_equal_their_lists(staff_db, tz):
    span = {**DAY, "to": "2024-03-05", "tz": tz}
    r = reports.conversations_report(staff_db, parse_params(span))
    assert sum(r["response_time_buckets"].values()) == 5 and r["response_time_buckets"]["15-30m"] == 3
    for label, figure in r["response_time_buckets"].items():
        params, drill = contacts.parse_list({**span, "response_bucket": label})
        got = contacts.totals(staff_db, params, drill)
        # the figure counts responses: the list's contacts hold exactly that many in the bucket
        assert got["responses"] == figure, label
        assert got["total"] == {"<15m": 1, "15-30m": 2, "1-2h": 1}.get(label, 0), label   # contacts
    assert [c["contact_id"] for c in rows_of(staff_db, {**span, "response_bucket": "15-30m"})] == ["r1", "r2"]
    assert [c["matching_responses"] for c in rows_of(staff_db, {**span, "response_bucket": "15-30m"})] == [2, 1]
    for label, figure in r["handle_time_buckets"].items():
        assert count(staff_db, **{**span, "handle_bucket": label}) == figure, label
    assert r["handle_time_buckets"] == {"<1m": 1, "1-2m": 1, "2-5m": 0, "5-10m": 0, ">10m": 1}
    assert r["busiest"]
    for cell in r["busiest"]:
        assert count(staff_db, **{**span, "weekday": cell["weekday"], "hour": cell["hour"]}) == cell["conversations"]
    assert sum(c["conversations"] for c in r["busiest"]) == 4
    late = {"UTC": (1, 23), "Europe/Madrid": (2, 0)}[tz]
    assert [c["contact_id"] for c in rows_of(staff_db, {**span, "weekday": late[0], "hour": late[1]})] == ["r4"]


def test_every_staff_cell_equals_its_list(staff_db):
    span = {**DAY, "to": "2024-03-05"}
    rows = reports.agents_report(staff_db, parse_params(span))["rows"]
    assert [r["agent"] for r in rows] == ["ann", "bob"]
    for r in rows:
        a = r["agent"]
        handled = rows_of(staff_db, {**span, "agent": a})
        assert len(handled) == r["handled"]
        assert len({c["customer"] for c in handled if c["customer"]}) == r["customers"]
        mine = {"agent": a, "final_agent": a}
        assert count(staff_db, **span, **mine, outcome="closed") == r["closed"]
        assert count(staff_db, **span, **mine, closed_without_reply="true") == r["closed_without_reply"]
        timed = rows_of(staff_db, {**span, **mine, "has_handle_time": "true"})
        assert sum(c["handle_s"] for c in timed) == pytest.approx(r["handle_s"])
        assert (sum(c["handle_s"] for c in timed) / len(timed) if timed else None) == pytest.approx(r["aht_s"])
        responded = rows_of(staff_db, {**span, **mine, "first_response_s_gte": "0"})
        assert (sum(c["first_response_s"] for c in responded) / len(responded) if responded else None) \
            == pytest.approx(r["first_response_s"])
        rated = rows_of(staff_db, {**span, **mine, "rated": "true"})
        assert len(rated) == r["csat"]["ratings"]
        assert sum(c["csat"] for c in rated) / len(rated) == pytest.approx(r["csat"]["mean"])
        assert count(staff_db, **span, **mine, rated_good="true") / len(rated) == pytest.approx(r["csat"]["good_share"])
    assert (rows[0]["closed_without_reply"], rows[1]["closed_without_reply"]) == (0, 2)   # bob: r2, r4


@pytest.mark.parametrize("raw, param", [
    ({"weekday": "8"}, "weekday"), ({"hour": "24"}, "hour"), ({"hour": "noon"}, "hour"),
    ({"response_bucket": "<1m"}, "response_bucket"), ({"handle_bucket": "forever"}, "handle_bucket"),
    ({"rated": "perhaps"}, "rated"),
])
def test_bad_cell_and_bucket_parameters_name_themselves(raw, param):
    with pytest.raises(ReportError) as err:
        contacts.parse_list({**DAY, **raw})
    assert err.value.param == param
