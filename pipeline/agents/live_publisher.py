"""Publishes this worker's per-partition partial live views to the compacted tablero.live
topic: every live_interval_s while something changed, every second otherwise."""
from __future__ import annotations

from pipeline.app import app, settings
from pipeline.agents.runtime import runtime


@app.timer(interval=settings.live_interval_s, name="tablero.live_publisher")
async def publish_live() -> None:
    await runtime().publish_live()
