from __future__ import annotations

import shutil
from datetime import datetime, timezone

import orjson
import pytest
from clickhouse_connect.datatypes.registry import get_from_name
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.history import clickhouse_store as store


def _contact(cid: str, version: int, **kw) -> dict:
    row = {"contact_id": cid, "version": version, "queue": "billing", "channel": "voice",
           "customer": "", "priority": 0, "tags": [], "created": 1_700_000_000.0,
           "answered": None, "handle_s": 0.0, "replies": 0, "response_times_s": [],
           "is_answered": 0, "is_abandoned": 0, "is_closed": 0, "last_event": 1_700_000_000.0}
    row.update(kw)
    return row


def _final_count(ch, table: str) -> int:
    return store.query_rows(ch, f"SELECT count() AS n FROM {table} FINAL")[0]["n"]


def test_split_statements_rule():
    sql = "-- header;\nCREATE TABLE a (x String DEFAULT 'a;b')\nENGINE = Memory;\n\n  ;\nSELECT 1;\nSELECT 2"
    assert store.split_statements(sql) == [
        "CREATE TABLE a (x String DEFAULT 'a;b')\nENGINE = Memory", "SELECT 1", "SELECT 2"]


def test_migrate_applies_all_then_is_idempotent(ch_empty, migrations_dir):
    first = store.migrate(ch_empty, migrations_dir)
    assert first == sorted(p.name for p in migrations_dir.glob("*.sql"))
    assert store.migrate(ch_empty, migrations_dir) == []
    applied = store.applied_migrations(ch_empty)
    assert sorted(applied) == [int(n[:4]) for n in first]
    assert set(store.count_rows(ch_empty)) == set(store.TABLES)
    assert store.count_rows(ch_empty)["schema_migrations"] == len(first)


def test_migrate_refuses_changed_checksum(ch_empty, tmp_path, migrations_dir):
    mdir = tmp_path / "m"
    shutil.copytree(migrations_dir, mdir)
    store.migrate(ch_empty, mdir)
    target = mdir / "0003_contacts.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    with pytest.raises(store.MigrationError, match="0003_contacts.sql was already applied"):
        store.migrate(ch_empty, mdir)


def test_migrate_applies_only_new_files(ch, tmp_path, migrations_dir):
    mdir = tmp_path / "m"
    shutil.copytree(migrations_dir, mdir)
    (mdir / "0100_extra.sql").write_text(
        "-- two statements\nCREATE TABLE IF NOT EXISTS extra_a (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
        "CREATE TABLE IF NOT EXISTS extra_b (x UInt8) ENGINE = MergeTree ORDER BY x;\n")
    assert store.migrate(ch, mdir) == ["0100_extra.sql"]
    names = {r["name"] for r in store.query_rows(ch, "SHOW TABLES")}
    assert {"extra_a", "extra_b"} <= names


def test_migrate_rejects_bad_file_name(ch_empty, tmp_path):
    (tmp_path / "1_bad.sql").write_text("SELECT 1;\n")
    with pytest.raises(store.MigrationError, match="NNNN_name.sql"):
        store.migrate(ch_empty, tmp_path)


def test_insert_same_dedup_token_twice_lands_once(ch):
    rows = [_contact("c-1", 1), _contact("c-2", 1)]
    store.insert_rows(ch, "contacts", rows, dedup_token="batch-7")
    store.insert_rows(ch, "contacts", rows, dedup_token="batch-7")
    # physical rows: the retried block was dropped by insert deduplication
    assert store.query_rows(ch, "SELECT count() AS n FROM contacts")[0]["n"] == 2
    store.insert_rows(ch, "contacts", rows, dedup_token="batch-8")
    assert _final_count(ch, "contacts") == 2


def test_replacing_keeps_highest_version(ch):
    store.insert_rows(ch, "contacts", [_contact("c-1", 1)])
    store.insert_rows(ch, "contacts", [_contact("c-1", 3, is_answered=1, answered=1_700_000_010.0)])
    store.insert_rows(ch, "contacts", [_contact("c-1", 2)])
    rows = store.query_rows(ch, "SELECT version, is_answered, toUnixTimestamp64Milli(answered) AS a "
                                "FROM contacts FINAL")
    assert rows == [{"version": 3, "is_answered": 1, "a": 1_700_000_010_000}]


def test_replayed_event_id_lands_once(ch):
    ev = {"id": "e-1", "type": "contact.created", "time": 1_700_000_000.0, "subject": "c-1",
          "source": "test", "queue": "q", "channel": "voice", "agent": "", "data": "{}",
          "kafka_partition": 0, "kafka_offset": 5}
    store.insert_rows(ch, "events", [ev])
    store.insert_rows(ch, "events", [dict(ev, kafka_offset=9)])
    assert _final_count(ch, "events") == 1


def test_api_token_revocation_wins(ch):
    tok = {"token_id": "t1", "name": "wall", "role": "viewer", "queues": ["billing"],
           "sha256": "ab" * 32, "created": 1_700_000_000.0, "revoked": 0}
    store.insert_rows(ch, "api_tokens", [dict(tok, revoked=1)])
    store.insert_rows(ch, "api_tokens", [tok])  # a late replay of the creation
    assert store.query_rows(ch, "SELECT revoked, queues FROM api_tokens FINAL") == [
        {"revoked": 1, "queues": ["billing"]}]


def test_insert_rejects_unknown_column(ch):
    with pytest.raises(ValueError, match="no column"):
        store.insert_rows(ch, "agent_states", [{"agent": "a", "nope": 1}])


def test_count_rows(ch):
    store.insert_rows(ch, "agent_states", [
        {"agent": "a", "state": "busy", "reason": "", "start": 1.0, "end": 2.0, "duration_s": 1.0},
        {"agent": "a", "state": "away", "reason": "", "start": 2.0, "end": 3.0, "duration_s": 1.0}])
    counts = store.count_rows(ch)
    assert counts["agent_states"] == 2 and counts["contacts"] == 0


def test_unreachable_server_raises_unavailable():
    with pytest.raises(store.ClickHouseUnavailable):
        store.connect("http://default:@127.0.0.1:1/default", connect_timeout=1)


def test_bad_dsn_scheme():
    with pytest.raises(ValueError):
        store.connect("mysql://x")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(),
                          st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
                          st.integers(min_value=0, max_value=4_102_444_800),
                          # sub-microsecond inputs right at the rounding ties of microseconds
                          st.integers(min_value=0, max_value=4_102_444_800 * 10**7).map(lambda n: (n + 0.5) / 10**7)),
                min_size=1, max_size=30),
       st.sampled_from([0, 3, 6]))
def test_epoch_ticks_equal_the_datetime_path(values, digits):
    # the column-at-once conversion against the general one: datetime.fromtimestamp, then
    # clickhouse-connect's own DateTime64 ticks
    kind = get_from_name(f"Nullable(DateTime64({digits}, 'UTC'))")
    want = [None if v is None else kind._datetime64_ticks(store._to_datetime(v)) for v in values]
    assert store._native_datetimes(values, digits) == want


def test_times_before_1970_are_not_nulls():
    assert store._native_datetimes([-0.001, None, 0.0], 3) == [-1, None, 0]
    assert store._json_datetimes([-0.001, None], 3) == [-0.001, None]


def test_epoch_ticks_leave_other_columns_to_the_general_path():
    aware = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)
    assert store._epoch_ticks([1.5, aware], 3) is None
    assert store._epoch_ticks([True], 3) is None
    assert store._epoch_ticks([float("inf")], 3) is None


def test_epoch_and_datetime_times_land_alike(ch):
    t = 1_700_000_000.1235
    ev = {"id": "e-1", "type": "contact.created", "time": t, "subject": "c-1", "source": "test",
          "queue": "q", "channel": "voice", "agent": "", "data": "{}", "kafka_partition": 0, "kafka_offset": 5}
    store.insert_rows(ch, "events", [ev])
    store.insert_rows(ch, "events", [dict(ev, id="e-2", time=datetime.fromtimestamp(t, timezone.utc))])
    rows = store.query_rows(ch, "SELECT id, toUnixTimestamp64Milli(time) AS ms FROM events ORDER BY id")
    assert rows == [{"id": "e-1", "ms": 1_700_000_000_123}, {"id": "e-2", "ms": 1_700_000_000_123}]


def test_json_times_land_as_the_native_ticks(ch):
    # The JSON path writes DateTime64(3) ticks as seconds (a float): ClickHouse must read back the
    # very tick the Native path sends, for whole seconds, milliseconds, and sub-millisecond values
    # on both sides of a rounding tie, over the contract's whole range of times.
    import random

    rng = random.Random(5)
    months = [m * 2_629_746 for m in rng.sample(range(1, 1559), 60)]  # the table's monthly parts
    month = lambda: rng.choice(months) + 86_400  # noqa: E731 - a day in, whatever the month's length
    times = [0.0, 1.0, 4_102_444_799.999, 1_700_000_000.0005, 1_700_000_000.0015]
    times += [month() + rng.uniform(0, 26 * 86_400) for _ in range(3000)]
    times += [month() + rng.randrange(0, 26 * 86_400_000) / 1000 for _ in range(3000)]
    times += [month() + (rng.randrange(0, 26 * 86_400 * 10**7) + 0.5) / 10**7 for _ in range(3000)]
    names = ["id", "type", "time", "subject", "source", "queue", "channel", "agent", "data"]
    rows = [(f"e-{i:05d}", "contact.created", t, "c", "s", "q", "voice", "", "{}") for i, t in enumerate(times)]
    assert store._json_columns(list(zip(*rows)), [store.column_types(ch, "events")[n] for n in names]) is not None
    store.insert_tuples(ch, "events", names, rows)
    got = store.query_rows(ch, "SELECT toUnixTimestamp64Milli(time) AS ms FROM events ORDER BY id")
    assert [r["ms"] for r in got] == store._native_datetimes(times, 3)


def test_values_json_cannot_carry_take_the_native_path(ch):
    kinds = ["String", "Nullable(Float64)", "Array(Float64)", "DateTime64(3, 'UTC')"]
    ok = [["a"], [None], [[1.5]], [1.0]]
    assert store._json_columns(ok, kinds) is not None
    for i, bad in [(1, [float("inf")]), (1, [float("nan")]), (2, [[1.0, float("-inf")]]), (0, [b"bytes"]),
                   (0, ["\ud800"]), (3, [datetime(2024, 1, 1, tzinfo=timezone.utc)])]:
        cols = list(ok)
        cols[i] = bad
        assert store._json_columns(cols, kinds) is None, bad
    # and they land as the Native path writes them (JSON would have made them NULL or 0)
    store.insert_rows(ch, "contacts", [_contact("c-inf", 1, handle_s=float("inf"), response_times_s=[float("nan"), 2.0])])
    [row] = store.query_rows(ch, "SELECT isInfinite(handle_s) AS inf, isNaN(response_times_s[1]) AS nan, "
                                 "response_times_s[2] AS second FROM contacts")
    assert row == {"inf": 1, "nan": 1, "second": 2.0}


def test_low_cardinality_columns_go_plain_to_chdb_only():
    assert store._without_low_cardinality("LowCardinality(String)") == "String"
    assert store._without_low_cardinality("Array(LowCardinality(String))") == "Array(String)"
    assert store._without_low_cardinality("LowCardinality(Nullable(String))") == "Nullable(String)"
    assert store._without_low_cardinality("Map(LowCardinality(String), UInt32)") == "Map(String, UInt32)"
    assert store._without_low_cardinality("DateTime64(3, 'UTC')") == "DateTime64(3, 'UTC')"

    class Server:  # not the embedded client: a server keeps the dictionary encoding on the wire
        pass
    assert store._sent_type(Server(), "LowCardinality(String)") == "LowCardinality(String)"


def test_low_cardinality_columns_land_from_plain_strings(ch):
    # the worker's landing: LowCardinality columns sent as String, converted by chDB on read
    types = store.column_types(ch, "events")
    assert types["queue"].startswith("LowCardinality") and store._sent_type(ch, types["queue"]) == "String"
    names = ["id", "type", "time", "subject", "source", "queue", "channel", "agent", "data",
             "kafka_partition", "kafka_offset"]
    rows = [(f"e-{i}", "contact.created", 1_700_000_000.0 + i, f"c-{i}", "test", ["billing", "sales", ""][i % 3],
             "voice", "", "{}", 0, i) for i in range(300)]
    store.insert_tuples(ch, "events", names, rows)
    got = store.query_rows(ch, "SELECT queue, count() AS n, toTypeName(queue) AS t FROM events GROUP BY queue ORDER BY queue")
    assert got == [{"queue": "", "n": 100, "t": "LowCardinality(String)"},
                   {"queue": "billing", "n": 100, "t": "LowCardinality(String)"},
                   {"queue": "sales", "n": 100, "t": "LowCardinality(String)"}]


def test_release_memory_purges_chdb_only(ch):
    store.insert_rows(ch, "agent_states", [
        {"agent": "a", "state": "busy", "reason": "", "start": 1.0, "end": 2.0, "duration_s": 1.0}])
    assert store.release_memory(ch) is True  # SYSTEM JEMALLOC PURGE on the embedded engine
    assert store.count_rows(ch)["agent_states"] == 1  # and the engine goes on as before

    class Server:  # a server's memory is its own business: nothing is sent
        def command(self, sql):
            raise AssertionError(f"sent {sql!r}")
    assert store.release_memory(Server()) is False


def test_chdb_connects_without_importing_pyarrow(tmp_path):
    """chDB imports pyarrow for Arrow results Tablero never asks for (26 MB of the worker's RSS):
    connecting, migrating, landing and reading must work without it, and pyarrow stays importable
    afterwards for anything that wants it. In a fresh interpreter: this one may have pyarrow."""
    import subprocess
    import sys
    import textwrap

    from pipeline.history.warehouse import MIGRATIONS_DIR

    code = textwrap.dedent(f"""
        import sys
        from pipeline.history import clickhouse_store as store
        ch = store.connect("chdb://{tmp_path}/ch")
        store.migrate(ch, {str(MIGRATIONS_DIR)!r})
        store.insert_rows(ch, "agent_states", [
            {{"agent": "a", "state": "busy", "reason": "", "start": 1.0, "end": 2.0, "duration_s": 1.0}}])
        n = store.query_rows(ch, "SELECT count() AS n FROM agent_states")[0]["n"]
        print(n, "pyarrow" in sys.modules)
        import chdb.state.sqlitelike
        print(chdb.state.sqlitelike.pa is None)
        import pyarrow
        print(pyarrow.__name__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "False", "True", "pyarrow"]


def test_an_events_data_dict_is_stored_as_its_json_text_on_both_paths(ch):
    """The worker hands an event's data dict (not its text) to the landing: both the JSON
    document and the Native fallback store exactly orjson's text of it."""
    datas = [{}, {"queue": "billing", "tags": ["vip", "é ✓"], "note": 'say "hi"\\n\ttab'},
             {"until": 1_700_000_000.125, "capacity": {"voice": 1, "email": 3}, "nested": [{"a": None}, [1, 2.5]]},
             {"text": "\u2028 line sep, \x01 control, </script>"}]
    names = ["id", "type", "time", "subject", "source", "queue", "channel", "agent", "data"]
    json_rows = [(f"j-{i}", "contact.created", 1_700_000_000.0, "c", "s", "q", "voice", "", d) for i, d in enumerate(datas)]
    native_rows = [(f"n-{i}", "contact.created", datetime(2024, 1, 1, tzinfo=timezone.utc), "c", "s", "q", "voice", "", d)
                   for i, d in enumerate(datas)]  # a datetime value: only the Native path carries it
    kinds = [store.column_types(ch, "events")[n] for n in names]
    assert store._json_columns(list(zip(*json_rows)), kinds) is not None
    assert store._json_columns(list(zip(*native_rows)), kinds) is None
    store.insert_tuples(ch, "events", names, json_rows)
    store.insert_tuples(ch, "events", names, native_rows)
    got = {r["id"]: r["data"] for r in store.query_rows(ch, "SELECT id, data FROM events")}
    for i, d in enumerate(datas):
        assert got[f"j-{i}"] == orjson.dumps(d).decode(), d
        assert got[f"n-{i}"] == orjson.dumps(d).decode(), d
