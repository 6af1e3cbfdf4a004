"""Erlang C (M/M/n) and Erlang A (M/M/n+M) staffing. Pure, numerically stable for thousands of agents.

Inputs: ``volume`` contacts per ``interval_s`` seconds, average handle time ``aht_s``; Erlang A adds
the mean patience ``patience_s`` (exponential: callers hang up at rate theta = 1 / patience).
Offered load a = volume / interval_s * aht_s (Erlangs).

Definitions (what ``evaluate`` returns):
- ``p_wait``: probability an arriving contact waits (finds every agent busy);
- ``service_level``: share of OFFERED contacts answered within ``target_answer_s``. In Erlang A an
  abandoned contact counts as a miss (Tablero's SL with a short-abandon time of 0);
- ``asa_s``: mean wait of answered contacts (average speed of answer);
- ``mean_wait_s``: mean wait over all offered contacts (answered and abandoned);
- ``p_abandon``: share of offered contacts that abandon (0 in Erlang C);
- ``occupancy``: carried load / agents = a * (1 - p_abandon) / n.

Numerics: Erlang B by its recursion B(k) = a B(k-1) / (k + a B(k-1)) (every term in [0, 1], no
factorials), Erlang C from B. Erlang A follows Mandelbaum & Zeltyn ("The M/M/n+G queue: summary of
performance measures"): with x = n mu / theta and y = lambda / theta, the queue-length weights
r_k = prod_{i<=k} y / (x + i) are summed in log space until they vanish, A = sum r_k,
P(wait) = A E / (1 + (A - 1) E) with E = Erlang B(n, a), P(abandon | wait) = 1 - 1/rho + 1/(rho A).
A caller who finds k others queued is answered with probability x / (x + k + 1); the probability of
being answered within T is the absorption probability of that caller's pure-death chain at time T,
computed by uniformization (a Poisson mixture of matrix-free steps, truncated below 1e-13).

Staff: agents needed = max(agents for the target, ceil(a / max_occupancy)); chat agents = servers /
concurrency (rounded up); staff = ceil(agents / (1 - shrinkage)).
"""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np

from pipeline.schemas.param_error import ParamError

_EPS = 1e-9
MAX_AGENTS = 100_000
_MAX_QUEUE_STATES = 2_000_000
_TAIL = 1e-13
_MAX_STEPS = 200_000
_MAX_WORK = 100_000_000  # uniformization steps x queue positions (~1 s): bounds a request's CPU time
MAX_TARGET_S = 86_400.0
# Times a centre can mean (1 ms .. 31 days): beyond them the rates under- or overflow floats
# (a patience of 5e-324 s is an infinite abandon rate), and the search can run for minutes.
MIN_DURATION_S = 0.001
MAX_DURATION_S = 31 * 86_400.0
MAX_PATIENCE_S = 1e9  # ~32 years: Erlang A has become Erlang C long before
_MIN_LOG_ARG = 1e-300  # a load so small that log(0) would come up: no queue forms either way


class ErlangError(ParamError):
    """A bad planning input: ``param`` names it, ``reason`` says why and what to do."""


@dataclass(frozen=True)
class Staffing:
    model: str
    volume: float
    interval_s: float
    aht_s: float
    load_erlangs: float
    agents: int            # agents on the phones (chat: agents, each taking `concurrency` chats)
    staff: int             # agents / (1 - shrinkage), rounded up: people to schedule
    service_level: float
    p_wait: float
    asa_s: float
    mean_wait_s: float
    p_abandon: float
    occupancy: float
    target_answer_s: float
    target_sl: float | None
    patience_s: float | None
    shrinkage: float
    max_occupancy: float
    concurrency: int

    def as_dict(self) -> dict:
        return asdict(self)


# --- Erlang B / C ----------------------------------------------------------------------------------

def erlang_b(n: int, a: float) -> float:
    """Blocking probability of M/M/n/n with offered load ``a``, by the stable recursion."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(n: int, a: float) -> float:
    """Probability of waiting in M/M/n (1 when n <= a: the queue grows without bound)."""
    if n <= a:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


def _c_metrics(n: int, a: float, aht_s: float, t: float) -> tuple[float, float, float]:
    """(p_wait, service_level, asa_s) of Erlang C."""
    if n <= a:
        return 1.0, 0.0, math.inf
    c = erlang_c(n, a)
    sl = 1.0 - c * math.exp(-(n - a) * t / aht_s)
    asa = c * aht_s / (n - a)
    return c, sl, asa


# --- Erlang A ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _AState:
    p_wait: float
    p_abandon: float
    asa_s: float
    mean_wait_s: float
    q: np.ndarray        # q[k]: probability an arrival finds all agents busy and k others queued


def _erlang_a_state(n: int, lam: float, mu: float, theta: float) -> _AState:
    a = lam / mu
    e = erlang_b(n, a)
    x, y = n * mu / theta, max(lam / theta, _MIN_LOG_ARG)
    # log r_k = sum_{i=1..k} log(y / (x + i)); terms grow while x + i < y, then shrink.
    if y - x > _MAX_QUEUE_STATES:
        raise ErlangError("agents", "far too few agents for this load: the queue settles beyond 2 million "
                                    "waiting callers; add agents or check the patience")
    k_peak = max(0, math.ceil(y - x))
    chunk = max(1024, 2 * k_peak + 1024)
    logs: list[np.ndarray] = []
    last = 0.0
    start = 1
    top = 0.0
    while True:
        i = np.arange(start, start + chunk, dtype=float)
        part = last + np.cumsum(math.log(y) - np.log(x + i))
        logs.append(part)
        top = max(top, float(part.max()))
        last = float(part[-1])
        start += chunk
        if start - 1 > k_peak and last < top - 745:   # exp(-745) underflows: nothing left to add
            break
        if start > _MAX_QUEUE_STATES:
            raise ErlangError("patience_s", "the queue does not settle within 2 million waiting callers; "
                                            "use a shorter patience or more agents")
    log_r = np.concatenate([[0.0], *logs])
    top = max(top, 0.0)
    r_scaled = np.exp(log_r - top)                   # r_k / e^top
    keep = r_scaled > _TAIL * r_scaled.max() * 1e-3
    k_max = int(np.nonzero(keep)[0][-1]) + 1
    r_scaled = r_scaled[:k_max]
    a_scaled = float(r_scaled.sum())                 # A / e^top
    # P(wait) = A E / (1 + (A - 1) E) = A' E / (e^-top (1 - E) + A' E)
    denom = math.exp(-top) * (1.0 - e) + a_scaled * e
    p_wait = a_scaled * e / denom
    q = r_scaled * e / denom                         # pi_{n+k}
    rho = lam / (n * mu)
    a_full = a_scaled * math.exp(top) if top < 700 else math.inf
    p_ab_given_wait = 1.0 - 1.0 / rho + (1.0 / (rho * a_full) if a_full != math.inf else 0.0)
    p_ab_given_wait = min(max(p_ab_given_wait, 0.0), 1.0)
    p_abandon = p_wait * p_ab_given_wait
    k = np.arange(k_max, dtype=float)
    p_served_k = x / (x + k + 1.0)
    # mean time in queue of a caller finding k queued, given answered: sum_{m=0..k} 1/(n mu + (m+1) theta)
    phase = np.cumsum(1.0 / (n * mu + (k + 1.0) * theta))
    served_wait = float((q * p_served_k * phase).sum())
    p_served = 1.0 - p_abandon
    asa = served_wait / p_served if p_served > 0 else math.inf
    return _AState(p_wait=p_wait, p_abandon=p_abandon, asa_s=asa, mean_wait_s=p_abandon / theta, q=q)


def _answered_within(q: np.ndarray, n: int, mu: float, theta: float, t: float) -> float:
    """P(a caller waits, and is answered within t): sum_k q[k] P(answered by t | k queued ahead).
    Pure-death chain per position m (0 = first in line): leaves at n mu + m theta (moves up; from 0:
    answered) and at theta (hangs up). Uniformization at rate L = n mu + K theta."""
    if t <= 0 or q.size == 0:
        return 0.0
    size = q.size
    m = np.arange(size, dtype=float)
    lam_u = n * mu + size * theta
    up = (n * mu + m * theta) / lam_u
    stay = 1.0 - up - theta / lam_u
    lt = lam_u * t
    # the Poisson(lt) steps that matter: P(N > steps) is below 1e-30, so the loop ends there even
    # when the summed cdf, rounded, never gets within _TAIL of 1 (hypothesis found lt = 178.7 with a
    # queue that barely drains looping to _MAX_STEPS over 278,440 positions: minutes of CPU)
    steps = math.ceil(lt + 12.0 * math.sqrt(lt) + 20.0)
    if steps * size > _MAX_WORK:
        raise ErlangError("target_answer_s", f"too long for this load in Erlang A ({size:,} queue positions "
                                             f"over ~{lt:,.0f} steps); use a shorter target, more agents or Erlang C")
    log_lt = math.log(lt)
    p = q.copy()
    answered = 0.0
    cdf = 0.0                                   # P(N <= step - 1), N ~ Poisson(lt)
    log_pmf = -lt                               # log P(N = step - 1)
    if steps > _MAX_STEPS:
        raise ErlangError("target_answer_s", "too long for this load in Erlang A (more than "
                                             f"{_MAX_STEPS} steps); use a shorter target or Erlang C")
    for step in range(1, steps + 1):
        cdf += math.exp(log_pmf)
        log_pmf += log_lt - math.log(step)
        tail_ge = min(max(1.0 - cdf, 0.0), 1.0)  # P(N >= step)
        if tail_ge < _TAIL:
            break
        gain = p[0] * up[0]                     # answered at this jump
        answered += tail_ge * gain
        moved = p * up
        p = p * stay
        p[:-1] += moved[1:]
        if p.sum() < _TAIL:
            break
    return float(answered)


# --- public API -------------------------------------------------------------------------------------

def _check(volume: float, interval_s: float, aht_s: float, target_answer_s: float,
           patience_s: float | None, shrinkage: float, max_occupancy: float, concurrency: int) -> None:
    if not (volume >= 0 and math.isfinite(volume)):
        raise ErlangError("volume", f"must be a finite number >= 0, got {volume!r}")
    if not (1.0 <= interval_s <= MAX_DURATION_S):
        raise ErlangError("interval_s", f"must be from 1 to {MAX_DURATION_S:.0f} seconds, got {interval_s!r}")
    if not (MIN_DURATION_S <= aht_s <= MAX_DURATION_S):
        raise ErlangError("aht_s", f"must be from {MIN_DURATION_S} to {MAX_DURATION_S:.0f} seconds, got {aht_s!r}")
    if not (0 <= target_answer_s <= MAX_TARGET_S):
        raise ErlangError("target_answer_s", f"must be from 0 to {MAX_TARGET_S:.0f} seconds, got {target_answer_s!r}")
    if volume / interval_s * aht_s > MAX_AGENTS:
        raise ErlangError("volume", f"the load ({volume / interval_s * aht_s:.3g} Erlangs) needs more than "
                                    f"{MAX_AGENTS} agents; split the queue or check the units")
    if patience_s is not None and not (MIN_DURATION_S <= patience_s <= MAX_PATIENCE_S):
        raise ErlangError("patience_s", f"must be from {MIN_DURATION_S} to {MAX_PATIENCE_S:.0f} seconds "
                                        f"(or omitted for Erlang C), got {patience_s!r}")
    if not (0 <= shrinkage < 1):
        raise ErlangError("shrinkage", f"must be in [0, 1): the share of paid time not on contacts, got {shrinkage!r}")
    if not (0 < max_occupancy <= 1):
        raise ErlangError("max_occupancy", f"must be in (0, 1], got {max_occupancy!r}")
    if not (isinstance(concurrency, int) and 1 <= concurrency <= 50):
        raise ErlangError("concurrency", f"must be an integer from 1 to 50, got {concurrency!r}")


def _servers_metrics(servers: int, a: float, lam: float, aht_s: float, t: float,
                     patience_s: float | None) -> dict:
    if servers < 1:
        raise ErlangError("agents", "must be >= 1")
    if a < _EPS:  # below a billionth of an Erlang nothing queues (and smaller loads underflow)
        return dict(service_level=1.0, p_wait=0.0, asa_s=0.0, mean_wait_s=0.0, p_abandon=0.0, occupancy=0.0)
    if patience_s is None:
        p_wait, sl, asa = _c_metrics(servers, a, aht_s, t)
        # every caller is answered in Erlang C: the mean wait of answered callers is the mean wait
        return dict(service_level=sl, p_wait=p_wait, asa_s=asa, mean_wait_s=asa,
                    p_abandon=0.0, occupancy=min(a / servers, 1.0))
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    st = _erlang_a_state(servers, lam, mu, theta)
    sl = (1.0 - st.p_wait) + _answered_within(st.q, servers, mu, theta, t)
    return dict(service_level=min(sl, 1.0), p_wait=st.p_wait, asa_s=st.asa_s, mean_wait_s=st.mean_wait_s,
                p_abandon=st.p_abandon, occupancy=min(a * (1.0 - st.p_abandon) / servers, 1.0))


def _evaluate(volume: float, interval_s: float, aht_s: float, agents: int, *, target_answer_s: float = 20.0,
              patience_s: float | None = None, shrinkage: float = 0.0, max_occupancy: float = 1.0,
              concurrency: int = 1, target_sl: float | None = None) -> Staffing:
    """Service of a given number of ``agents`` (model A when ``patience_s`` is given, else C)."""
    _check(volume, interval_s, aht_s, target_answer_s, patience_s, shrinkage, max_occupancy, concurrency)
    if not isinstance(agents, int) or not (1 <= agents <= MAX_AGENTS):
        raise ErlangError("agents", f"must be an integer from 1 to {MAX_AGENTS}, got {agents!r}")
    lam = volume / interval_s
    a = lam * aht_s
    m = _servers_metrics(agents * concurrency, a, lam, aht_s, target_answer_s, patience_s)
    return _result(volume, interval_s, aht_s, a, agents, shrinkage, m, target_answer_s, target_sl,
                   patience_s, max_occupancy, concurrency)


def _solve(volume: float, interval_s: float, aht_s: float, *, target_answer_s: float = 20.0,
           target_sl: float = 0.8, patience_s: float | None = None, shrinkage: float = 0.0,
           max_occupancy: float = 1.0, concurrency: int = 1) -> Staffing:
    """Fewest agents whose service level reaches ``target_sl`` (and whose occupancy stays at or
    below ``max_occupancy``), and the staff that needs after ``shrinkage``."""
    _check(volume, interval_s, aht_s, target_answer_s, patience_s, shrinkage, max_occupancy, concurrency)
    if not (0 < target_sl < 1):
        raise ErlangError("target_sl", f"must be in (0, 1), e.g. 0.8 for 80 %, got {target_sl!r}")
    lam = volume / interval_s
    a = lam * aht_s
    if a < _EPS:  # below a billionth of an Erlang nothing queues (and smaller loads underflow)
        m = _servers_metrics(1, 0.0, 0.0, aht_s, target_answer_s, patience_s)
        return _result(volume, interval_s, aht_s, a, 0, shrinkage, m, target_answer_s, target_sl, patience_s,
                       max_occupancy, concurrency)
    if patience_s is None:
        servers = _solve_c(a, aht_s, target_answer_s, target_sl)
    else:
        servers = _solve_a(a, lam, aht_s, target_answer_s, target_sl, patience_s)
    busy_cap = a / max_occupancy  # the servers that keep occupancy under the cap
    if busy_cap > MAX_AGENTS * concurrency:
        raise ErlangError("max_occupancy", f"{max_occupancy!r} needs more than {MAX_AGENTS} agents for this load "
                                           f"({a:.3g} Erlangs); use a higher cap")
    servers = max(servers, math.ceil(busy_cap - _EPS))
    agents = max(1, math.ceil(servers / concurrency - _EPS))
    if agents > MAX_AGENTS:
        raise ErlangError("volume", f"needs more than {MAX_AGENTS} agents; split the queue or check the units")
    m = _servers_metrics(agents * concurrency, a, lam, aht_s, target_answer_s, patience_s)
    return _result(volume, interval_s, aht_s, a, agents, shrinkage, m, target_answer_s, target_sl, patience_s,
                   max_occupancy, concurrency)


def _solve_c(a: float, aht_s: float, t: float, target: float) -> int:
    n = max(1, math.floor(a) + 1)
    b = erlang_b(n, a)
    while True:
        c = n * b / (n - a * (1.0 - b))
        if 1.0 - c * math.exp(-(n - a) * t / aht_s) >= target - _EPS:
            return n
        n += 1
        if n > MAX_AGENTS:
            raise ErlangError("volume", f"needs more than {MAX_AGENTS} agents; split the queue or check the units")
        b = a * b / (n + a * b)


def _solve_a(a: float, lam: float, aht_s: float, t: float, target: float, patience_s: float) -> int:
    def ok(n: int) -> bool:
        try:
            return _servers_metrics(n, a, lam, aht_s, t, patience_s)["service_level"] >= target - _EPS
        except ErlangError:                     # far too few agents: the queue does not settle
            return False

    hi = _solve_c(a, aht_s, t, target)
    while not ok(hi):
        hi *= 2
        if hi > MAX_AGENTS:
            raise ErlangError("target_sl", f"not reachable with {MAX_AGENTS} agents")
    lo = 0                                      # ok(lo) is False (0 agents answer nobody)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _result(volume, interval_s, aht_s, a, agents, shrinkage, m, t, target_sl, patience_s,
            max_occupancy, concurrency) -> Staffing:
    staff = math.ceil(agents / (1.0 - shrinkage) - _EPS) if agents else 0
    return Staffing(model="c" if patience_s is None else "a", volume=volume, interval_s=interval_s, aht_s=aht_s,
                    load_erlangs=a, agents=agents, staff=staff, target_answer_s=t, target_sl=target_sl,
                    patience_s=patience_s, shrinkage=shrinkage, max_occupancy=max_occupancy,
                    concurrency=concurrency, **m)


def estimate_patience(abandoned: int, total_wait_s: float) -> float | None:
    """Mean patience (s) of an exponential model fitted to censored waits: the maximum-likelihood
    rate is abandoned / (total time waited by answered AND abandoned callers), since an answered
    caller's wait is a lower bound of their patience. None when nobody abandoned (no evidence of
    impatience: use Erlang C)."""
    if abandoned < 0 or total_wait_s < 0:
        raise ErlangError("abandoned", "counts and waiting times must be >= 0")
    if abandoned == 0:
        return None
    if total_wait_s == 0:
        raise ErlangError("total_wait_s", "abandoned callers but no waiting time recorded; check the waits")
    # kept inside what evaluate() accepts: odd history (abandons after no wait) must not fail a plan
    return min(max(total_wait_s / abandoned, MIN_DURATION_S), MAX_PATIENCE_S)


def _numeric_guard(fn):
    """Inputs inside the checked ranges whose combination still under- or overflows floats give a
    named 400-style error, never a bare arithmetic exception (the API fuzzer's finds)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ErlangError:  # a ValueError too: already names its field
            raise
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            raise ErlangError("volume", f"this combination of inputs is outside what the model computes "
                                        f"({type(exc).__name__}: {exc}); check the units") from exc
    return wrapper


evaluate = _numeric_guard(_evaluate)
solve = _numeric_guard(_solve)
