"""Time-driven upkeep: parked events that waited too long go to the dead letters, contacts
past the dedup retention leave memory."""
from __future__ import annotations

from pipeline.app import app
from pipeline.agents.runtime import runtime


@app.timer(interval=5.0, name="tablero.housekeeping")
async def housekeeping() -> None:
    await runtime().housekeeping()
