"""Deferred work (email, and any queue whose threshold is hours): workload with a carried backlog.

Workload of interval i = volume_i x AHT (seconds of work). An item that arrives in interval i must be
done by the END of interval i + d - 1, d = ceil(deadline_s / interval_s) (conservative: an item
that arrives late in interval i gets slightly more than its deadline). Work is done earliest
deadline first. What is not done is carried to the next interval as backlog.

``required``: the fewest agents per interval (fractional FTE, and rounded up) that still meet every
deadline, spreading work as late as the deadlines allow but as evenly as possible: at interval t,
rate_t = max over h >= t of (work on hand with deadline <= h) / (open intervals in t..h). Work on
hand = backlog + this interval's arrivals; later arrivals are planned when they come (their own
deadline is still ahead). Every item is done on time when the plan is followed (rate_t covers what
is due at t).

``simulate``: given agents per interval (e.g. the agents logged in), the backlog and the items that
missed their deadline (counted once, in the interval whose end they missed).

Closed intervals (``open_mask`` False) have no capacity; work due in them is late. Pure.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_EPS = 1e-9


class BacklogError(ValueError):
    def __init__(self, param: str, reason: str):
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason


@dataclass(frozen=True)
class BacklogRow:
    index: int
    arrivals: float          # items arriving in the interval
    workload_s: float        # arrivals x AHT
    agents: float            # agents working the queue (fractional FTE)
    agents_rounded: int      # ceil(agents)
    done_s: float            # seconds of work done
    backlog_items: float     # items still open at the end of the interval
    backlog_s: float
    late_items: float        # items whose deadline passed at the end of this interval, not done


def _check(volumes: Sequence[float], aht_s: float, interval_s: float, deadline_s: float,
           open_mask: Sequence[bool] | None) -> list[bool]:
    if not (aht_s > 0):
        raise BacklogError("aht_s", f"must be > 0 seconds, got {aht_s!r}")
    if not (interval_s > 0):
        raise BacklogError("interval_s", f"must be > 0 seconds, got {interval_s!r}")
    if not (deadline_s > 0):
        raise BacklogError("deadline_s", f"must be > 0 seconds (the queue's threshold), got {deadline_s!r}")
    if any(not (v >= 0) for v in volumes):
        raise BacklogError("volume", "volumes must be numbers >= 0")
    mask = [True] * len(volumes) if open_mask is None else [bool(x) for x in open_mask]
    if len(mask) != len(volumes):
        raise BacklogError("open_mask", f"has {len(mask)} entries for {len(volumes)} intervals")
    return mask


def _run(volumes, aht_s, interval_s, deadline_s, mask, agents_given):
    d = max(1, math.ceil(deadline_s / interval_s - _EPS))
    cohorts: list[list[float]] = []        # [due index, remaining seconds, late flagged]
    rows: list[BacklogRow] = []
    for t, vol in enumerate(volumes):
        work = vol * aht_s
        if work > 0:
            cohorts.append([t + d - 1, work, 0.0])
        cohorts.sort(key=lambda c: c[0])
        if agents_given is None:
            rate = 0.0
            if mask[t]:
                acc = 0.0
                for due, rem, _ in cohorts:
                    acc += rem
                    if due < t:               # already late: do it now
                        rate = max(rate, acc)
                        continue
                    opened = sum(1 for k in range(t, due + 1) if k >= len(mask) or mask[k])
                    rate = max(rate, acc / max(opened, 1))
            agents = rate / interval_s
        else:
            agents = float(agents_given[t]) if mask[t] else 0.0
        capacity = agents * interval_s
        done = 0.0
        for c in cohorts:
            if capacity <= _EPS:
                break
            take = min(c[1], capacity)
            c[1] -= take
            capacity -= take
            done += take
        cohorts = [c for c in cohorts if c[1] > _EPS * aht_s]
        late = 0.0
        for c in cohorts:
            if c[0] <= t and not c[2]:
                late += c[1] / aht_s
                c[2] = 1.0
        backlog_s = sum(c[1] for c in cohorts)
        rows.append(BacklogRow(index=t, arrivals=vol, workload_s=work, agents=agents,
                               agents_rounded=math.ceil(agents - _EPS) if agents > _EPS else 0,
                               done_s=done, backlog_items=backlog_s / aht_s, backlog_s=backlog_s, late_items=late))
    return rows


def required(volumes: Sequence[float], aht_s: float, interval_s: float, deadline_s: float,
             open_mask: Sequence[bool] | None = None) -> list[BacklogRow]:
    """Fewest agents per interval that meet every deadline (see the module docstring)."""
    mask = _check(volumes, aht_s, interval_s, deadline_s, open_mask)
    return _run(volumes, aht_s, interval_s, deadline_s, mask, None)


def simulate(volumes: Sequence[float], agents: Sequence[float], aht_s: float, interval_s: float,
             deadline_s: float, open_mask: Sequence[bool] | None = None) -> list[BacklogRow]:
    """Backlog and late items with the given agents per interval."""
    mask = _check(volumes, aht_s, interval_s, deadline_s, open_mask)
    if len(agents) != len(volumes):
        raise BacklogError("agents", f"has {len(agents)} entries for {len(volumes)} intervals")
    if any(not (a >= 0) for a in agents):
        raise BacklogError("agents", "agents must be numbers >= 0")
    return _run(volumes, aht_s, interval_s, deadline_s, mask, list(agents))
