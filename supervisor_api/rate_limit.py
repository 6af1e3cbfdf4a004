"""In-process token-bucket rate limits (per key: token id or client address)."""
from __future__ import annotations

import time


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: float | None = None, clock=time.monotonic):
        self.rate = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, key: str) -> tuple[float, float]:
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate), now

    def allow(self, key: str, cost: float = 1.0) -> bool:
        tokens, now = self._level(key)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - cost, now)
        return True

    def allow_peek(self, key: str) -> bool:
        return self._level(key)[0] >= 1.0
