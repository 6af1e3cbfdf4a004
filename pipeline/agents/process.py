"""The one stream agent: validate, dedupe, apply to contact/agent state, dead-letter what cannot
be used, land history, then ack. Batches (take_events) keep Faust's per-event cost off the path."""
from __future__ import annotations

from pipeline.app import app, settings
from pipeline.topics import events_topic
from pipeline.worker_runtime import Record, runtime


@app.agent(events_topic, name="tablero.process")
async def process(stream):
    async for events in stream.take_events(settings.batch_max, within=settings.batch_within_s):
        records = [Record(e.message.key, e.message.value, e.message.partition, e.message.offset)
                   for e in events]
        await runtime().handle_batch(records)
