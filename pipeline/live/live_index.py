"""Incremental live partial of one partition: kept up to date per batch, read in O(rows + waits not yet breached).

`LiveIndex.partial(now, agents)` returns exactly what `pipeline.live.live_view.partial` computes
from every contact of the partition (the property test in tests/pipeline/live/test_live_index.py
checks it against that function with hypothesis), without visiting the contacts:

* Per (queue, channel) row: the number of contacts, unassigned / in_progress counts, and the
  waiting contacts by wait start (and snoozed ones by snooze end) in `SortedList`s. The
  time-dependent counts (inside / at risk / breached, oldest wait) are not computed here: the
  partial carries the count of waits already breached (a bisection) and the sorted starts of
  the others, and `live_view.merge` bisects those at its own `now` (`live_view.wait_age` is the
  one place that says how old a wait is). So a read costs O(rows + waits not yet breached).
* The windowed counters ("today", "last_30m") come from *contributions*: each contact adds
  (time, what) entries -- created -> offered; answer -> answered, within SL, ASA; abandon ->
  abandoned, short; close with handle time -> AHT; first response -> FR -- in a `SortedList`
  of (time, contact id, ...) tuples. Each window keeps its sums for the range [lo, now] it was last read at; moving to a
  later range adds the entries that came in at the new end and subtracts those that left at the
  start (sliding window, amortised O(entries that moved)). A read at an earlier `now` (clock
  stepped back) or a range that starts before the pruned entries recomputes from the contacts.
* A contact's part of all this is a *footprint*, a pure function of its state
  (`footprint(state)`). The caller takes the footprint before an event (or a batch of them) and after it and calls
  `replace(old, new)`: unchanged footprints (tags, ratings, holds) cost one tuple comparison.

Entries older than both windows are pruned (`prune_before`), so memory is bounded by the
contacts touched within the windows plus the open ones. No I/O, no clock: `now` is a parameter.
"""
from __future__ import annotations

from typing import Callable, Iterable

from sortedcontainers import SortedList

from pipeline.live.contact_state import AgentState, ContactState
from pipeline.live.live_view import (ABANDONED, AHT_MS, AHT_N, ANSWERED, ASA_MS, ASA_N, FR_MS, FR_N,
                                     LAST_WINDOW_S, MAX_WAITING_ITEMS, OFFERED, SHORT, WITHIN, _NW,
                                     day_start, wait_age)
from pipeline.live.queue_settings import QueuePolicy, QueueSettings
from pipeline.live.sla_clock import sl_wait

_CH_INDEX = {"voice": 0, "chat": 1, "email": 2}
# contribution kinds: entry = (time, contact_id, kind, key, a, b)
_K_OFFERED, _K_ANSWERED, _K_ABANDONED, _K_AHT, _K_FR = range(5)


def _contributions(s: ContactState, key: tuple, threshold: float, short: float, biz) -> tuple:
    c = s.created
    cid = s.contact_id
    out = [(c, cid, _K_OFFERED, key, 0, 0)]
    email = s.channel == "email"
    fr = s.first_response
    at = fr if email else s.answered
    if at is not None:
        wait = at - c
        within = sl_wait(s, at, biz) <= threshold  # the queue's SLA clock, pauses excluded
        out.append((at, cid, _K_ANSWERED, key, int(within), None if email else round(wait * 1000)))
    ab = s.abandoned
    if ab is not None:
        out.append((ab, cid, _K_ABANDONED, key, int(ab - c <= short), 0))
    cl = s.closed
    if cl is not None and s.handle_segments:
        out.append((cl, cid, _K_AHT, key, s.handle_ms, 0))
    if fr is not None:
        out.append((fr, cid, _K_FR, key, round((fr - c) * 1000), 0))
    return tuple(out)


def _add(w: list, e: tuple, sign: int) -> None:
    kind = e[2]
    if kind == _K_OFFERED:
        w[OFFERED] += sign
    elif kind == _K_ANSWERED:
        w[ANSWERED] += sign
        w[WITHIN] += sign * e[4]
        if e[5] is not None:
            w[ASA_MS] += sign * e[5]
            w[ASA_N] += sign
    elif kind == _K_ABANDONED:
        w[ABANDONED] += sign
        w[SHORT] += sign * e[4]
    elif kind == _K_AHT:
        w[AHT_MS] += sign * e[4]
        w[AHT_N] += sign
    else:
        w[FR_MS] += sign * e[4]
        w[FR_N] += sign


def _breached(waits: SortedList, now: float, policy: QueuePolicy) -> int:
    """How many of the (start, contact) `waits` are breached at `now`: a bisection on the very
    predicate live_view.merge uses (monotone in the start), O(log^2 n) with positional access."""
    lo, hi = 0, len(waits)
    bound = policy.threshold_s
    while lo < hi:
        mid = (lo + hi) >> 1
        if wait_age(waits[mid][0], now, policy) >= bound:
            lo = mid + 1
        else:
            hi = mid
    return lo


class _Top:
    """Sorts after every contact id: (t, _TOP) bounds all entries of time t from above."""

    def __lt__(self, other) -> bool:
        return False

    def __gt__(self, other) -> bool:
        return True


_TOP = _Top()


class _Window:
    """Sums per row key of the entries with lo <= time <= hi."""

    __slots__ = ("lo", "hi", "sums")

    def __init__(self):
        self.lo = self.hi = float("-inf")
        self.sums: dict[tuple, list] = {}

    def _row(self, key: tuple) -> list:
        w = self.sums.get(key)
        if w is None:
            w = self.sums[key] = [0] * _NW
        return w

    def touch(self, e: tuple, sign: int) -> None:
        if self.lo <= e[0] <= self.hi:
            _add(self._row(e[3]), e, sign)

    def rebuild(self, entries: SortedList, lo: float, hi: float) -> None:
        self.sums = {}
        self.lo, self.hi = lo, hi
        if lo <= hi:
            for e in entries.irange((lo,), (hi, _TOP)):
                _add(self._row(e[3]), e, 1)

    def move(self, entries: SortedList, lo: float, hi: float) -> None:
        """Slide to [lo, hi] with lo >= self.lo and hi >= self.hi."""
        old_lo, old_hi = self.lo, self.hi
        if lo > old_lo:  # entries in [old_lo, min(lo, old_hi + 0)] that were counted and are < lo leave
            for e in entries.irange((old_lo,), (min(lo, old_hi), _TOP)):
                if e[0] < lo:
                    _add(self._row(e[3]), e, -1)
        if hi > old_hi:  # entries in (old_hi, hi] come in, if not before the new start
            start = (lo,) if lo > old_hi else (old_hi, _TOP)
            for e in entries.irange(start, (hi, _TOP)):
                if e[0] > old_hi:
                    _add(self._row(e[3]), e, 1)
        self.lo, self.hi = lo, hi


class _Row:
    __slots__ = ("n", "unassigned", "in_progress", "waits", "snoozes")

    def __init__(self):
        self.n = 0
        self.unassigned = 0
        self.in_progress = 0
        self.waits = SortedList()    # (wait start, contact id)
        self.snoozes = SortedList()  # (snooze end, contact id)


class LiveIndex:
    def __init__(self, settings: QueueSettings, contacts: Callable[[], Iterable[ContactState]] = tuple):
        """`contacts` gives the partition's current contacts: read only to recompute the windows
        when time steps back before the pruned entries (rare). Each needs only `live_fp`, the
        footprint `update` left on it (the worker's ended contacts at rest keep theirs)."""
        self.settings = settings
        self._contacts = contacts
        self.rows: dict[tuple, _Row] = {}
        self.agent_open: dict[str, list[int]] = {}
        self.entries = SortedList()  # (time, contact id, kind, row key, a, b): by time first
        self.today = _Window()
        self.last = _Window()
        self.pruned_before = float("-inf")  # entries before this time were dropped
        self._policy: dict[tuple, tuple] = {}  # (queue, channel) -> (key, threshold, short, biz)
        self._queue_policy: dict[tuple, QueuePolicy] = {}

    # -- footprints ------------------------------------------------------------------------------
    def footprint(self, s: ContactState | None) -> tuple | None:
        """What `s` contributes to the partial; equal footprints contribute the same."""
        if s is None:
            return None
        pol = self._policy.get((s.queue, s.channel))
        if pol is None:
            p = self.settings.for_queue(s.queue, s.channel)
            # the row key is stored once here and shared by every footprint and entry of the row
            key = (s.queue, s.channel)
            pol = self._policy[key] = (key, p.threshold_s, p.short_abandon_s, p.sl_business_seconds)
        key, threshold, short, biz = pol
        if s.ended:
            return (key, s.contact_id, False, "", None, None, _contributions(s, key, threshold, short, biz))
        ws = s.wait_start
        return (key, s.contact_id, True, s.assignee, ws, s.snooze_until if ws is None else None,
                _contributions(s, key, threshold, short, biz))

    def update(self, before: tuple | None, s: ContactState) -> None:
        """`s` changed (in place or as a new object) from footprint `before`: apply the
        difference and remember the new footprint on the state for its next change."""
        fp = self.footprint(s)
        s.live_fp = fp
        self.replace(before, fp)

    def previous(self, s: ContactState | None) -> tuple | None:
        """The footprint `s` contributed last (before an event changes it)."""
        if s is None:
            return None
        fp = s.live_fp
        return fp if fp is not None else self.footprint(s)

    def replace(self, old: tuple | None, new: tuple | None) -> None:
        """Move the index from footprint `old` to `new` of one contact, touching only what
        differs (most events change one contribution, or the wait, or the assignee)."""
        if old == new:
            return
        if old is None or new is None or old[0] != new[0]:  # new, gone, or moved to another row
            if old is not None:
                self._apply(old, -1)
            if new is not None:
                self._apply(new, 1)
            return
        key, cid, o_open, o_agent, o_wait, o_snooze, o_con = old
        _, _, n_open, n_agent, n_wait, n_snooze, n_con = new
        row = self.rows[key]
        if o_open != n_open or o_agent != n_agent:
            if o_open:
                self._assign(row, key, o_agent, -1)
            if n_open:
                self._assign(row, key, n_agent, 1)
        if o_wait != n_wait:
            if o_wait is not None:
                row.waits.remove((o_wait, cid))
            if n_wait is not None:
                row.waits.add((n_wait, cid))
        if o_snooze != n_snooze:
            if o_snooze is not None:
                row.snoozes.remove((o_snooze, cid))
            if n_snooze is not None:
                row.snoozes.add((n_snooze, cid))
        if o_con != n_con:
            for e in o_con:
                if e not in n_con:
                    self._entry(e, -1)
            for e in n_con:
                if e not in o_con:
                    self._entry(e, 1)

    def _assign(self, row: _Row, key: tuple, assignee: str, sign: int) -> None:
        if assignee:
            row.in_progress += sign
            o = self.agent_open.get(assignee)
            if o is None:
                o = self.agent_open[assignee] = [0, 0, 0]
            o[_CH_INDEX.get(key[1], 2)] += sign
            if not any(o):
                del self.agent_open[assignee]
        else:
            row.unassigned += sign

    def _entry(self, e: tuple, sign: int) -> None:
        if sign > 0:
            self.entries.add(e)
        else:
            self.entries.discard(e)  # may be pruned already (then it is in no window either)
        self.today.touch(e, sign)
        self.last.touch(e, sign)

    def add(self, s: ContactState) -> None:
        s.live_fp = fp = self.footprint(s)
        self._apply(fp, 1)

    def remove(self, s: ContactState) -> None:
        self._apply(self.previous(s), -1)

    def _apply(self, fp: tuple, sign: int) -> None:
        key, cid, open_, assignee, wait, snooze, contribs = fp
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = _Row()
        row.n += sign
        if open_:
            self._assign(row, key, assignee, sign)
            if wait is not None:
                (row.waits.add if sign > 0 else row.waits.remove)((wait, cid))
            elif snooze is not None:
                (row.snoozes.add if sign > 0 else row.snoozes.remove)((snooze, cid))
        for e in contribs:
            self._entry(e, sign)
        if row.n == 0:
            del self.rows[key]

    # -- reading ---------------------------------------------------------------------------------
    def _windows(self, now: float) -> None:
        day0 = day_start(now, self.settings.tz)
        m30 = now - LAST_WINDOW_S
        if min(day0, m30) < self.pruned_before:
            self._restore()
        for w, lo in ((self.today, day0), (self.last, m30)):
            if lo < w.lo or now < w.hi:
                w.rebuild(self.entries, lo, now)
            else:
                w.move(self.entries, lo, now)

    def _restore(self) -> None:
        """Re-add every contact's entries (after pruning, for a read earlier than the prune)."""
        entries = SortedList()
        for s in self._contacts():
            entries.update(self.previous(s)[6])
        self.entries = entries
        self.pruned_before = float("-inf")
        self.today = _Window()
        self.last = _Window()

    def prune_before(self, t: float) -> int:
        """Drop entries before `t` (callers pass a time both windows have left for good)."""
        i = self.entries.bisect_left((t,))
        if i:
            del self.entries[:i]
        self.pruned_before = max(self.pruned_before, t)
        for w in (self.today, self.last):
            if w.lo < t:  # its sums count entries that are gone: sliding on would never subtract them
                w.__init__()
        return i

    def prune(self, now: float) -> int:
        """Drop the entries before both windows at `now`, less a minute of slack for a clock
        that steps back a little."""
        return self.prune_before(min(day_start(now, self.settings.tz), now - LAST_WINDOW_S) - 60.0)

    def partial(self, now: float, agents: Iterable[AgentState]) -> dict:
        """The same dict as live_view.partial over this partition's contacts at `now`."""
        self._windows(now)
        tsums, lsums = self.today.sums, self.last.sums
        zero = [0] * _NW
        queues = []
        for key in sorted(self.rows):
            row = self.rows[key]
            waits, snoozes = row.waits, row.snoozes
            pol = self._queue_policy.get(key)
            if pol is None:
                pol = self._queue_policy[key] = self.settings.for_queue(key[0], key[1])
            breached = _breached(waits, now, pol)
            queues.append({
                "queue": key[0], "channel": key[1], "unassigned": row.unassigned,
                "in_progress": row.in_progress,
                "breached": breached, "waits": [x[0] for x in waits.islice(breached)],
                "wait_top": [list(x) for x in waits.islice(0, MAX_WAITING_ITEMS)],
                "snoozes": [x[0] for x in snoozes],
                "snooze_top": [list(x) for x in snoozes.islice(0, MAX_WAITING_ITEMS)],
                "today": list(tsums.get(key, zero)), "last_30m": list(lsums.get(key, zero)),
            })
        return {
            "now": now,
            "queues": queues,
            "agent_open": {a: list(o) for a, o in self.agent_open.items()},
            "agents": [[a.agent, a.state, a.reason, a.since, a.capacity] for a in agents],
        }
