"""The one stream agent: validate, dedupe, apply to contact/agent state, dead-letter what cannot
be used, land history, then ack. Batches (take_events) keep Faust's per-event cost off the path."""
from __future__ import annotations

import logging

from pipeline.app import app, settings
from pipeline.topics import events_topic
from pipeline.worker_runtime import Record, runtime

log = logging.getLogger(__name__)


@app.agent(events_topic, name="tablero.process")
async def process(stream):
    async for events in stream.take_events(settings.batch_max, within=settings.batch_within_s):
        records = [Record(e.message.key, e.message.value, e.message.partition, e.message.offset)
                   for e in events]
        try:
            await runtime().handle_batch(records)
        except Exception as exc:
            # A bug must stop the worker, not just this agent: a stopped agent would leave the
            # process alive and silently idle. Nothing of this batch was acked; a restart replays it.
            log.critical("batch failed, stopping the worker: %r", exc, exc_info=True)
            await app.crash(exc)
            raise
