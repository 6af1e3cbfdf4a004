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
