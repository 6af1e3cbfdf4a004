"""One ClickHouse handle per process, shared by the landing agent, reports and status.

chDB allows one process per data directory and its calls block, so every call runs on a
single dedicated thread (serialised); a server DSN gets a few threads, a client each.
"""
from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from pipeline.history import clickhouse_store

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "clickhouse" / "migrations"
QUERIES_DIR = Path(__file__).resolve().parents[2] / "clickhouse" / "queries"


class Warehouse:
    def __init__(self, dsn: str):
        self.dsn = dsn
        self.embedded = dsn.startswith("chdb://")
        self._executor = ThreadPoolExecutor(1 if self.embedded else 4, thread_name_prefix="clickhouse")
        self._local = threading.local()
        self._shared = None
        self._migrated = False
        # table -> column -> type, learned by the landing's inserts (pipeline/history/landing.py)
        self.column_types: dict[str, dict[str, str]] = {}

    def client(self):
        if self.embedded:
            if self._shared is None:
                self._shared = clickhouse_store.connect(self.dsn)
            return self._shared
        if getattr(self._local, "client", None) is None:
            self._local.client = clickhouse_store.connect(self.dsn)
        return self._local.client

    def reset(self) -> None:
        """Drop a broken connection so the next call reconnects."""
        if not self.embedded:
            self._local.client = None

    def call_sync(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        return self._executor.submit(lambda: fn(self.client(), *args, **kwargs)).result()

    async def call(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self.client(), *args, **kwargs))

    async def stream(self, fn: Callable[..., Iterator[Any]], *args, ahead: int = 2, **kwargs) -> AsyncIterator[Any]:
        """Run the generator ``fn(client, *args)`` on the warehouse thread and yield its items as
        they come, at most ``ahead`` items in flight (back-pressure: a slow reader pauses the
        generator, so memory stays bounded). Closing this iterator (the HTTP client went away)
        stops and closes the generator; its exceptions are raised here."""
        loop = asyncio.get_running_loop()
        items: queue.Queue = queue.Queue(maxsize=ahead)
        stop = threading.Event()
        done = object()

        def put(item: Any) -> bool:
            while not stop.is_set():
                try:
                    items.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            gen = None
            try:
                gen = fn(self.client(), *args, **kwargs)
                for item in gen:
                    if not put(item):
                        return
                put(done)
            except BaseException as exc:  # handed to the reader
                put(exc)
            finally:
                if gen is not None and hasattr(gen, "close"):
                    gen.close()

        producer = loop.run_in_executor(self._executor, produce)
        try:
            while True:
                try:
                    item = await loop.run_in_executor(None, lambda: items.get(timeout=0.5))
                except queue.Empty:
                    if producer.done():
                        producer.result()
                        return
                    continue
                if item is done:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            await asyncio.shield(producer)

    def migrate_sync(self) -> list:
        applied = self.call_sync(clickhouse_store.migrate, MIGRATIONS_DIR)
        self._migrated = True
        return applied

    async def health(self) -> dict:
        try:
            counts = await self.call(clickhouse_store.count_rows)
            return {"up": True, "rows": counts, "error": None}
        except Exception as exc:
            self.reset()
            return {"up": False, "rows": {}, "error": f"{type(exc).__name__}: {exc}"}

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        self._executor.shutdown(wait=False)


_instances: dict[str, Warehouse] = {}


def get_warehouse(dsn: str) -> Warehouse:
    if dsn not in _instances:
        _instances[dsn] = Warehouse(dsn)
    return _instances[dsn]
