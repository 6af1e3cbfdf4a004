"""Prometheus metrics of every Tablero process, defined here once (prometheus-client, default
registry). The worker, the landing step, the API and its routes call the small helpers below at
clear points, once per batch / insert / request, never per event. `GET /metrics` on the API
(supervisor_api/main.py) and the worker's own port (TABLERO_METRICS_PORT, `tablero worker`) expose
the same registry; `tablero up` runs both halves in one process, so its /metrics has everything.

Pure packages (live, schemas, calendars, history.contact_facts/rows, ...) must not import this
module: it is I/O-side instrumentation.

Names (all `tablero_*`; README "Metrics" lists them with their labels):
  events_consumed_total, events_applied_total, events_duplicate_total, events_dead_lettered_total{code},
  batch_size_events, batch_duration_seconds, consumer_lag{partition},
  live_publication_age_seconds{partition}, clickhouse_insert_duration_seconds,
  clickhouse_insert_retries_total, websocket_clients, report_query_duration_seconds{report},
  http_requests_total{route,method,status}, http_request_duration_seconds{route}.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, Iterable, Mapping

from prometheus_client import (CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, disable_created_metrics,
                               generate_latest)
from prometheus_client.core import REGISTRY, GaugeMetricFamily

disable_created_metrics()  # no *_created series: they double the page and nobody graphs them

# -- worker: the event stream ---------------------------------------------------------------------
EVENTS_CONSUMED = Counter("tablero_events_consumed", "Events read from tablero.events by this worker.")
EVENTS_APPLIED = Counter("tablero_events_applied", "Events applied to the live state (first time seen).")
EVENTS_DUPLICATE = Counter("tablero_events_duplicate", "Events already applied (same id), counted once.")
EVENTS_DEAD_LETTERED = Counter("tablero_events_dead_lettered", "Events sent to the dead-letter topic, "
                               "by rejection code.", ["code"])
BATCH_SIZE = Histogram("tablero_batch_size_events", "Events per worker batch.",
                       buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 20000, 50000))
BATCH_DURATION = Histogram("tablero_batch_duration_seconds", "Wall time of a worker batch: apply, state "
                           "records, ClickHouse landing, producer flush and offset commit.",
                           buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
CONSUMER_LAG = Gauge("tablero_consumer_lag", "Events of tablero.events after the last one this worker "
                     "processed (broker high watermark seen in the last fetch minus next offset).",
                     ["partition"])

# -- ClickHouse landing ------------------------------------------------------------------------------
CLICKHOUSE_INSERT_DURATION = Histogram("tablero_clickhouse_insert_duration_seconds",
                                       "Time to land one batch in ClickHouse (every table, retries included).",
                                       buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60))
CLICKHOUSE_INSERT_RETRIES = Counter("tablero_clickhouse_insert_retries", "Failed ClickHouse insert attempts "
                                    "that were retried.")

# -- API ------------------------------------------------------------------------------------------
REPORT_DURATION = Histogram("tablero_report_query_duration_seconds", "Time to compute a report in ClickHouse.",
                            ["report"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
HTTP_REQUESTS = Counter("tablero_http_requests", "HTTP requests answered, by route template, method and status.",
                        ["route", "method", "status"])
HTTP_DURATION = Histogram("tablero_http_request_duration_seconds", "HTTP request time by route template.",
                          ["route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class _Callbacks:
    """Gauges whose value is read at scrape time from the objects that own it (no bookkeeping on
    the hot path): seconds since each partition's last live publication, websocket clients."""

    def __init__(self):
        self.live_last: Callable[[], Mapping[int, float]] | None = None
        self.websocket_clients: Callable[[], int] | None = None
        # where the process's memory goes (a soak tells a growing state from a growing chDB)
        self.contacts: Callable[[], int] | None = None
        self.clickhouse_memory: Callable[[], float | None] | None = None

    def describe(self):
        return []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = time.time()
        age = GaugeMetricFamily("tablero_live_publication_age_seconds", "Seconds since this worker last "
                                "published the partition's partial live view to tablero.live.",
                                labels=["partition"])
        if self.live_last is not None:
            for partition, at in sorted(dict(self.live_last()).items()):
                age.add_metric([str(partition)], max(0.0, now - at))
        yield age
        clients = GaugeMetricFamily("tablero_websocket_clients", "Websocket clients connected to the live feed.")
        clients.add_metric([], float(self.websocket_clients()) if self.websocket_clients else 0.0)
        yield clients
        blocks = GaugeMetricFamily("tablero_python_allocated_blocks", "Memory blocks the Python "
                                   "interpreter has allocated (sys.getallocatedblocks): Python objects.")
        blocks.add_metric([], float(sys.getallocatedblocks()))
        yield blocks
        if self.contacts is not None:
            contacts = GaugeMetricFamily("tablero_worker_contacts", "Contacts this worker holds in memory "
                                         "(open, and ended ones within the dedup retention).")
            contacts.add_metric([], float(self.contacts()))
            yield contacts
        tracked = self.clickhouse_memory() if self.clickhouse_memory is not None else None
        if tracked is not None:
            chm = GaugeMetricFamily("tablero_clickhouse_memory_tracked_bytes", "Memory the embedded "
                                    "ClickHouse (chDB) tracks (system.metrics MemoryTracking), sampled by "
                                    "the worker's housekeeping.")
            chm.add_metric([], float(tracked))
            yield chm


CALLBACKS = _Callbacks()
REGISTRY.register(CALLBACKS)


# -- helpers called by the worker and the API ---------------------------------------------------------
def observe_batch(consumed: int, applied: int, duplicates: int) -> None:
    """Once per batch (the batch's duration is observed by the event stream around its commit)."""
    EVENTS_CONSUMED.inc(consumed)
    EVENTS_APPLIED.inc(applied)
    EVENTS_DUPLICATE.inc(duplicates)
    BATCH_SIZE.observe(consumed)


def observe_dead_letters(codes: Iterable[str]) -> None:
    """Dead letters of a batch or of housekeeping (parked events timing out), by code."""
    for code in codes:
        EVENTS_DEAD_LETTERED.labels(code).inc()


def observe_lag(positions: Mapping[int, tuple[int | None, int]]) -> None:
    """Per partition (high watermark seen in the fetch, last offset processed)."""
    for partition, (highwater, last) in positions.items():
        if highwater is not None:
            CONSUMER_LAG.labels(str(partition)).set(max(0, highwater - last - 1))


def forget_partitions(partitions: Iterable[int]) -> None:
    """A revoked partition is no longer this worker's to report."""
    for p in partitions:
        try:
            CONSUMER_LAG.remove(str(p))
        except KeyError:
            pass


def scrape() -> tuple[bytes, str]:
    """The registry in Prometheus text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve(port: int, host: str = "0.0.0.0") -> None:
    """The worker's own /metrics endpoint (a daemon thread), for `tablero worker` apart from the API."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)
