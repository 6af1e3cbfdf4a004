"""Publishes this worker's per-partition partial live views to the compacted tablero.live
topic on a timer: every partition once a second (the API sees the worker alive), and partitions
left dirty by TABLERO_LIVE_INTERVAL_S spacing. Changed partitions normally go out right after
their batch (pipeline/agents/runtime.py)."""
from __future__ import annotations

from pipeline.app import app, settings
from pipeline.agents.runtime import runtime


@app.timer(interval=min(settings.live_interval_s or 0.5, 0.5), name="tablero.live_publisher")
async def publish_live() -> None:
    await runtime().publish_live()
