"""Kafka clients log every failed connection attempt: with the broker away that is hundreds of
lines a second from the worker's consumers and producer. This filter lets the first record of each
kind through, then one per period that says how many like it were held back."""
from __future__ import annotations

import logging
import time

NOISY = ("aiokafka", "kafka")  # logger name prefixes that are throttled; others pass untouched


class RepeatThrottle(logging.Filter):
    def __init__(self, every_s: float = 30.0, clock=time.monotonic, prefixes: tuple[str, ...] = NOISY):
        super().__init__()
        self.every_s = every_s
        self.clock = clock
        self.prefixes = prefixes
        self._kinds: dict[tuple, list] = {}  # (logger, level, format string) -> [last shown, held back]

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        # the format string, not the arguments: node ids, addresses and errors vary within a kind
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        kind = self._kinds.get(key)
        if kind is None:
            self._kinds[key] = [now, 0]
            return True
        if now - kind[0] < self.every_s:
            kind[1] += 1
            return False
        if kind[1]:
            record.msg = f"{record.msg} [{kind[1]} more like this from {record.name} in the last {now - kind[0]:.0f}s]"
        kind[0], kind[1] = now, 0
        return True


def install(every_s: float = 30.0) -> None:
    """On every handler of the root logger (where Faust's and uvicorn's records end up)."""
    throttle = RepeatThrottle(every_s)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RepeatThrottle) for f in handler.filters):
            handler.addFilter(throttle)


def skip_unshown_records() -> None:
    """mode's worker sets the root logger to DEBUG for its console spinner (a handler that shows
    nothing with quiet=True), so every debug call of aiokafka -- one per message produced, one per
    request sent -- built a LogRecord, walked the stack for its caller and went through the
    handlers to be dropped: about 3% of the worker's CPU. The root level goes up to the lowest
    level a real handler shows, so what reaches the log is unchanged."""
    root = logging.getLogger()
    levels = [h.level for h in root.handlers if type(h).__name__ != "SpinnerHandler"]
    if levels and root.level < min(levels):
        root.setLevel(min(levels))


COORDINATOR_LOGGER = "aiokafka.consumer.group_coordinator"


class RetriableCoordinatorErrors(logging.Filter):
    """aiokafka logs "Group Coordinator Request failed" at ERROR for every retry while the broker
    elects a group's coordinator, which is normal for a few seconds at start (a fresh broker, a new
    consumer group). Retriable ones are dropped during the first `grace_s` seconds and shown as
    WARNING afterwards (a coordinator still missing then is worth a look, not an error: aiokafka
    keeps retrying). Non-retriable errors pass as they are."""

    def __init__(self, grace_s: float = 60.0, clock=time.monotonic):
        super().__init__()
        self.clock = clock
        self.until = clock() + grace_s

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not str(record.msg).startswith("Group Coordinator Request failed"):
            return True
        err = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if not getattr(err, "retriable", False):
            return True
        if self.clock() < self.until:
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_start(grace_s: float = 60.0) -> None:
    """Install the coordinator filter on aiokafka's logger (before any consumer starts)."""
    logger = logging.getLogger(COORDINATOR_LOGGER)
    if not any(isinstance(f, RetriableCoordinatorErrors) for f in logger.filters):
        logger.addFilter(RetriableCoordinatorErrors(grace_s))
