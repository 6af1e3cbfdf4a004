"""Drill-down, export, contact timeline and customer journey on the real Anonymous Bank month
(Feb 1999, tests/data): the real app (create_app, chDB, the session Kafka broker) with the month
landed through WorkerState.process (tests/supervisor_api/_bank_history.py).

The figures are never re-derived here: each test asks the reports API for a figure and the
contacts API for the list behind it, and checks that they agree (one definition in one place)."""
from __future__ import annotations

import csv
import io

import orjson
import pytest

from _app import ADMIN_TOKEN, make_settings, running_app
from _bank_history import land_bank_month
from pipeline.history import clickhouse_store
from supervisor_api.auth import TokenStore

MONTH = {"from": "1999-02-01", "to": "1999-02-28", "tz": "UTC"}
CONTACTS = 31_094


@pytest.fixture(scope="module")
def bank(tmp_path_factory, kafka_bootstrap, chdb_dir):
    tmp = tmp_path_factory.mktemp("drill")
    settings = make_settings(tmp, kafka_bootstrap, chdb_dir)
    store = TokenStore(settings.tokens_path)
    tokens = {"admin": ADMIN_TOKEN, "planner": store.create("drill-planner", "planner"),
              "supervisor": store.create("drill-supervisor", "supervisor"),
              "ps": store.create("drill-ps", "supervisor", ["PS"])}
    with running_app(settings) as (app, client):
        landed = app.state.warehouse.call_sync(land_bank_month)
        assert landed["dead_letters"] == 0 and landed["contacts"] == CONTACTS, landed
        yield {"app": app, "client": client, "tokens": tokens}


def get(bank, path, token="admin", **params):
    r = bank["client"].get(path, params=params, headers={"Authorization": f"Bearer {bank['tokens'][token]}"})
    return r


def ok(bank, path, token="admin", **params):
    r = get(bank, path, token, **params)
    assert r.status_code == 200, r.text
    return r.json()


def total(bank, token="admin", **params) -> int:
    return ok(bank, "/api/v1/contacts", token, limit=1, **params)["total"]


def sql(bank, query: str, **parameters):
    return bank["app"].state.warehouse.call_sync(clickhouse_store.query_rows, query, parameters)


def test_drill_down_counts_equal_the_queues_report(bank):
    rows = ok(bank, "/api/v1/reports/queues", **MONTH, by="day")["rows"]
    assert sum(r["offered"] for r in rows) == CONTACTS
    # a sample of queue-days: every 24th row plus the busiest one
    sample = rows[::24] + [max(rows, key=lambda r: r["offered"])]
    assert len(sample) >= 7
    for r in sample:
        cell = {"from": r["start"], "to": r["end"], "queue": r["queue"], "channel": r["channel"], "tz": "UTC"}
        got = {"offered": total(bank, **cell), "answered": total(bank, **cell, outcome="answered"),
               "abandoned": total(bank, **cell, outcome="abandoned"),
               "short_abandoned": total(bank, **cell, outcome="short_abandoned"),
               "answered_within_sl": total(bank, **cell, within_sl="true")}
        assert got == {k: r[k] for k in got}, r


def test_every_definition_list_matches_its_figure(bank):
    """GET /api/v1/definitions says which list is behind each figure; for the counts the list's
    total is the figure (the reports page links each card to exactly this list)."""
    defs = {d["key"]: d for d in ok(bank, "/api/v1/definitions")["metrics"]}
    queues = ok(bank, "/api/v1/reports/queues", **MONTH, by="day")["total"]
    conv = ok(bank, "/api/v1/reports/conversations", **MONTH)
    figures = {"offered": queues["offered"], "answered": queues["answered"], "abandoned": queues["abandoned"],
               "short_abandoned": queues["short_abandoned"], "answered_within_sl": queues["answered_within_sl"],
               "conversations": conv["conversations"], "closed": conv["closed"],
               "handle_time_s": conv["handle_time_s"]["count"], "first_response_s": conv["first_response_s"]["count"],
               "resolved_on_first_reply_share": conv["resolved_on_first_reply"],
               "repeat_contact_rate": conv["repeat_contacts"], "csat": conv["csat"]["ratings"]}
    for key, figure in figures.items():
        assert total(bank, **MONTH, **defs[key]["list"]) == figure, key
    # and the within-SL rule shown is the SQL that ran
    assert "threshold_s" in defs["answered_within_sl"]["sql"]["is_within_sl"]
    assert 0 < conv["repeat_contact_rate"] < 1


def test_csv_export_has_one_row_per_contact(bank):
    r = get(bank, "/api/v1/contacts", **MONTH, format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    ids = [row["contact_id"] for row in rows]
    assert len(ids) == CONTACTS == len(set(ids))
    stored = {x["contact_id"] for x in sql(bank, "SELECT DISTINCT contact_id FROM contacts")}
    assert set(ids) == stored
    # list order, and the values as the report counts them
    assert [row["created"] for row in rows] == sorted(row["created"] for row in rows)
    assert sum(int(row["is_abandoned"]) for row in rows) == ok(bank, "/api/v1/reports/queues", **MONTH)["total"]["abandoned"]
    answered = next(row for row in rows if row["is_answered"] == "1" and row["agent"])
    assert answered["channel"] == "voice" and answered["agents"] == answered["agent"]
    assert answered["first_assigned"] == "" or answered["first_assigned"].endswith("Z")
    # NDJSON: the same contacts, one JSON object a line
    r = get(bank, "/api/v1/contacts", **MONTH, format="ndjson", queue="PS")
    lines = [orjson.loads(line) for line in r.content.splitlines()]
    assert len(lines) == total(bank, **MONTH, queue="PS") and {x["queue"] for x in lines} == {"PS"}
    assert isinstance(lines[0]["agents"], list)


def test_pages_walk_the_whole_list_once(bank):
    params = {**MONTH, "queue": "NE", "outcome": "abandoned", "wait_s_gte": "30"}
    first = ok(bank, "/api/v1/contacts", **params, limit=50)
    seen, page = [c["contact_id"] for c in first["contacts"]], first
    while page["next_cursor"]:
        page = ok(bank, "/api/v1/contacts", **params, limit=50, cursor=page["next_cursor"])
        assert "total" not in page
        seen += [c["contact_id"] for c in page["contacts"]]
    assert len(seen) == len(set(seen)) == first["total"] > 50
    assert all(c["wait_s"] >= 30 and c["is_abandoned"] == 1 for c in first["contacts"])


def test_queue_scope_applies(bank):
    mine = ok(bank, "/api/v1/contacts", "ps", **MONTH, limit=200)
    assert {c["queue"] for c in mine["contacts"]} == {"PS"}
    assert mine["total"] == ok(bank, "/api/v1/reports/queues", "ps", **MONTH)["total"]["offered"]
    assert get(bank, "/api/v1/contacts", "ps", **MONTH, queue="PE").status_code == 403
    other = ok(bank, "/api/v1/contacts", **MONTH, queue="PE", limit=1)["contacts"][0]["contact_id"]
    assert get(bank, f"/api/v1/contacts/{other}", "ps").status_code == 404
    r = get(bank, "/api/v1/contacts", "ps", **MONTH, format="csv")
    assert {row["queue"] for row in csv.DictReader(io.StringIO(r.text))} == {"PS"}


@pytest.mark.parametrize("params, param", [
    ({"wait_s_gtx": "1"}, "wait_s_gtx"),
    ({"handle_s_lt": "soon"}, "handle_s_lt"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"from": "1999-02-10", "to": "1999-02-01"}, "from"),
    ({"tz": "Mars/Olympus"}, "tz"),
])
def test_bad_parameters_are_400_naming_them(bank, params, param):
    r = get(bank, "/api/v1/contacts", **{**MONTH, **params})
    assert r.status_code == 400, r.text
    assert r.json()["detail"]["param"] == param


def test_contact_timeline_and_explain(bank):
    cid = ok(bank, "/api/v1/contacts", **MONTH, queue="PS", outcome="answered", within_sl="false",
             limit=1)["contacts"][0]["contact_id"]
    body = ok(bank, f"/api/v1/contacts/{cid}", "supervisor")
    c = body["contact"]
    assert c["contact_id"] == cid and c["is_answered"] == 1 and c["is_within_sl"] == 0
    assert [e["type"] for e in body["events"]] == ["contact.created", "contact.answered", "contact.closed"]
    answered = next(e for e in body["events"] if e["type"] == "contact.answered")
    assert answered["since_created_s"] == pytest.approx(c["wait_s"]) and answered["agent"] == c["agent"]
    assert body["raw_events"] and "data" in body["events"][0]["raw"]
    ex = body["explain"]
    assert ex["applied"]["threshold_s"] == 20.0 == c["threshold_s"] and c["sl_wait_s"] > 20
    assert ex["counted_in"]["answered"] and not ex["counted_in"]["answered_within_sl"]
    within = next(v for v in ex["values"] if v["key"] == "is_within_sl")
    assert within["value"] == 0 and "threshold_s" in within["sql"]
    # planners see the timeline, not the raw events
    planner = ok(bank, f"/api/v1/contacts/{cid}", "planner")
    assert not planner["raw_events"] and all("raw" not in e for e in planner["events"])
    assert get(bank, "/api/v1/contacts/no-such-contact").status_code == 404


def test_customer_journey_across_days(bank):
    row = sql(bank, """
        SELECT customer, uniqExact(toDate(created)) AS days, count() AS n FROM contacts FINAL
        WHERE customer != '' GROUP BY customer HAVING days >= 3 ORDER BY n, customer LIMIT 1""")[0]
    customer, days, n = row["customer"], row["days"], row["n"]
    journey = ok(bank, f"/api/v1/customers/{customer}/contacts", limit=1000)
    got = journey["contacts"]
    assert len(got) == n and {c["customer"] for c in got} == {customer}
    assert len({c["created"][:10] for c in got}) == days >= 3
    assert [c["created"] for c in got] == sorted((c["created"] for c in got), reverse=True)  # newest first
    # paging gives the same journey
    paged, cursor = [], None
    while True:
        page = ok(bank, f"/api/v1/customers/{customer}/contacts", limit=2, **({"cursor": cursor} if cursor else {}))
        paged += [c["contact_id"] for c in page["contacts"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert paged == [c["contact_id"] for c in got]
    # a contact whose customer came back within 7 days names that next contact
    import datetime as dt
    when = [dt.datetime.fromisoformat(c["created"].replace("Z", "+00:00")) for c in got]
    i = next(i for i in range(1, len(got)) if when[i - 1] - when[i] <= dt.timedelta(days=7))
    detail = ok(bank, f"/api/v1/contacts/{got[i]['contact_id']}")["contact"]
    assert (detail["is_repeat"], detail["next_contact_id"], detail["next_contact_queue"]) == \
        (1, got[i - 1]["contact_id"], got[i - 1]["queue"])


def test_scoped_token_does_not_learn_other_queues_next_contact(bank):
    row = sql(bank, """
        SELECT contact_id, next_id FROM (
            SELECT contact_id, queue, leadInFrame(contact_id) OVER w AS next_id,
                   leadInFrame(queue) OVER w AS next_queue, leadInFrame(created) OVER w AS next_created, created
            FROM contacts FINAL WHERE customer != ''
            WINDOW w AS (PARTITION BY customer ORDER BY created, contact_id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING))
        WHERE queue = 'PS' AND next_queue NOT IN ('PS', '') AND next_created - created < 86400
        ORDER BY contact_id LIMIT 1""")[0]
    assert ok(bank, f"/api/v1/contacts/{row['contact_id']}")["contact"]["next_contact_id"] == row["next_id"]
    scoped = ok(bank, f"/api/v1/contacts/{row['contact_id']}", "ps")["contact"]
    assert scoped["is_repeat"] == 1 and scoped["next_contact_id"] is None
    assert row["next_id"] not in get(bank, f"/api/v1/contacts/{row['contact_id']}", "ps").text


def export_rows(bank, **params) -> list[dict]:
    r = get(bank, "/api/v1/contacts", **params, format="ndjson")
    assert r.status_code == 200, r.text
    return [orjson.loads(line) for line in r.content.splitlines()]


def test_buckets_busiest_cells_and_staff_cells_equal_their_lists(bank):
    """Issue 17: the rest of the reports page. Each bucket, a sample of busiest-times cells and every
    cell of a sample of staff rows, against the list the page links it to (reports.js)."""
    conv = ok(bank, "/api/v1/reports/conversations", **MONTH)
    assert sum(conv["handle_time_buckets"].values()) == conv["handle_time_s"]["count"] > 0
    for label, figure in conv["handle_time_buckets"].items():
        assert total(bank, **MONTH, handle_bucket=label) == figure, label
    for label, figure in conv["response_time_buckets"].items():   # voice only: no responses
        page = ok(bank, "/api/v1/contacts", **MONTH, response_bucket=label, limit=1)
        assert page["responses"] == figure == page["total"] == 0, label
    cells = conv["busiest"]
    sample = cells[::20] + [max(cells, key=lambda c: c["conversations"])]
    assert len(sample) >= 5
    for c in sample:
        assert total(bank, **MONTH, weekday=c["weekday"], hour=c["hour"]) == c["conversations"], c
    rows = ok(bank, "/api/v1/reports/agents", **MONTH)["rows"]
    staff = [r for r in rows if r["handled"]]
    sample = staff[::max(1, len(staff) // 3)][:3] + [max(staff, key=lambda r: r["handled"])]
    for r in sample:
        a = r["agent"]
        mine = {**MONTH, "agent": a, "final_agent": a}
        assert total(bank, **MONTH, agent=a) == r["handled"], a
        assert total(bank, **mine, outcome="closed") == r["closed"], a
        assert total(bank, **mine, closed_without_reply="true") == r["closed_without_reply"], a
        timed = export_rows(bank, **mine, has_handle_time="true")
        assert sum(c["handle_s"] for c in timed) == pytest.approx(r["handle_s"]), a
        assert sum(c["handle_s"] for c in timed) / len(timed) == pytest.approx(r["aht_s"]), a
        responded = export_rows(bank, **mine, first_response_s_gte="0")
        assert sum(c["first_response_s"] for c in responded) / len(responded) == pytest.approx(r["first_response_s"]), a
        assert total(bank, **mine, rated="true") == r["csat"]["ratings"], a
        handled = export_rows(bank, **MONTH, agent=a)
        assert len({c["customer"] for c in handled if c["customer"]}) == r["customers"], a
