"""ClickHouse fixtures: each test gets its own database in the session's chDB directory
(tests/conftest.py: chDB allows one engine path per process), migrated from clickhouse/migrations."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from pipeline.history import clickhouse_store as store

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "clickhouse" / "migrations"
_seq = itertools.count()


@pytest.fixture(scope="session")
def migrations_dir() -> Path:
    return MIGRATIONS


@pytest.fixture
def ch_empty(chdb_dir):
    """A client on a fresh, empty database (no migrations applied)."""
    client = store.connect(f"chdb://{chdb_dir}?database=t{next(_seq)}")
    yield client
    client.close()


@pytest.fixture
def ch(ch_empty):
    """A client on a fresh database with every migration applied."""
    store.migrate(ch_empty, MIGRATIONS)
    return ch_empty
