"""Landing retries until ClickHouse takes the batch, and a retried batch lands once."""
from __future__ import annotations

import asyncio

import pytest

from pipeline.history import clickhouse_store
from pipeline.history.landing import land
from pipeline.history.rows import EVENT_COLUMNS, Rows


class FlakyWarehouse:
    """Runs calls on a real chDB client, failing the first `failures` calls like a server away."""

    def __init__(self, client, failures: int):
        self.client = client
        self.failures = failures
        self.calls = 0
        self.resets = 0
        self.column_types = {}

    async def call(self, fn, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise clickhouse_store.ClickHouseUnavailable("connection refused (simulated)")
        return fn(self.client, *args, **kwargs)

    def reset(self):
        self.resets += 1


def _rows(token: str) -> Rows:
    event = {"id": "e1", "type": "contact.created", "time": 1_700_000_000.0, "subject": "c1", "source": "t",
             "queue": "q", "channel": "voice", "agent": "", "data": "{}", "kafka_partition": 0,
             "kafka_offset": 7, "ingested_at": 1_700_000_001.0}
    return Rows(events=[tuple(event[c] for c in EVENT_COLUMNS)], dedup_token=token)


@pytest.fixture
def client(ch):
    return ch


async def test_waits_and_retries_until_clickhouse_is_back(client, monkeypatch):
    monkeypatch.setattr(asyncio, "sleep", _instant_sleep)
    wh = FlakyWarehouse(client, failures=3)
    failures = await land(wh, _rows("0:7-7"))
    assert failures == 3 and wh.resets == 3
    assert client.query("SELECT count() FROM events FINAL").result_rows[0][0] == 1


async def test_a_retried_batch_lands_once(client, monkeypatch):
    monkeypatch.setattr(asyncio, "sleep", _instant_sleep)
    wh = FlakyWarehouse(client, failures=0)
    await land(wh, _rows("0:7-7"))
    await land(wh, _rows("0:7-7"))            # the same batch after a crash before the commit
    await land(wh, _rows("0:5-9"))            # a different batch boundary replaying the same event
    assert client.query("SELECT count() FROM events FINAL").result_rows[0][0] == 1


async def _instant_sleep(_seconds):
    return None
