"""Time-driven upkeep: parked events that waited too long go to the dead letters, contacts
past the dedup retention leave memory."""
from __future__ import annotations

from pipeline.app import app
from pipeline.kafka_admin import EVENTS_TOPIC
from pipeline.worker_runtime import runtime


@app.timer(interval=5.0, name="tablero.housekeeping")
async def housekeeping() -> None:
    if app.rebalancing or getattr(app, "in_recovery", False):
        return
    await runtime().housekeeping()


@app.on_partitions_revoked.connect
async def on_revoked(app_, revoked, **kwargs) -> None:
    # the first step of every rebalance (also at start, with nothing revoked)
    runtime().on_rebalance_started({tp.partition for tp in revoked if tp.topic == EVENTS_TOPIC})


@app.on_rebalance_complete.connect
async def on_rebalance_complete(app_, **kwargs) -> None:
    # sent after the changelog is restored and just before the streams resume
    runtime().on_rebalance_complete()
