"""Erlang C and A: the published anchor, and every Erlang A measure against an independent exact
computation written here (the full birth-death chain solved as a linear system, and the tagged
caller's position chain integrated with Runge-Kutta), not against another library."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from pipeline.planning import erlang


# --- the anchor: callcentrehelper.com, "Erlang C formula made simple" -------------------------------

def test_callcentrehelper_worked_example():
    r = erlang.solve(100, 1800, 180, target_answer_s=20, target_sl=0.8, shrinkage=0.3)
    assert r.load_erlangs == pytest.approx(10.0)
    assert r.agents == 14
    assert r.service_level == pytest.approx(0.888, abs=0.0005)
    assert r.p_wait == pytest.approx(0.174, abs=0.0005)
    assert r.asa_s == pytest.approx(7.8, abs=0.05)
    assert r.occupancy == pytest.approx(0.714, abs=0.0005)
    assert r.staff == 20
    # 13 agents miss the target: 14 is the fewest
    assert erlang.evaluate(100, 1800, 180, 13, target_answer_s=20).service_level < 0.8


def test_max_occupancy_and_concurrency_turn_servers_into_agents():
    # occupancy would be 10/14 = 71 %; a 70 % ceiling needs ceil(10 / 0.7) = 15 agents
    assert erlang.solve(100, 1800, 180, target_sl=0.8, max_occupancy=0.7).agents == 15
    # chat, 3 at once: 14 servers -> 5 agents, evaluated as 15 servers
    chat = erlang.solve(100, 1800, 180, target_sl=0.8, concurrency=3)
    assert chat.agents == 5
    assert chat.service_level == pytest.approx(erlang.evaluate(100, 1800, 180, 15).service_level)


def test_zero_volume_needs_nobody_and_bad_inputs_name_the_field():
    assert erlang.solve(0, 900, 180).agents == 0
    with pytest.raises(erlang.ErlangError) as e:
        erlang.solve(10, 900, 0)
    assert e.value.param == "aht_s"
    with pytest.raises(erlang.ErlangError) as e:
        erlang.solve(10, 900, 100, target_sl=1.0)
    assert e.value.param == "target_sl"
    with pytest.raises(erlang.ErlangError) as e:
        erlang.solve(10, 900, 100, shrinkage=1.0)
    assert e.value.param == "shrinkage"


@pytest.mark.parametrize("kwargs, param", [
    # found by the API fuzzer (schemathesis): a subnormal patience is an infinite abandon rate
    (dict(volume=0.2, interval_s=0.2, aht_s=20, patience_s=5e-324), "interval_s"),
    (dict(volume=0.2, interval_s=900, aht_s=20, patience_s=5e-324), "patience_s"),
    (dict(volume=0.2, interval_s=900, aht_s=1e-300, patience_s=60), "aht_s"),
    (dict(volume=0.2, interval_s=1e300, aht_s=20, patience_s=60), "interval_s"),
    (dict(volume=1, interval_s=900, aht_s=20, patience_s=1e12), "patience_s"),
    # a queue of ~100,000 positions over ~100,000 steps: minutes of CPU, refused up front
    (dict(volume=1e5, interval_s=1, aht_s=0.001, patience_s=1), "target_answer_s"),
])
def test_inputs_outside_what_a_centre_means_name_the_field(kwargs, param):
    with pytest.raises(erlang.ErlangError) as e:
        erlang.evaluate(agents=3, target_sl=0.8, **kwargs)
    assert e.value.param == param


@hsettings(max_examples=40, deadline=None)
@given(volume=st.floats(0, 1e4, allow_subnormal=True), interval_s=st.floats(1, 31 * 86400),
       aht_s=st.floats(0.001, 31 * 86400), patience_s=st.none() | st.floats(0.001, 1e9),
       agents=st.none() | st.integers(1, 60), target_answer_s=st.floats(0, 86400),
       target_sl=st.floats(0.0, 1.0, exclude_min=True, exclude_max=True, allow_subnormal=True),
       shrinkage=st.floats(0.0, 1.0, exclude_max=True, allow_subnormal=True),
       max_occupancy=st.floats(0.0, 1.0, exclude_min=True, allow_subnormal=True), concurrency=st.integers(1, 50))
def test_any_input_in_range_gives_numbers_or_a_named_error(volume, interval_s, aht_s, patience_s, agents,
                                                           target_answer_s, target_sl, shrinkage, max_occupancy,
                                                           concurrency):
    """Never a bare Python error or a NaN (the API fuzzer found both as 500s: patience 5e-324,
    max_occupancy 5e-324); tiny loads (down to subnormal volumes) are no load."""
    kw = dict(patience_s=patience_s, target_answer_s=target_answer_s, target_sl=target_sl, shrinkage=shrinkage,
              max_occupancy=max_occupancy, concurrency=concurrency)
    try:
        if agents is None:
            r = erlang.solve(volume, interval_s, aht_s, **kw)
        else:
            r = erlang.evaluate(volume, interval_s, aht_s, agents, **kw)
    except erlang.ErlangError as e:
        assert e.param in ("volume", "target_answer_s", "target_sl", "agents", "patience_s", "max_occupancy"), e
        return
    assert not any(isinstance(v, float) and math.isnan(v) for v in r.as_dict().values()), r
    assert 0.0 <= r.service_level <= 1.0 and 0.0 <= r.p_abandon <= 1.0 and r.staff >= r.agents >= 0


def test_patience_estimated_from_odd_history_stays_usable():
    assert erlang.estimate_patience(3, 0.0003) == erlang.MIN_DURATION_S  # abandons after no wait
    assert erlang.estimate_patience(1, 1e12) == erlang.MAX_PATIENCE_S


def test_overloaded_erlang_c_answers_nobody_in_time():
    r = erlang.evaluate(100, 1800, 180, 10)
    assert r.p_wait == 1.0 and r.service_level == 0.0 and r.asa_s == math.inf


def test_patience_estimate_is_abandoned_over_all_waiting_time():
    # 3 abandoned; served callers waited 10+20 s, abandoned ones 30+40+50 s
    assert erlang.estimate_patience(3, 10 + 20 + 30 + 40 + 50) == pytest.approx(50.0)
    assert erlang.estimate_patience(0, 100.0) is None


# --- independent exact computation -----------------------------------------------------------------

def _chain(n: int, lam: float, mu: float, theta: float, size: int) -> np.ndarray:
    """Stationary distribution of the M/M/n+M birth-death chain on 0..size-1, by solving pi Q = 0."""
    q = np.zeros((size, size))
    for j in range(size):
        if j + 1 < size:
            q[j, j + 1] = lam
        if j > 0:
            q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * theta
        q[j, j] = -q[j].sum()
    a = np.vstack([q.T, np.ones(size)])
    b = np.zeros(size + 1)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _tagged(qk: np.ndarray, n: int, mu: float, theta: float, t_end: float, dt: float):
    """Integrate the waiting caller's position chain (RK4). Returns (times, answered(t), abandoned(t))."""
    size = qk.size
    m = np.arange(size)
    up = n * mu + m * theta

    def deriv(state):
        p = state[:size]
        d = -(up + theta) * p
        d[:-1] += up[1:] * p[1:]
        return np.concatenate([d, [up[0] * p[0], theta * p.sum()]])

    state = np.concatenate([qk, [0.0, 0.0]])
    steps = int(round(t_end / dt))
    answered = np.empty(steps + 1)
    abandoned = np.empty(steps + 1)
    answered[0] = abandoned[0] = 0.0
    for i in range(steps):
        k1 = deriv(state)
        k2 = deriv(state + dt / 2 * k1)
        k3 = deriv(state + dt / 2 * k2)
        k4 = deriv(state + dt * k3)
        state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        answered[i + 1], abandoned[i + 1] = state[size], state[size + 1]
    return np.arange(steps + 1) * dt, answered, abandoned


@pytest.mark.parametrize("agents,volume,patience", [(4, 30, 90.0), (3, 40, 300.0), (6, 50, 30.0)])
def test_erlang_a_matches_the_exact_birth_death_chain(agents, volume, patience):
    interval, aht, t = 1800.0, 180.0, 20.0
    lam, mu, theta = volume / interval, 1 / aht, 1 / patience
    size = agents + 150
    pi = _chain(agents, lam, mu, theta, size)
    p_wait = pi[agents:].sum()
    qk = pi[agents:]                                   # an arrival finds k = j - n queued
    qk = qk.clip(0)
    queue_mean = float(((np.arange(size) - agents).clip(0) * pi).sum())
    mean_wait = queue_mean / lam                       # Little over all offered callers
    times, answered, abandoned = _tagged(qk, agents, mu, theta, t_end=2500.0, dt=0.2)
    within = answered[int(round(t / 0.2))]
    p_served_waiting = answered[-1]
    # E[W 1{answered}] = integral of (P(answered eventually) - P(answered by s)) ds
    served_wait = float(np.trapezoid(p_served_waiting - answered, times))

    r = erlang.evaluate(volume, interval, aht, agents, target_answer_s=t, patience_s=patience)
    assert r.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert r.p_abandon == pytest.approx(theta * queue_mean / lam, rel=1e-9)
    assert r.p_abandon == pytest.approx(abandoned[-1], rel=1e-6)
    assert r.mean_wait_s == pytest.approx(mean_wait, rel=1e-9)
    assert r.p_abandon == pytest.approx(theta * r.mean_wait_s, rel=1e-12)   # P(ab) = theta E[W]
    assert r.service_level == pytest.approx((1 - p_wait) + within, abs=1e-7)
    assert r.asa_s == pytest.approx(served_wait / (1 - r.p_abandon), rel=1e-5)
    assert r.occupancy == pytest.approx(lam * aht * (1 - r.p_abandon) / agents, rel=1e-12)


def test_erlang_c_matches_the_chain_without_abandonment():
    n, volume, interval, aht = 14, 100.0, 1800.0, 180.0
    lam, mu = volume / interval, 1 / aht
    pi = _chain(n, lam, mu, 0.0, n + 600)
    queue_mean = float(((np.arange(pi.size) - n).clip(0) * pi).sum())
    r = erlang.evaluate(volume, interval, aht, n)
    assert r.p_wait == pytest.approx(pi[n:].sum(), rel=1e-6)
    assert r.asa_s == pytest.approx(queue_mean / lam, rel=1e-6)


def test_erlang_a_converges_to_erlang_c_as_patience_grows():
    c = erlang.evaluate(100, 1800, 180, 14, target_answer_s=20)
    gaps = []
    for patience in (1e4, 1e6, 1e8):
        a = erlang.evaluate(100, 1800, 180, 14, target_answer_s=20, patience_s=patience)
        gaps.append(abs(a.service_level - c.service_level) + abs(a.asa_s - c.asa_s) + abs(a.p_wait - c.p_wait))
        assert a.p_abandon < 1.0
    # first order in theta = 1 / patience: each hundredfold patience cuts the gap a hundredfold
    assert gaps[0] > 50 * gaps[1] > 2500 * gaps[2]
    assert gaps[2] < 1e-4
    solved = erlang.solve(100, 1800, 180, target_sl=0.8, patience_s=1e8)
    assert solved.agents == 14


# --- large centres ----------------------------------------------------------------------------------

def _erlang_b_logspace(n: int, a: float) -> float:
    log_terms = np.array([k * math.log(a) - math.lgamma(k + 1) for k in range(n + 1)])
    top = log_terms.max()
    return math.exp(log_terms[-1] - top - math.log(np.exp(log_terms - top).sum()))


def test_stable_at_two_thousand_agents():
    # 20,000 calls per 30 minutes at 180 s: 2,000 Erlangs
    c = erlang.solve(20_000, 1800, 180, target_answer_s=20, target_sl=0.8)
    assert 2000 < c.agents < 2100
    assert 0.8 <= c.service_level < 0.9
    assert erlang.evaluate(20_000, 1800, 180, c.agents - 1).service_level < 0.8
    assert erlang.erlang_b(c.agents, 2000.0) == pytest.approx(_erlang_b_logspace(c.agents, 2000.0), rel=1e-9)
    a = erlang.solve(20_000, 1800, 180, target_answer_s=20, target_sl=0.8, patience_s=120)
    assert 1900 < a.agents <= c.agents + 1
    for value in (a.service_level, a.p_wait, a.asa_s, a.p_abandon, a.occupancy):
        assert math.isfinite(value) and value >= 0
    assert a.service_level >= 0.8
    below = erlang.evaluate(20_000, 1800, 180, a.agents - 1, patience_s=120)
    assert below.service_level < 0.8 or a.agents == math.ceil(2000.0)   # max occupancy 1 floor
    assert a.p_abandon == pytest.approx(a.mean_wait_s / 120, rel=1e-12)
    # overloaded with abandonment still settles (queue bounded by impatience)
    over = erlang.evaluate(20_000, 1800, 180, 1800, patience_s=120)
    assert 0.09 < over.p_abandon < 0.2 and over.occupancy <= 1.0


def test_chat_concurrency_is_a_queue_setting():
    from pipeline.live.queue_settings import QueueSettings

    qs = QueueSettings.from_toml('[channels.chat]\nconcurrency = 2\n[queues.sales-chat]\nchannel = "chat"\n'
                                 'concurrency = 3\n')
    assert qs.concurrency("sales-chat", "chat") == 3
    assert qs.concurrency("other", "chat") == 2
    assert qs.concurrency("other", "voice") == 1
    assert erlang.solve(100, 1800, 180, concurrency=qs.concurrency("sales-chat", "chat")).agents == 5
