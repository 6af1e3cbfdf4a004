"""The only module that talks to ClickHouse (embedded chDB or a server). Kept thin.

- ``connect(dsn)``: ``chdb:///abs/path[?database=db]`` or ``http(s)://user:pass@host:8123/db``.
- ``migrate(client, dir)``: applies ``NNNN_name.sql`` files in order, records them in
  ``schema_migrations``, refuses when an applied file changed.
- ``insert_rows(client, table, rows, dedup_token)``: column-oriented insert of dict rows.
- ``query_rows(client, sql, parameters)``: server-side parameterized query -> list of dicts;
  ``query_columns``: the same as columns by name.
- ``count_rows(client)``: physical row counts per table for the status page.

Every call is synchronous (chDB runs in-process); call from async code through a thread.
Connection failures raise ``ClickHouseUnavailable`` so callers can retry with backoff;
SQL errors propagate unchanged (retrying them would not help).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import math
import os
import re
import sys
from operator import itemgetter
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qs, urlsplit

import clickhouse_connect
import numpy as np
import orjson
from clickhouse_connect.driver import options as _cc_options
from clickhouse_connect.driver.exceptions import OperationalError

# clickhouse-connect imports pandas on the first insert only to ask whether the data is a
# DataFrame (about 47 MB of RSS in the worker). Tablero passes columns of Python values and reads
# rows, never DataFrames, so clickhouse-connect is told pandas is absent (pandas stays importable
# for the planner's forecasts).
_cc_options.pd = None
_cc_options.pd_time_test = None

TABLES = ("events", "contacts", "agent_states", "api_tokens", "schema_migrations")
MIGRATION_FILE = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.sql$")
_UTC = dt.timezone.utc


class ClickHouseUnavailable(RuntimeError):
    """ClickHouse cannot be reached (network, server down, timeout). Retry with backoff."""


class MigrationError(RuntimeError):
    """A migration cannot be applied (changed checksum, bad file name, failing statement)."""


def _unavailable(dsn_or_client: Any, exc: BaseException) -> ClickHouseUnavailable:
    return ClickHouseUnavailable(f"ClickHouse unavailable: {exc}")


def is_embedded(client: Any) -> bool:
    return type(client).__name__ == "ChdbClient"


# ---------------------------------------------------------------------------------------- connect
def _import_chdb_without_pyarrow() -> None:
    """Import chDB's connection module with pyarrow hidden from it. It imports pyarrow eagerly,
    only for its Arrow results, which Tablero never asks for (it reads rows and writes Native
    blocks through clickhouse-connect); in the worker that was 26 MB of RSS (pyarrow's libraries
    and pools). Only this import is affected: pyarrow stays importable for everything else."""
    if "chdb.state.sqlitelike" in sys.modules or "pyarrow" in sys.modules:
        return
    sys.modules["pyarrow"] = None  # type: ignore[assignment]  # `import pyarrow` -> ImportError
    try:
        import chdb.state.sqlitelike  # noqa: F401
    finally:
        del sys.modules["pyarrow"]


def connect(dsn: str, *, connect_timeout: float = 5, send_receive_timeout: float = 300) -> Any:
    """Open a client. chDB: creates the data directory and the database when missing."""
    if dsn.startswith("chdb://"):
        parts = urlsplit(dsn)
        path = parts.path
        if not path or parts.netloc:
            raise ValueError(f"chDB DSN must be chdb:///absolute/path[?database=name], got {dsn!r}")
        database = (parse_qs(parts.query).get("database") or [None])[0]
        os.makedirs(path, exist_ok=True)
        _import_chdb_without_pyarrow()
        client = clickhouse_connect.get_client(dsn=f"chdb://{path}")
        if database and database != "default":
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
                raise ValueError(f"bad database name {database!r}")
            client.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            client.database = database
        return client
    if not re.match(r"^(https?|clickhouse)://", dsn):
        raise ValueError(f"unsupported ClickHouse DSN {dsn!r}: use chdb:///path or http(s)://user:pass@host:8123/db")
    try:
        return clickhouse_connect.get_client(
            dsn=dsn, connect_timeout=connect_timeout, send_receive_timeout=send_receive_timeout,
            autogenerate_session_id=False)
    except OperationalError as exc:
        raise _unavailable(dsn, exc) from exc


# ------------------------------------------------------------------------------------- statements
def split_statements(sql: str) -> list[str]:
    """Split a migration file into statements.

    Rule: full-line ``--`` comments are dropped; a statement ends on a line whose last
    non-blank character is ``;``. A ``;`` elsewhere (inside a line, a string) does not split.
    Empty statements are ignored. The trailing ``;`` is removed.
    """
    statements: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        stripped = line.rstrip()
        if stripped.endswith(";"):
            current.append(stripped[:-1])
            stmt = "\n".join(current).strip()
            if stmt:
                statements.append(stmt)
            current = []
        else:
            current.append(line)
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def _command(client: Any, sql: str, **kw: Any) -> Any:
    try:
        return client.command(sql, **kw)
    except OperationalError as exc:
        raise _unavailable(client, exc) from exc


# ---------------------------------------------------------------------------------------- migrate
def _migration_files(migrations_dir: Path) -> list[tuple[int, str, Path]]:
    files: dict[int, tuple[int, str, Path]] = {}
    for path in sorted(Path(migrations_dir).glob("*.sql")):
        m = MIGRATION_FILE.match(path.name)
        if not m:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_name.sql")
        version = int(m.group(1))
        if version in files:
            raise MigrationError(f"{path.name}: version {version} also used by {files[version][2].name}")
        files[version] = (version, m.group(2), path)
    return [files[v] for v in sorted(files)]


def applied_migrations(client: Any) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of the applied migrations ({} before the first one)."""
    if not query_rows(client, "EXISTS TABLE schema_migrations")[0].popitem()[1]:
        return {}
    rows = query_rows(client, "SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version")
    return {int(r["version"]): (r["name"], r["checksum"]) for r in rows}


def migrate(client: Any, migrations_dir: str | Path) -> list[str]:
    """Apply pending migrations in version order; return the file names applied (empty when
    up to date). Raises MigrationError if an applied file's content changed."""
    files = _migration_files(Path(migrations_dir))
    done = applied_migrations(client)
    for version, name, path in files:
        if version in done:
            checksum = hashlib.sha256(path.read_bytes()).hexdigest()
            if checksum != done[version][1]:
                raise MigrationError(
                    f"migration {path.name} was already applied with checksum {done[version][1][:12]}… "
                    f"but the file now has {checksum[:12]}…; applied migrations must not be edited — "
                    f"restore the file and add a new NNNN_*.sql migration instead")
    applied: list[str] = []
    for version, name, path in files:
        if version in done:
            continue
        raw = path.read_bytes()
        for stmt in split_statements(raw.decode("utf-8")):
            try:
                _command(client, stmt)
            except ClickHouseUnavailable:
                raise
            except Exception as exc:
                raise MigrationError(f"{path.name}: statement failed: {exc}\n{stmt[:300]}") from exc
        insert_rows(client, "schema_migrations", [{
            "version": version, "name": name, "checksum": hashlib.sha256(raw).hexdigest(),
            "applied_at": dt.datetime.now(_UTC)}])
        applied.append(path.name)
    return applied


# ----------------------------------------------------------------------------------------- insert
_column_types: dict[tuple[int, str, str], dict[str, str]] = {}


def column_types(client: Any, table: str) -> dict[str, str]:
    """A table's column types by name (asked once per client and table)."""
    key = (id(client), getattr(client, "database", "") or "", table)
    if key not in _column_types:
        rows = query_rows(client, f"DESCRIBE TABLE {table}")
        _column_types[key] = {r["name"]: r["type"] for r in rows}
    return _column_types[key]


_LOW_CARDINALITY = re.compile(r"LowCardinality\(((?:[^()]|\([^()]*\))*)\)")


def _sent_type(client: Any, kind: str) -> str:
    """The type a column is sent as. chDB: LowCardinality(T) goes as T and ClickHouse converts it
    while reading the Native block (in C++, without the GIL), instead of clickhouse-connect
    building the dictionary in Python (a sixth of the worker's landing). A server keeps the
    dictionary encoding: there it makes the request smaller."""
    return _without_low_cardinality(kind) if is_embedded(client) else kind


@functools.lru_cache(maxsize=512)
def _without_low_cardinality(kind: str) -> str:
    while True:
        plain = _LOW_CARDINALITY.sub(r"\1", kind)
        if plain == kind:
            return kind
        kind = plain


_DATETIME64 = re.compile(r"^(?:Nullable\()?DateTime64\(([0-6])\b")
_EPOCH_KINDS = frozenset({float, int, type(None)})


def _epoch_ticks(col: Sequence, digits: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Epoch seconds (float/int, None for NULL) -> DateTime64(digits) ticks for the whole column
    at once (numpy), the very ticks the general path gives (datetime.fromtimestamp: microseconds
    rounded half to even; clickhouse-connect: floor to the column's precision), at a tenth of
    its cost: the worker lands every event's times. Returns the ticks and the NULL mask; None when
    the column holds anything else (datetimes, bools, infinities): those take the general path."""
    if not set(map(type, col)) <= _EPOCH_KINDS:
        return None
    a = np.array(col, dtype=np.float64)  # None -> nan
    null = np.isnan(a)
    if not np.isfinite(a[~null]).all():
        return None
    a[null] = 0.0
    whole = np.trunc(a)
    micros = whole.astype(np.int64) * 1_000_000 + np.round((a - whole) * 1e6).astype(np.int64)
    return micros // 10 ** (6 - digits), null  # floor, as clickhouse-connect


def _with_nulls(values: list, null: np.ndarray) -> list:
    for i in np.flatnonzero(null).tolist():
        values[i] = None
    return values


def _native_datetimes(col: Sequence, digits: int | None) -> list:
    """A DateTime column as clickhouse-connect's Native writer takes it: ticks, or datetimes."""
    converted = _epoch_ticks(col, digits) if digits is not None else None
    if converted is None:
        return [_to_datetime(v) for v in col]
    ticks, null = converted
    return _with_nulls(ticks.tolist(), null)


def _json_datetimes(col: Sequence, digits: int | None) -> list | None:
    """A DateTime64 column for JSONCompactColumns: the same ticks as seconds. A tick count over
    10**digits with digits <= 3 is a decimal of at most 15 significant digits, so the float's
    shortest form (what orjson writes) is that decimal and ClickHouse reads the tick back
    exactly (an integer would be read as whole seconds). None: only the Native path can say."""
    if digits is None or digits > 3:
        return None
    converted = _epoch_ticks(col, digits)
    if converted is None:
        return None
    ticks, null = converted
    return _with_nulls((ticks / 10 ** digits).tolist(), null)


def _to_datetime(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, _UTC)
    return value


def insert_settings(client: Any, dedup_token: str | None) -> dict[str, Any]:
    """Settings for an insert. With a token, a retried insert of the same block is dropped by
    ClickHouse (tables carry non_replicated_deduplication_window), including blocks pushed into
    dependent materialized views."""
    if not dedup_token:
        return {}
    settings: dict[str, Any] = {"insert_deduplicate": 1, "insert_deduplication_token": dedup_token}
    if not is_embedded(client):
        # A server may have async inserts enabled by profile; they ignore the token there.
        settings["async_insert"] = 0
        settings["deduplicate_blocks_in_dependent_materialized_views"] = 1
    return settings


def insert_rows(client: Any, table: str, rows: list[dict], dedup_token: str | None = None) -> int:
    """Insert dict rows column-oriented; columns are the first row's keys (missing keys in later
    rows become None). DateTime columns accept float epoch seconds or aware datetimes.
    Returns the number of rows sent."""
    if not rows:
        return 0
    names = list(rows[0].keys())
    columns = []
    for name in names:
        try:  # rows of one table normally share their keys: a C-level gather
            columns.append(list(map(itemgetter(name), rows)))
        except KeyError:
            columns.append([r.get(name) for r in rows])
    return insert_columns(client, table, names, columns, dedup_token)


def insert_tuples(client: Any, table: str, names: Sequence[str], rows: list[tuple],
                  dedup_token: str | None = None) -> int:
    """Insert rows given as tuples in the order of `names` (the worker's rows: see
    pipeline/history/rows.py). Returns the number of rows sent."""
    if not rows:
        return 0
    return insert_columns(client, table, names, transpose(rows, len(names)), dedup_token)


def transpose(rows: list[tuple], width: int) -> list[Sequence]:
    """Tuples of `width` values -> one sequence per column."""
    if len(rows) >= 200 * width:
        # tall tables (a batch's events: 20,000 rows of 12) transpose column by column three
        # times faster than zip(*rows), which walks 20,000 iterators per column; measured on
        # the bench's batches: 0.34-0.51 s -> 0.10-0.14 s per 200,000 events. Wide ones (the
        # contacts' 41 columns) stay with zip, faster there.
        return [list(map(itemgetter(i), rows)) for i in range(width)]
    return list(zip(*rows))


def json_body(names: Sequence[str], rows: list[tuple], types: dict[str, str]) -> bytes | None:
    """Tuples as the JSONCompactColumns document insert_columns would send for them (`types`:
    the table's column types, from column_types), or None when they need the Native path or a
    name is not a column. Pure CPU: the worker runs it on its own thread (pipeline/history/landing.py)."""
    if not rows or any(n not in types for n in names):
        return None
    return _json_columns(transpose(rows, len(names)), [types[n] for n in names])


def insert_json(client: Any, table: str, names: Sequence[str], body: bytes,
                dedup_token: str | None = None) -> None:
    """Insert a json_body document. A JSON object (or array) given for a String column is stored
    as its text, exactly as the document writes it (orjson: compact, keys in the dict's order)."""
    settings = {**insert_settings(client, dedup_token), "input_format_json_read_objects_as_strings": 1,
                "input_format_json_read_arrays_as_strings": 1}
    try:
        client.raw_insert(table, list(names), insert_block=body, fmt="JSONCompactColumns", settings=settings)
    except OperationalError as exc:
        raise _unavailable(client, exc) from exc


def insert_columns(client: Any, table: str, names: Sequence[str], columns: list[Sequence],
                   dedup_token: str | None = None) -> int:
    """Insert one column per name (equal lengths). DateTime columns accept float epoch seconds or
    aware datetimes. Returns the number of rows sent.

    Sent as JSONCompactColumns (one orjson call) whenever every value has a JSON form: ClickHouse
    parses it in C++ without the GIL, where clickhouse-connect's Native writer encodes every
    string in Python on the landing thread while the worker's batch step waits for the GIL.
    Measured on the bench's batches (200,000 events, 20,000 a batch, the engine call stubbed out):
    0.29-0.34 instead of 0.77-0.87 s of Python CPU, with insert_tuples' transposition; the total
    CPU is unchanged (the parse moved into ClickHouse). The Native path remains for what JSON
    cannot carry (datetimes, NaN and infinities, bytes, integers past 64 bits)."""
    if not columns or not len(columns[0]):
        return 0
    types = column_types(client, table)
    unknown = [n for n in names if n not in types]
    if unknown:
        raise ValueError(f"table {table} has no column(s) {unknown}")
    body = _json_columns(columns, [types[n] for n in names])
    if body is not None:
        insert_json(client, table, names, body, dedup_token)
        return len(columns[0])
    try:
        # Known column types: without them clickhouse-connect asks the server (DESCRIBE) on
        # every insert, a round trip per table per batch on the worker's hot path.
        client.insert(table, _native_columns(columns, [types[n] for n in names]),
                      column_names=list(names), column_oriented=True,
                      column_type_names=[_sent_type(client, types[n]) for n in names],
                      settings=insert_settings(client, dedup_token))
    except OperationalError as exc:
        raise _unavailable(client, exc) from exc
    return len(columns[0])


def _datetime_digits(kind: str) -> int | None:
    m = _DATETIME64.match(kind)
    return int(m.group(1)) if m else None


def _json_columns(columns: Sequence[Sequence], kinds: Sequence[str]) -> bytes | None:
    """The columns as one JSONCompactColumns document, or None when a value has no JSON form:
    a DateTime column of anything but epoch numbers, a non-finite float (orjson writes null),
    or a value orjson refuses (bytes, lone surrogates, integers past 64 bits)."""
    columns = list(columns)
    for i, kind in enumerate(kinds):
        if "DateTime" in kind:
            col = _json_datetimes(columns[i], _datetime_digits(kind))
            if col is None:
                return None
            columns[i] = col
        elif "Float" in kind and not _all_finite(columns[i], arrays=kind.startswith("Array(")):
            return None
    try:
        return orjson.dumps(columns)
    except orjson.JSONEncodeError:
        return None


def _all_finite(col: Sequence, arrays: bool) -> bool:
    """False when a float of the column (or of its arrays) is NaN or infinite; None is NULL."""
    try:
        if arrays:
            a = np.fromiter(itertools.chain.from_iterable(col), dtype=np.float64)
            return bool(np.isfinite(a).all())
        a = np.array(col, dtype=np.float64)  # None -> nan, hence the count
    except (TypeError, ValueError):  # not numbers after all: orjson or ClickHouse will say
        return True
    return not np.isinf(a).any() and int(np.isnan(a).sum()) == col.count(None)


def _native_columns(columns: Sequence[Sequence], kinds: Sequence[str]) -> list[Sequence]:
    columns = list(columns)
    for i, kind in enumerate(kinds):
        if "DateTime" in kind:
            columns[i] = _native_datetimes(columns[i], _datetime_digits(kind))
        elif _without_low_cardinality(kind) in _TEXT_KINDS:
            columns[i] = [_json_text(v) if isinstance(v, (dict, list)) else v for v in columns[i]]
    return columns


_TEXT_KINDS = frozenset({"String", "Nullable(String)"})


def _json_text(value: dict | list) -> str:
    """A JSON value given for a String column, as the JSON path stores it (see insert_json)."""
    return orjson.dumps(value).decode()


# ------------------------------------------------------------------------------------------ query
def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def query_columns(client: Any, sql: str, parameters: dict[str, Any] | None = None,
                  settings: dict[str, Any] | None = None) -> dict[str, Sequence[Any]]:
    """Run a query with server-side parameters ({name:Type}); its columns by name, NaN -> None.
    For results of many rows that are summed or reshaped column-wise (the queues report)."""
    try:
        result = client.query(sql, parameters=parameters or None, settings=settings or None)
    except OperationalError as exc:
        raise _unavailable(client, exc) from exc
    # NaN/inf can only be in float columns (or arrays of floats): clean those, pass the rest as
    # they are (a 22k-row report spent two thirds of its Python time cleaning every value)
    # no rows: empty columns (an embedded store may also name none)
    columns = result.result_columns or [[] for _ in result.column_names]
    return {name: _clean_column(column, typ.name)
            for name, column, typ in zip(result.column_names, columns, result.column_types)}


def query_rows(client: Any, sql: str, parameters: dict[str, Any] | None = None,
               settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run a query with server-side parameters ({name:Type}); rows as dicts, NaN -> None."""
    columns = query_columns(client, sql, parameters, settings)
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]


def _clean_column(column: Any, type_name: str) -> Any:
    if "Float" not in type_name:
        return column
    if type_name.startswith(("Float", "Nullable(Float")):
        return [v if v is None or math.isfinite(v) else None for v in column]
    return [_clean(v) for v in column]


_MEMORY_TRACKED_SQL = Path(__file__).resolve().parents[2] / "clickhouse" / "queries" / "memory_tracked.sql"


def memory_tracked(client: Any) -> float | None:
    """Bytes ClickHouse tracks as in use (system.metrics MemoryTracking); None if it has no such
    metric."""
    rows = query_rows(client, _MEMORY_TRACKED_SQL.read_text(encoding="utf-8"))
    return float(rows[0]["value"]) if rows else None


_RELEASE_MEMORY_SQL = _MEMORY_TRACKED_SQL.with_name("release_memory.sql")


def release_memory(client: Any) -> bool:
    """Embedded chDB: return the memory its allocator freed to the OS (a few ms). A server is left
    alone. True when it ran."""
    if not is_embedded(client):
        return False
    _command(client, split_statements(_RELEASE_MEMORY_SQL.read_text(encoding="utf-8"))[0])
    return True


def count_rows(client: Any) -> dict[str, int]:
    """Physical rows per table (active parts; replaced duplicates not yet merged away are
    included). Cheap: reads system.parts metadata only. Missing tables report 0."""
    rows = query_rows(client, "SELECT table, sum(rows) AS n FROM system.parts "
                              "WHERE database = currentDatabase() AND active GROUP BY table")
    found = {r["table"]: int(r["n"]) for r in rows}
    return {t: found.get(t, 0) for t in TABLES}
