"""Live view: `partial` per Kafka partition, `merge` of any number of partials.

Exact mergeability: a partial holds only integer counts, integer-millisecond sums with their
counts, sorted wait-start lists and the 50 oldest waiting items per (queue, channel); merge adds
integers, merges sorted lists and takes minima. So merge([p1, p2]) == merge([p_all]) bit for bit.
Bounded size: a wait that is breached at the partial's `now` stays breached at every later `now`
(`wait_age` never decreases as time goes on), so those travel as a count (`breached`) and only
the starts of waits not yet breached are listed (`waits`): a partial grows with the contacts
that arrived within a threshold, not with every waiting contact. merge at a `now` earlier than
the partial's (a clock stepped back) would still count them breached.

Time: everything that ages with the clock (waiting via snooze end, inside_sl / at_risk / breached,
oldest_wait_s, wait_s and time_to_breach_s of items, agent time in state) is computed by `merge`
at its `now`. The windowed counters ("today" since local midnight of the site time zone,
"last_30m" = [now - 1800, now], both inclusive) are computed by `partial` at its `now`.

Definitions (binding: docs/internal-interfaces.md and the glossary; choices made here):
* A contact counts in its *current* queue (after transfers).
* waiting / unassigned / in_progress: open contacts (not closed, not abandoned); waiting as in
  pipeline.live.contact_state; unassigned = no current agent; in_progress = a current agent.
* age = max(0, now - wait start); inside_sl: age < at_risk_fraction * threshold; at_risk: up to
  the threshold; breached: age >= threshold. time_to_breach_s = threshold - age.
* Business clock (queue setting `clock = "business"`, issue 14): age = business seconds of the
  queue's calendar between the wait start and `now`, so a wait does not age while the calendar is
  closed; oldest_wait_s is that age too. Items get `breach_at` (epoch at which the business age
  reaches the threshold, None when the calendar never opens) and time_to_breach_s = breach_at - now
  (wall seconds until the breach, closed hours included; <= 0 once breached). Such a queue row has
  `clock: "business"` and `clock_resumes_at` (the next opening while closed; None while open).
  The SLA clock of a contact runs only while it *waits* (see pipeline.live.contact_state): it is
  stopped by a snooze, by an agent reply (waiting for the customer), an answer, a close or an
  abandon, and a new wait starts at the snooze's end, the customer's next message, a reopen or a
  transfer into a queue without an agent. The today/last_30m windows count events by calendar
  time; their service level judges each answer on the queue's clock (below).
* offered: created in the window. answered: answered (voice/chat) or first agent reply (email)
  in the window; answered_within_sl: of those, the SLA-clock wait (pipeline.live.sla_clock.sl_wait:
  answer - created in the queue's calendar or business seconds, minus snoozed time and time waiting
  for the customer) <= threshold, as the reports' is_within_sl. abandoned: abandon
  in the window; short_abandoned: abandon - created <= short_abandon_s.
  asa_s: mean answer - created over voice/chat answered in the window (None for email).
  aht_s: mean handle time of contacts closed in the window that had a handle segment.
  first_response_s: mean first_response - created over first responses in the window.
  service_level: answered_within_sl / the queue's sl_formula denominator (None when 0); channel
  and total rows divide the summed numerators by the summed per-queue denominators.
* oldest_wait_s is None when nothing waits; means are None without data.
* Channel and total rows have the queue row's aggregate keys without queue, threshold_s and
  at_risk_fraction (thresholds differ between queues); their waiting_items are the 50 oldest of
  their queues, each with its own queue's time to breach.
* Agents with open contacts but no agent.state_changed yet are listed with state "unknown",
  since/time_in_state_s None, and are not counted in agent_states.
"""
from __future__ import annotations

import heapq
from bisect import bisect_right
from datetime import datetime, timedelta, tzinfo
from typing import Iterable

from pipeline.live.contact_state import AgentState, ContactState
from pipeline.live.queue_settings import QueuePolicy, QueueSettings
from pipeline.live.sla_clock import sl_wait

MAX_WAITING_ITEMS = 50
LAST_WINDOW_S = 1800.0
AGENT_STATES = ("offline", "available", "busy", "after_contact_work", "away")
CHANNEL_ORDER = {"voice": 0, "chat": 1, "email": 2}
_CH_INDEX = {"voice": 0, "chat": 1, "email": 2}
# window counter slots
OFFERED, ANSWERED, ABANDONED, SHORT, WITHIN, ASA_MS, ASA_N, AHT_MS, AHT_N, FR_MS, FR_N = range(11)
_NW = 11


def day_start(now: float, tz: tzinfo) -> float:
    """Epoch of local midnight of `now`'s day in `tz` (DST-correct: days of 23 or 25 hours)."""
    d = datetime.fromtimestamp(now, tz)
    return datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


def is_evictable(state: ContactState, now: float, tz: tzinfo, grace_s: float = 0.0) -> bool:
    """True when the contact is over and every time it contributes is before both windows, so
    dropping it changes no view now or later. Evicting loses dedup and reopen for the contact
    (later events park as unknown_contact): callers choose `grace_s` accordingly."""
    return state.ended and state.last_event < eviction_bound(now, tz, grace_s)


def eviction_bound(now: float, tz: tzinfo, grace_s: float = 0.0) -> float:
    """At `now`, an ended contact whose last event is before this can leave memory (is_evictable).
    Non-decreasing in `now`: once evictable, a contact stays so until its next event."""
    return min(day_start(now, tz), now - LAST_WINDOW_S) - grace_s


def evictable_from(last_event: float, tz: tzinfo, grace_s: float = 0.0) -> float:
    """The earliest `now` at which an ended contact whose last event was at `last_event` is
    evictable: past the last-30-minutes window, and the next local day begun (the "today"
    counters hold it until then)."""
    t = last_event + grace_s
    return max(t + LAST_WINDOW_S, next_day_start(t, tz))


def next_day_start(t: float, tz: tzinfo) -> float:
    """Epoch of the local midnight that begins the day after `t`'s (DST-correct)."""
    global _last_day
    lo, hi, last_tz = _last_day
    if lo <= t < hi and last_tz is tz:  # most calls ask about the same day
        return hi
    d = datetime.fromtimestamp(t, tz)
    start = datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()
    d += timedelta(days=1)
    end = datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()
    _last_day = (start, end, tz)  # one tuple, replaced whole: safe for callers on other threads
    return end


_last_day: tuple = (0.0, 0.0, None)  # [start, end) of the day last asked about, and its zone


# -- partial ----------------------------------------------------------------------------------

class _Acc:
    __slots__ = ("unassigned", "in_progress", "waits", "snoozes", "today", "last", "policy")

    def __init__(self, policy):
        self.unassigned = 0
        self.in_progress = 0
        self.waits: list = []
        self.snoozes: list = []
        self.today = [0] * _NW
        self.last = [0] * _NW
        self.policy = policy


def _windows(s: ContactState, wt: list, wl: list, day0: float, m30: float, now: float,
             threshold: float, short: float, biz) -> None:
    """Add the contact to the "today" (wt, from day0) and "last_30m" (wl, from m30) counters.
    One read of each time for both windows: this is the hot loop of partial()."""
    c = s.created
    if c <= now:
        if c >= day0:
            wt[OFFERED] += 1
        if c >= m30:
            wl[OFFERED] += 1
    email = s.channel == "email"
    fr = s.first_response
    at = fr if email else s.answered
    if at is not None and at <= now and (at >= day0 or at >= m30):
        wait = at - c
        within = sl_wait(s, at, biz) <= threshold  # the queue's SLA clock, pauses excluded
        wait_ms = round(wait * 1000)
        for w, lo in ((wt, day0), (wl, m30)):
            if at >= lo:
                w[ANSWERED] += 1
                if within:
                    w[WITHIN] += 1
                if not email:
                    w[ASA_MS] += wait_ms
                    w[ASA_N] += 1
    ab = s.abandoned
    if ab is not None and ab <= now:
        is_short = ab - c <= short
        for w, lo in ((wt, day0), (wl, m30)):
            if ab >= lo:
                w[ABANDONED] += 1
                if is_short:
                    w[SHORT] += 1
    cl = s.closed
    if cl is not None and s.handle_segments and cl <= now:
        if cl >= day0:
            wt[AHT_MS] += s.handle_ms
            wt[AHT_N] += 1
        if cl >= m30:
            wl[AHT_MS] += s.handle_ms
            wl[AHT_N] += 1
    if fr is not None and fr <= now and (fr >= day0 or fr >= m30):
        fr_ms = round((fr - c) * 1000)
        if fr >= day0:
            wt[FR_MS] += fr_ms
            wt[FR_N] += 1
        if fr >= m30:
            wl[FR_MS] += fr_ms
            wl[FR_N] += 1


def partial(contacts: Iterable[ContactState], agents: Iterable[AgentState], now: float,
            settings: QueueSettings) -> dict:
    """Summary of one partition's contacts and agents at `now` (JSON/orjson-able)."""
    day0 = day_start(now, settings.tz)
    m30 = now - LAST_WINDOW_S
    lo = min(day0, m30)
    accs: dict[tuple[str, str], _Acc] = {}
    agent_open: dict[str, list[int]] = {}
    for_queue = settings.for_queue
    for s in contacts:
        key = (s.queue, s.channel)
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _Acc(for_queue(s.queue, s.channel))
        if not s.ended:
            a = s.assignee
            if a:
                acc.in_progress += 1
                o = agent_open.get(a)
                if o is None:
                    o = agent_open[a] = [0, 0, 0]
                o[_CH_INDEX.get(s.channel, 2)] += 1
            else:
                acc.unassigned += 1
            if s.wait_start is not None:
                acc.waits.append((s.wait_start, s.contact_id))
            elif s.snooze_until is not None:
                acc.snoozes.append((s.snooze_until, s.contact_id))
        if s.last_event < lo:
            continue  # every time of this contact is before both windows
        pol = acc.policy
        _windows(s, acc.today, acc.last, day0, m30, now, pol.threshold_s, pol.short_abandon_s,
                 pol.sl_business_seconds)
    queues = []
    for (q, c), acc in sorted(accs.items()):
        acc.waits.sort()
        acc.snoozes.sort()
        starts = [x[0] for x in acc.waits]
        pol = acc.policy
        breached = _aged(starts, len(starts), now, pol.threshold_s, pol)
        queues.append({
            "queue": q, "channel": c, "unassigned": acc.unassigned, "in_progress": acc.in_progress,
            "breached": breached, "waits": starts[breached:],
            "wait_top": [list(x) for x in acc.waits[:MAX_WAITING_ITEMS]],
            "snoozes": [x[0] for x in acc.snoozes],
            "snooze_top": [list(x) for x in acc.snoozes[:MAX_WAITING_ITEMS]],
            "today": acc.today, "last_30m": acc.last,
        })
    return {
        "now": now,
        "queues": queues,
        "agent_open": agent_open,
        "agents": [[a.agent, a.state, a.reason, a.since, a.capacity] for a in agents],
    }


# -- merge ------------------------------------------------------------------------------------

def wait_age(start: float, now: float, policy: QueuePolicy) -> float:
    """How old, at `now`, a wait that began at `start` is for the queue's service-level clock:
    the one read-time age every live count uses (inside / at risk / breached, oldest wait, each
    item's wait and time to breach). Calendar seconds here; a business-hours clock per queue
    plugs in at this one place. Contract: never negative, and non-increasing in `start` for a
    fixed `now` (an earlier start is never younger), which is what lets `merge` bisect the
    sorted wait starts instead of visiting them."""
    if policy.business:  # issue 14: only the calendar's opening hours count (0 when end <= start)
        return policy.calendar.business_seconds(start, now)
    return max(0.0, now - start)


def _aged(starts: list, hi: int, now: float, bound: float, policy: QueuePolicy) -> int:
    """How many of starts[:hi] (sorted) have wait_age >= bound. Searches on the very predicate
    (monotone in start) instead of on now - bound, so float rounding cannot disagree with it."""
    lo = 0
    while lo < hi:
        mid = (lo + hi) >> 1
        if wait_age(starts[mid], now, policy) >= bound:
            lo = mid + 1
        else:
            hi = mid
    return lo


class _Row:
    __slots__ = ("unassigned", "in_progress", "breached", "oldest", "waits", "snoozes", "tops", "today", "last")

    def __init__(self):
        self.unassigned = 0
        self.in_progress = 0
        self.breached = 0        # waits breached at their partial's `now`
        self.oldest = None       # oldest wait start (the partials' wait_top heads)
        self.waits: list = []    # one sorted list per partial (not yet breached at its `now`)
        self.snoozes: list = []
        self.tops: list = []     # (start, contact) candidates
        self.today = [0] * _NW
        self.last = [0] * _NW


def _mean(ms: int, n: int) -> float | None:
    return ms / n / 1000.0 if n else None


def _window_out(w: list, den: int) -> dict:
    return {
        "offered": w[OFFERED], "answered": w[ANSWERED], "abandoned": w[ABANDONED],
        "short_abandoned": w[SHORT], "answered_within_sl": w[WITHIN],
        "service_level": w[WITHIN] / den if den > 0 else None,
        "asa_s": _mean(w[ASA_MS], w[ASA_N]), "aht_s": _mean(w[AHT_MS], w[AHT_N]),
        "first_response_s": _mean(w[FR_MS], w[FR_N]),
    }


def _den(pol, w: list) -> int:
    return pol.sl_denominator(w[ANSWERED], w[ABANDONED], w[SHORT], w[OFFERED])


def _item(start: float, contact: str, now: float, policy: QueuePolicy) -> dict:
    age = wait_age(start, now, policy)
    if policy.business:  # the breach instant, closed hours skipped (None: the calendar never opens)
        at = policy.calendar.add(start, policy.threshold_s)
        return {"contact": contact, "wait_s": age, "time_to_breach_s": None if at is None else at - now,
                "breach_at": at}
    return {"contact": contact, "wait_s": age, "time_to_breach_s": policy.threshold_s - age}


def merge(partials: list[dict], now: float, settings: QueueSettings) -> dict:
    """The merged live view (shape: docs/internal-interfaces.md) at `now`."""
    rows: dict[tuple[str, str], _Row] = {key: _Row() for key in settings.configured()}
    agent_open: dict[str, list[int]] = {}
    agent_rows: dict[str, list] = {}
    for p in partials:
        for r in p["queues"]:
            key = (r["queue"], r["channel"])
            row = rows.get(key)
            if row is None:
                row = rows[key] = _Row()
            row.unassigned += r["unassigned"]
            row.in_progress += r["in_progress"]
            # waits already breached at the partial's `now` stay breached at any later `now`
            # (wait_age never decreases with time): they come as a count; "breached" is absent
            # from the partials of workers before it, whose "waits" hold every wait start
            row.breached += r.get("breached", 0)
            if r["waits"]:
                row.waits.append(r["waits"])
            if r["wait_top"]:
                row.tops.extend(r["wait_top"])
                t = r["wait_top"][0][0]
                if row.oldest is None or t < row.oldest:
                    row.oldest = t
            if r["snoozes"]:
                row.snoozes.append(r["snoozes"])
                row.tops.extend(x for x in r["snooze_top"] if x[0] <= now)
            for acc, w in ((row.today, r["today"]), (row.last, r["last_30m"])):
                for i in range(_NW):
                    acc[i] += w[i]
        for a, o in p["agent_open"].items():
            t = agent_open.get(a)
            if t is None:
                agent_open[a] = list(o)
            else:
                for i in range(3):
                    t[i] += o[i]
        for a in p["agents"]:
            cur = agent_rows.get(a[0])
            if cur is None or (a[3], a[1], a[2]) > (cur[3], cur[1], cur[2]):
                agent_rows[a[0]] = a  # normally one partition owns an agent; newest wins

    queues_out = []
    by_channel: dict[str, list] = {}
    for (q, c), row in sorted(rows.items()):
        pol = settings.for_queue(q, c)
        waiting = at_risk_plus = breached = row.breached  # at_risk_s <= threshold_s
        oldest = row.oldest
        for starts in row.waits:
            n = len(starts)
            waiting += n
            at_risk_plus += _aged(starts, n, now, pol.at_risk_s, pol)
            breached += _aged(starts, n, now, pol.threshold_s, pol)
            if oldest is None or starts[0] < oldest:
                oldest = starts[0]
        for ends in row.snoozes:
            n = bisect_right(ends, now)  # snoozes over at `now` wait since their end
            if n:
                waiting += n
                at_risk_plus += _aged(ends, n, now, pol.at_risk_s, pol)
                breached += _aged(ends, n, now, pol.threshold_s, pol)
                if oldest is None or ends[0] < oldest:
                    oldest = ends[0]
        tops = heapq.nsmallest(MAX_WAITING_ITEMS, ((x[0], x[1]) for x in row.tops))
        thr = pol.threshold_s
        den_today, den_last = _den(pol, row.today), _den(pol, row.last)
        agg = {
            "waiting": waiting, "inside_sl": waiting - at_risk_plus, "at_risk": at_risk_plus - breached,
            "breached": breached, "oldest_wait_s": None if oldest is None else wait_age(oldest, now, pol),
            "unassigned": row.unassigned, "in_progress": row.in_progress,
            "waiting_items": [_item(st, cid, now, pol) for st, cid in tops],
            "today": _window_out(row.today, den_today), "last_30m": _window_out(row.last, den_last),
        }
        clock = {}
        if pol.business:  # issue 14; calendar-clock rows keep their shape
            clock = {"clock": "business", "clock_resumes_at":
                     None if pol.calendar.is_open(now) else pol.calendar.next_open(now)}
        queues_out.append({"queue": q, "channel": c, "threshold_s": thr,
                           "at_risk_fraction": pol.at_risk_fraction, **clock, **agg})
        by_channel.setdefault(c, []).append((row, agg, [(st, cid, pol) for st, cid in tops],
                                             den_today, den_last))

    channels_out = [{"channel": c, **_aggregate(by_channel[c], now)}
                    for c in sorted(by_channel, key=lambda c: (CHANNEL_ORDER.get(c, 9), c))]
    total = _aggregate([x for c in by_channel for x in by_channel[c]], now)

    agents_out = []
    counts = dict.fromkeys(AGENT_STATES, 0)
    for name in sorted(set(agent_rows) | set(agent_open)):
        o = agent_open.get(name, [0, 0, 0])
        open_ = {"voice": o[0], "chat": o[1], "email": o[2]}
        a = agent_rows.get(name)
        if a is None:
            state, reason, since, cap = "unknown", "", None, {}
        else:
            _, state, reason, since, cap = a
            counts[state] = counts.get(state, 0) + 1
        capacity = {"voice": 0, "chat": 0, "email": 0}
        capacity.update(cap)
        total_cap = sum(capacity.values())
        agents_out.append({
            "agent": name, "state": state, "reason": reason, "since": since,
            "time_in_state_s": None if since is None else max(0.0, now - since),
            "open": open_, "capacity": capacity,
            "load": sum(o) / total_cap if total_cap > 0 else None,
        })
    return {
        "generated_at": now,
        "site_tz": settings.site_tz,
        "queues": queues_out,
        "channels": channels_out,
        "total": total,
        "agents": agents_out,
        "agent_states": counts,
    }


def _aggregate(parts: list, now: float) -> dict:
    today = [0] * _NW
    last = [0] * _NW
    den_t = den_l = 0
    out = {"waiting": 0, "inside_sl": 0, "at_risk": 0, "breached": 0, "oldest_wait_s": None,
           "unassigned": 0, "in_progress": 0}
    items = []
    for row, agg, tops, dt, dl in parts:
        for k in ("waiting", "inside_sl", "at_risk", "breached", "unassigned", "in_progress"):
            out[k] += agg[k]
        ow = agg["oldest_wait_s"]
        if ow is not None and (out["oldest_wait_s"] is None or ow > out["oldest_wait_s"]):
            out["oldest_wait_s"] = ow
        items.extend(tops)
        for i in range(_NW):
            today[i] += row.today[i]
            last[i] += row.last[i]
        den_t += dt
        den_l += dl
    items = heapq.nsmallest(MAX_WAITING_ITEMS, items, key=lambda x: (x[0], x[1]))
    out["waiting_items"] = [_item(st, cid, now, pol) for st, cid, pol in items]
    out["today"] = _window_out(today, den_t)
    out["last_30m"] = _window_out(last, den_l)
    return out
