"""Live view: property test against a brute-force recomputation, aging, day rollover (DST)."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import orjson
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pipeline.live.contact_state import ParkingLot, apply_agent, apply_parked
from pipeline.live.live_view import day_start, is_evictable, merge, partial
from pipeline.live.queue_settings import QueueSettings
from pipeline.schemas.event import Event

SETTINGS = QueueSettings.from_dict({
    "site_tz": "Europe/Madrid",
    "queues": {
        "billing": {"channel": "voice", "threshold_s": 20},
        "sales": {"channel": "voice", "threshold_s": 30, "sl_formula": "answered_and_abandons",
                  "short_abandon_s": 10},
        "support-chat": {"channel": "chat", "threshold_s": 60, "at_risk_fraction": 0.5},
        "support-email": {"channel": "email", "threshold_s": 3600, "sl_formula": "offered"},
    },
})
QUEUES = {"voice": ["billing", "sales"], "chat": ["support-chat", "spare"],
          "email": ["support-email", "spare"]}
AGENTS = ["a1", "a2", "a3"]
# 2026-03-28 23:00 Madrid, the evening before the spring DST change: windows cross midnight
T0 = datetime(2026, 3, 28, 22, 0, tzinfo=timezone.utc).timestamp()


def utc(*a) -> float:
    return datetime(*a, tzinfo=timezone.utc).timestamp()


# -- brute force: written from the glossary, independently of pipeline.live.contact_state ----------

RANK = ["created", "tagged", "transferred", "assigned", "answered", "opened", "held", "resumed",
        "customer_replied", "agent_replied", "snoozed", "abandoned", "closed", "reopened", "rated"]


def brute_contacts(events: list[Event], now: float) -> dict[str, dict]:
    unique = {e.id: e for e in events if e.time <= now}
    per: dict[str, list[Event]] = {}
    for e in unique.values():
        per.setdefault(e.subject, []).append(e)
    out = {}
    for cid, evs in per.items():
        evs.sort(key=lambda e: (e.time, RANK.index(e.type.split(".")[1]), e.id))
        c = None
        for e in evs:
            kind, d, t = e.type.split(".")[1], e.data, e.time
            if kind == "created":
                c = {"id": cid, "channel": d["channel"], "queue": d["queue"], "created": t,
                     "open": True, "agent": "", "wait": t, "snooze": None, "answered": None,
                     "first_reply": None, "abandoned": None, "closed": None, "seg": None,
                     "handle": 0.0, "segments": 0, "last": t, "snooze_pause": None, "await_pause": None,
                     "pauses": []}
                continue
            c["last"] = max(c["last"], t)
            if c["snooze"] is not None and c["snooze"] <= t:
                c["snooze_pause"][1] = c["snooze"]  # the SLA clock resumed when the snooze ended
                c["wait"], c["snooze"], c["snooze_pause"] = c["snooze"], None, None
            snoozed_before = c["snooze"]
            if kind in ("answered", "agent_replied", "closed", "abandoned", "transferred"):
                if c["seg"] is not None and (kind != "answered"):
                    c["handle"] += t - c["seg"]
                    c["segments"] += 1
                    c["seg"] = None
            if kind == "assigned":
                c["agent"] = d["agent"]
            elif kind == "answered":
                c["agent"] = d["agent"]
                c["answered"] = c["answered"] if c["answered"] is not None else t
                c["wait"] = c["snooze"] = None
                if c["seg"] is None:
                    c["seg"] = t
            elif kind == "opened":
                c["agent"] = d["agent"]
                if c["seg"] is None:
                    c["seg"] = t
            elif kind == "agent_replied":
                c["agent"] = d["agent"]
                c["first_reply"] = c["first_reply"] if c["first_reply"] is not None else t
                c["wait"] = c["snooze"] = None
            elif kind == "customer_replied":
                c["snooze"] = None
                if c["wait"] is None:
                    c["wait"] = t
            elif kind == "transferred":
                if d.get("to_queue"):
                    c["queue"] = d["to_queue"]
                c["agent"] = d.get("to_agent") or ""
                if not d.get("to_agent"):
                    c["wait"], c["snooze"] = t, None
            elif kind == "snoozed":
                c["snooze"], c["wait"] = d["until"], None
            elif kind == "closed":
                c["open"], c["closed"], c["wait"], c["snooze"] = False, t, None, None
                if d.get("agent"):
                    c["agent"] = d["agent"]
            elif kind == "abandoned":
                c["open"], c["wait"], c["snooze"] = False, None, None
                c["abandoned"] = c["abandoned"] if c["abandoned"] is not None else t
            elif kind == "reopened":
                c["open"], c["closed"], c["wait"], c["snooze"] = True, None, t, None
            # SLA clock pauses (glossary): snoozed, and waiting for the customer after an agent reply
            if c["snooze"] != snoozed_before:
                if c["snooze_pause"] is not None:
                    c["snooze_pause"][1] = t
                    c["snooze_pause"] = None
                if c["snooze"] is not None:
                    c["snooze_pause"] = [t, math.inf]
                    c["pauses"].append(c["snooze_pause"])
            if kind == "agent_replied" and c["await_pause"] is None:
                c["await_pause"] = [t, math.inf]
                c["pauses"].append(c["await_pause"])
            elif c["await_pause"] is not None and (
                    kind in ("customer_replied", "reopened", "closed", "abandoned")
                    or (kind == "transferred" and not d.get("to_agent"))):
                c["await_pause"][1] = t
                c["await_pause"] = None
        if c is not None:
            out[cid] = c
    return out


def paused_within(c: dict, a: float, b: float) -> float:
    """Seconds of [a, b] covered by the contact's pauses (their union: they may overlap)."""
    spans = sorted((max(x, a), min(y, b)) for x, y in c["pauses"] if x < b and y > a)
    total, reach = 0.0, a
    for x, y in spans:
        if y > reach:
            total += y - max(x, reach)
            reach = y
    return total


def brute_agents(events: list[Event], now: float) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for e in sorted({e.id: e for e in events if e.time <= now}.values(), key=lambda e: (e.time, e.id)):
        d = e.data
        cur = out.get(e.subject)
        if cur is None or (cur["state"], cur["reason"]) != (d["state"], d.get("reason") or ""):
            cap = d.get("capacity")
            out[e.subject] = {"state": d["state"], "reason": d.get("reason") or "", "since": e.time,
                              "capacity": cap if cap is not None else (cur or {}).get("capacity", {})}
        elif d.get("capacity") is not None:
            cur["capacity"] = d["capacity"]
    return out


def brute_view(contact_events, agent_events, now, settings) -> dict:
    contacts = brute_contacts(contact_events, now)
    tz = ZoneInfo(settings.site_tz)
    d = datetime.fromtimestamp(now, tz)
    windows = {"today": datetime(d.year, d.month, d.day, tzinfo=tz).timestamp(),
               "last_30m": now - 1800}
    keys = set(settings.configured()) | {(c["queue"], c["channel"]) for c in contacts.values()}
    rows = []
    for q, ch in sorted(keys):
        pol = settings.for_queue(q, ch)
        mine = [c for c in contacts.values() if (c["queue"], c["channel"]) == (q, ch)]
        row = {"queue": q, "channel": ch, "threshold_s": pol.threshold_s,
               "at_risk_fraction": pol.at_risk_fraction, "_pol": pol}
        waiting = []
        for c in mine:
            if not c["open"]:
                continue
            start = c["wait"] if c["wait"] is not None else (
                c["snooze"] if c["snooze"] is not None and c["snooze"] <= now else None)
            if start is not None:
                waiting.append((start, c["id"], max(0.0, now - start), pol.threshold_s))
        row["_waiting"] = waiting
        row["unassigned"] = sum(1 for c in mine if c["open"] and not c["agent"])
        row["in_progress"] = sum(1 for c in mine if c["open"] and c["agent"])
        for name, lo in windows.items():
            def inw(t):
                return t is not None and lo <= t <= now
            answered = [c for c in mine if inw(c["first_reply"] if ch == "email" else c["answered"])]
            waits = [(c["first_reply"] if ch == "email" else c["answered"]) - c["created"] for c in answered]
            sla_waits = [w - paused_within(c, c["created"], c["created"] + w) for c, w in zip(answered, waits)]
            abandoned = [c for c in mine if inw(c["abandoned"])]
            fr = [c for c in mine if inw(c["answered"] if ch == "voice" else c["first_reply"])]
            closed = [c for c in mine if inw(c["closed"]) and c["segments"]]
            w = {"offered": sum(1 for c in mine if inw(c["created"])), "answered": len(answered),
                 "abandoned": len(abandoned),
                 "short_abandoned": sum(1 for c in abandoned if c["abandoned"] - c["created"] <= pol.short_abandon_s),
                 "answered_within_sl": sum(1 for x in sla_waits if x <= pol.threshold_s),
                 "_asa": waits if ch != "email" else [],
                 "_aht": [c["handle"] for c in closed],
                 "_fr": [(c["answered"] if ch == "voice" else c["first_reply"]) - c["created"] for c in fr]}
            w["_den"] = {"answered_and_late_abandons": w["answered"] + w["abandoned"] - w["short_abandoned"],
                         "answered_and_abandons": w["answered"] + w["abandoned"],
                         "answered": w["answered"], "offered": w["offered"]}[pol.sl_formula]
            row[name] = w
        rows.append(row)

    def agg(rs):
        items = sorted([x for r in rs for x in r["_waiting"]])
        out = {
            "waiting": len(items),
            "inside_sl": sum(1 for r in rs for x in r["_waiting"] if x[2] < r["_pol"].at_risk_s),
            "at_risk": sum(1 for r in rs for x in r["_waiting"] if r["_pol"].at_risk_s <= x[2] < x[3]),
            "breached": sum(1 for r in rs for x in r["_waiting"] if x[2] >= x[3]),
            "oldest_wait_s": max((x[2] for x in items), default=None),
            "unassigned": sum(r["unassigned"] for r in rs),
            "in_progress": sum(r["in_progress"] for r in rs),
            "waiting_items": [{"contact": cid, "wait_s": age, "time_to_breach_s": thr - age}
                              for _, cid, age, thr in items[:50]],
        }
        for name in windows:
            ws = [r[name] for r in rs]
            tot = {k: sum(w[k] for w in ws) for k in ("offered", "answered", "abandoned",
                                                      "short_abandoned", "answered_within_sl")}
            den = sum(w["_den"] for w in ws)

            def mean(k):
                xs = [x for w in ws for x in w[k]]
                return sum(xs) / len(xs) if xs else None
            tot.update(service_level=tot["answered_within_sl"] / den if den else None,
                       asa_s=mean("_asa"), aht_s=mean("_aht"), first_response_s=mean("_fr"))
            out[name] = tot
        return out

    queues = [{**{k: r[k] for k in ("queue", "channel", "threshold_s", "at_risk_fraction")}, **agg([r])}
              for r in rows]
    chans = sorted({r["channel"] for r in rows}, key=["voice", "chat", "email"].index)
    agents = brute_agents(agent_events, now)
    agent_rows = []
    names = set(agents) | {c["agent"] for c in contacts.values() if c["open"] and c["agent"]}
    counts = dict.fromkeys(["offline", "available", "busy", "after_contact_work", "away"], 0)
    for name in sorted(names):
        open_ = {ch: sum(1 for c in contacts.values() if c["open"] and c["agent"] == name and c["channel"] == ch)
                 for ch in ("voice", "chat", "email")}
        a = agents.get(name)
        cap = {"voice": 0, "chat": 0, "email": 0, **(a["capacity"] if a else {})}
        if a:
            counts[a["state"]] += 1
        agent_rows.append({
            "agent": name, "state": a["state"] if a else "unknown", "reason": a["reason"] if a else "",
            "since": a["since"] if a else None,
            "time_in_state_s": max(0.0, now - a["since"]) if a else None,
            "open": open_, "capacity": cap,
            "load": sum(open_.values()) / sum(cap.values()) if sum(cap.values()) else None})
    return {"generated_at": now, "site_tz": settings.site_tz, "queues": queues,
            "channels": [{"channel": ch, **agg([r for r in rows if r["channel"] == ch])} for ch in chans],
            "total": agg(rows), "agents": agent_rows, "agent_states": counts}


def assert_close(a, b, path="view"):
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6), \
            f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# -- generator of valid histories --------------------------------------------------------------

@st.composite
def histories(draw):
    contact_events: list[Event] = []
    n = 0

    def emit(t, kind, subject, **data):
        nonlocal n
        n += 1
        contact_events.append(Event(f"ev{n}", f"contact.{kind}", float(t), subject, "test", data))

    for i in range(draw(st.integers(1, 7))):
        cid = f"c{i}"
        ch = draw(st.sampled_from(["voice", "chat", "email"]))
        t = T0 + draw(st.integers(0, 7200))
        emit(t, "created", cid, channel=ch, queue=draw(st.sampled_from(QUEUES[ch])))
        ended = closed = connected = held = False
        for _ in range(draw(st.integers(0, 10))):
            t += draw(st.sampled_from([1, 3, 5, 10, 16, 20, 30, 60, 70, 400, 2000, 3600]))
            if ended:
                acts = ["reopened", "tagged", "rated"] + ([] if closed else ["closed"])
            else:
                acts = ["assigned", "transferred", "tagged", "rated", "closed"]
                if not connected:
                    acts.append("abandoned")
                if ch != "email" and not connected:
                    acts.append("answered")
                if ch == "voice" and connected:
                    acts.append("resumed" if held else "held")
                if ch != "voice":
                    acts += ["opened", "agent_replied", "customer_replied", "snoozed"]
            act = draw(st.sampled_from(acts))
            agent = draw(st.sampled_from(AGENTS))
            if act in ("assigned", "answered", "opened", "agent_replied"):
                emit(t, act, cid, agent=agent)
                connected = connected or act == "answered"
            elif act == "transferred":
                to = draw(st.sampled_from(["queue", "agent", "both"]))
                data = {}
                if to != "agent":
                    data["to_queue"] = draw(st.sampled_from(QUEUES[ch]))
                if to != "queue":
                    data["to_agent"] = agent
                emit(t, act, cid, **data)
                connected = held = False
            elif act == "snoozed":
                emit(t, act, cid, until=t + draw(st.sampled_from([1, 30, 300, 5000])))
            elif act == "tagged":
                emit(t, act, cid, tags=[draw(st.sampled_from(["vip", "refund"]))])
            elif act == "rated":
                emit(t, act, cid, score=draw(st.integers(1, 5)))
            elif act == "closed":
                emit(t, act, cid, agent=agent)
                ended = closed = True
                connected = held = False
            elif act == "abandoned":
                emit(t, act, cid)
                ended = True
            elif act == "reopened":
                emit(t, act, cid)
                ended = closed = connected = False
            elif act in ("held", "resumed"):
                emit(t, act, cid)
                held = act == "held"
            else:
                emit(t, act, cid)
    agent_events = []
    for a in AGENTS[: draw(st.integers(0, 3))]:
        t = T0 + draw(st.integers(0, 3000))
        for k in range(draw(st.integers(1, 4))):
            data = {"state": draw(st.sampled_from(["available", "busy", "away"])), "reason": ""}
            if k == 0 or draw(st.booleans()):
                data["capacity"] = {"voice": 1, "chat": draw(st.integers(0, 3)), "email": 5}
            agent_events.append(Event(f"ag-{a}-{k}", "agent.state_changed", float(t), a, "test", data))
            t += draw(st.integers(1, 3000))
    # bounded reordering: arrival = event time + jitter; duplicates delivered again later
    jitter = [draw(st.integers(0, 120)) for _ in contact_events]
    arrival = [e for _, _, e in sorted(zip([e.time + j for e, j in zip(contact_events, jitter)],
                                           range(len(contact_events)), contact_events))]
    for idx in draw(st.lists(st.integers(0, max(0, len(arrival) - 1)), max_size=4)):
        if arrival:
            arrival.insert(min(len(arrival), idx + draw(st.integers(0, 5))), arrival[idx])
    last = max(e.time for e in contact_events)
    instants = sorted({last, last + 10, T0 + 1900, T0 + draw(st.integers(0, 9000)), last + 4000})
    return contact_events, arrival, agent_events, instants


def pipeline_states(arrival, agent_events, now):
    contacts: dict = {}
    lot = ParkingLot(timeout_s=1e9)
    for e in arrival:
        if e.time <= now:
            contacts[e.subject], _ = apply_parked(contacts.get(e.subject), e, lot, 0.0)
    assert len(lot) == 0, ("a valid history must leave nothing parked", lot.to_list(),
                           [(e.id, e.type, e.time, e.subject, e.data) for e in arrival if e.time <= now])
    agents: dict = {}
    for e in agent_events:
        if e.time <= now:
            agents[e.subject], _ = apply_agent(agents.get(e.subject), e)
    return contacts, agents


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_live_view_matches_brute_force_for_1_and_2_partitions(h):
    contact_events, arrival, agent_events, instants = h
    for now in instants:
        contacts, agents = pipeline_states(arrival, agent_events, now)
        one = merge([partial(contacts.values(), agents.values(), now, SETTINGS)], now, SETTINGS)
        # partition by contact id / agent id as Kafka keys would
        parts = [([c for k, c in contacts.items() if hash(k) % 2 == p],
                  [a for k, a in agents.items() if hash(k) % 2 == p]) for p in (0, 1)]
        partials = [orjson.loads(orjson.dumps(partial(cs, ags, now, SETTINGS))) for cs, ags in parts]
        two = merge(partials, now, SETTINGS)
        assert two == one
        assert_close(one, brute_view(contact_events, agent_events, now, SETTINGS))


# -- aging with an explicit clock --------------------------------------------------------------

def _voice_waiting(t0: float):
    from pipeline.live.contact_state import apply
    s, _ = apply(None, Event("e1", "contact.created", t0, "c1", "t", {"channel": "voice", "queue": "billing"}))
    return s


def _row(view, queue="billing"):
    return next(r for r in view["queues"] if r["queue"] == queue)


def test_waiting_voice_contact_moves_inside_at_risk_breached_at_the_right_instants():
    t0 = utc(2026, 5, 4, 10, 0, 0)
    p = partial([_voice_waiting(t0)], [], t0, SETTINGS)  # published once, merged as time goes on
    expected = [(0, "inside_sl"), (15.999, "inside_sl"), (16, "at_risk"), (19.999, "at_risk"),
                (20, "breached"), (300, "breached")]
    for dt, bucket in expected:
        row = _row(merge([p], t0 + dt, SETTINGS))
        got = {k: row[k] for k in ("inside_sl", "at_risk", "breached")}
        assert got == {k: int(k == bucket) for k in got}, (dt, got)
        assert row["waiting"] == 1
        assert math.isclose(row["oldest_wait_s"], dt, abs_tol=1e-6)
        assert math.isclose(row["waiting_items"][0]["time_to_breach_s"], 20 - dt, abs_tol=1e-6)


def test_snoozed_email_starts_waiting_when_the_snooze_ends():
    from pipeline.live.contact_state import apply
    t0 = utc(2026, 5, 4, 10, 0, 0)
    s, _ = apply(None, Event("e1", "contact.created", t0, "m1", "t", {"channel": "email", "queue": "support-email"}))
    s, _ = apply(s, Event("e2", "contact.snoozed", t0 + 10, "m1", "t", {"until": t0 + 1000}))
    p = partial([s], [], t0 + 20, SETTINGS)
    assert _row(merge([p], t0 + 999, SETTINGS), "support-email")["waiting"] == 0
    row = _row(merge([p], t0 + 1000 + 2880, SETTINGS), "support-email")  # 0.8 * 3600 = 2880
    assert (row["waiting"], row["at_risk"], row["oldest_wait_s"]) == (1, 1, 2880.0)


def _offered_today(created: float, now: float) -> int:
    from pipeline.live.contact_state import apply
    s, _ = apply(None, Event("e1", "contact.created", created, "c1", "t", {"channel": "voice", "queue": "billing"}))
    return _row(merge([partial([s], [], now, SETTINGS)], now, SETTINGS))["today"]["offered"]


def test_today_rolls_over_at_local_midnight_across_spring_dst_change():
    # Madrid 2026-03-29 is a 23 h day: midnight of the 30th is 22:00 UTC (CEST), not 23:00
    assert day_start(utc(2026, 3, 29, 12), ZoneInfo("Europe/Madrid")) == utc(2026, 3, 28, 23)
    assert day_start(utc(2026, 3, 29, 22, 30), ZoneInfo("Europe/Madrid")) == utc(2026, 3, 29, 22)
    assert _offered_today(utc(2026, 3, 29, 21, 50), utc(2026, 3, 29, 21, 59)) == 1
    assert _offered_today(utc(2026, 3, 29, 21, 50), utc(2026, 3, 29, 22, 0, 1)) == 0
    assert _offered_today(utc(2026, 3, 29, 22, 10), utc(2026, 3, 29, 22, 45)) == 1


def test_today_rolls_over_at_local_midnight_across_autumn_dst_change():
    # Madrid 2026-10-25 is a 25 h day: it starts 22:00 UTC on the 24th and ends 23:00 UTC
    assert day_start(utc(2026, 10, 25, 12), ZoneInfo("Europe/Madrid")) == utc(2026, 10, 24, 22)
    assert _offered_today(utc(2026, 10, 24, 22, 30), utc(2026, 10, 25, 22, 45)) == 1
    assert _offered_today(utc(2026, 10, 25, 22, 30), utc(2026, 10, 25, 23, 0, 1)) == 0
    assert _offered_today(utc(2026, 10, 25, 23, 0, 0), utc(2026, 10, 25, 23, 0, 1)) == 1


def test_last_30m_window_is_inclusive_and_slides():
    t = utc(2026, 5, 4, 10)
    from pipeline.live.contact_state import apply
    s, _ = apply(None, Event("e1", "contact.created", t, "c1", "t", {"channel": "voice", "queue": "billing"}))
    assert _row(merge([partial([s], [], t + 1800, SETTINGS)], t + 1800, SETTINGS))["last_30m"]["offered"] == 1
    assert _row(merge([partial([s], [], t + 1800.5, SETTINGS)], t + 1800.5, SETTINGS))["last_30m"]["offered"] == 0


def test_configured_queues_appear_empty_and_evictable_contacts_change_nothing():
    from pipeline.live.contact_state import apply
    t = utc(2026, 5, 4, 10)
    s, _ = apply(None, Event("e1", "contact.created", t, "c1", "t", {"channel": "voice", "queue": "billing"}))
    s, _ = apply(s, Event("e2", "contact.abandoned", t + 3, "c1", "t", {}))
    tz = ZoneInfo("Europe/Madrid")
    later = utc(2026, 5, 5, 10)
    assert not is_evictable(s, t + 60, tz)
    assert is_evictable(s, later, tz)
    with_it = merge([partial([s], [], later, SETTINGS)], later, SETTINGS)
    without = merge([partial([], [], later, SETTINGS)], later, SETTINGS)
    assert with_it == without
    assert [(r["queue"], r["channel"]) for r in without["queues"]] == SETTINGS.configured()
    assert without["total"]["today"]["service_level"] is None


def test_agent_load_and_states():
    from pipeline.live.contact_state import apply
    t = utc(2026, 5, 4, 10)
    a, _ = apply_agent(None, Event("g1", "agent.state_changed", t, "a1", "t",
                                   {"state": "busy", "capacity": {"voice": 1, "chat": 2, "email": 5}}))
    s, _ = apply(None, Event("e1", "contact.created", t, "c1", "t", {"channel": "email", "queue": "x"}))
    s, _ = apply(s, Event("e2", "contact.assigned", t + 1, "c1", "t", {"agent": "a1"}))
    view = merge([partial([s], [], t + 5, SETTINGS), partial([], [a], t + 5, SETTINGS)], t + 100, SETTINGS)
    assert view["agents"] == [{"agent": "a1", "state": "busy", "reason": "", "since": t,
                               "time_in_state_s": 100.0, "open": {"voice": 0, "chat": 0, "email": 1},
                               "capacity": {"voice": 1, "chat": 2, "email": 5}, "load": 1 / 8}]
    assert view["agent_states"] == {"offline": 0, "available": 0, "busy": 1, "after_contact_work": 0, "away": 0}


def test_service_level_boundaries_are_inclusive():
    from pipeline.live.contact_state import replay
    t = utc(2026, 5, 4, 10)

    def mk(cid, *rest):
        evs = [Event(f"{cid}-0", "contact.created", t, cid, "t", {"channel": "voice", "queue": "billing"})]
        evs += [Event(f"{cid}-{i + 1}", f"contact.{k}", t + dt, cid, "t", d) for i, (k, dt, d) in enumerate(rest)]
        return replay(cid, evs)
    states = [mk("ok", ("answered", 20, {"agent": "a1"})), mk("late", ("answered", 20.001, {"agent": "a1"})),
              mk("short", ("abandoned", 5, {})), mk("long", ("abandoned", 5.001, {}))]
    w = _row(merge([partial(states, [], t + 60, SETTINGS)], t + 60, SETTINGS))["last_30m"]
    assert (w["answered"], w["answered_within_sl"], w["abandoned"], w["short_abandoned"]) == (2, 1, 2, 1)
    assert w["service_level"] == 1 / 3  # within / (answered + abandoned after 5 s)
    assert math.isclose(w["asa_s"], 20.0005)


# -- business clock (issue 14) -------------------------------------------------------------------
BIZ = QueueSettings.from_toml("""
site_tz = "Europe/Madrid"
[calendars.office]
hours = { mon = ["08:00-14:00", "15:00-18:00"], tue = ["08:00-18:00"], wed = ["08:00-18:00"], thu = ["08:00-18:00"], fri = ["08:00-18:00"] }
[queues.mail]
channel = "email"
threshold_s = 14400
calendar = "office"
clock = "business"
[queues.mail-24]
channel = "email"
threshold_s = 14400
calendar = "office"
""")


def test_business_clock_does_not_age_outside_opening_hours():
    """An email at Friday 18:01 is not breached on Monday 08:59 (it has waited 0 business seconds);
    its 4 h threshold runs out on Monday at 12:00 (four opening hours from 08:00). The same
    email in a calendar-clock queue is breached all weekend."""
    from zoneinfo import ZoneInfo

    from pipeline.live.contact_state import apply
    z = ZoneInfo("Europe/Madrid")

    def at(d, hh, mm=0):
        return datetime(2026, 11, d, hh, mm, tzinfo=z).timestamp()

    states = []
    for q in ("mail", "mail-24"):
        s, _ = apply(None, Event(f"e-{q}", "contact.created", at(27, 18, 1), f"c-{q}", "t",
                                 {"channel": "email", "queue": q}))
        states.append(s)
    p = partial(states, [], at(27, 18, 1), BIZ)
    sat = merge([p], at(28, 12), BIZ)
    row = _row(sat, "mail")
    assert (row["waiting"], row["inside_sl"], row["breached"]) == (1, 1, 0)
    assert row["clock"] == "business" and row["clock_resumes_at"] == at(30, 8)
    assert row["oldest_wait_s"] == 0.0
    item = row["waiting_items"][0]
    assert item["breach_at"] == at(30, 12) and item["time_to_breach_s"] == at(30, 12) - at(28, 12)
    cal_row = _row(sat, "mail-24")
    assert cal_row["breached"] == 1 and "clock" not in cal_row

    mon = _row(merge([p], at(30, 8, 59), BIZ), "mail")
    assert (mon["inside_sl"], mon["at_risk"], mon["breached"]) == (1, 0, 0)
    assert mon["clock_resumes_at"] is None and mon["oldest_wait_s"] == 59 * 60
    # at risk from 80 % of 4 h = 3 h 12 min of business time: Monday 11:12
    assert _row(merge([p], at(30, 11, 11), BIZ), "mail")["at_risk"] == 0
    assert _row(merge([p], at(30, 11, 12), BIZ), "mail")["at_risk"] == 1
    assert _row(merge([p], at(30, 12), BIZ), "mail")["breached"] == 1
    # the channel and total rows use each queue's own clock
    view = merge([p], at(30, 8, 59), BIZ)
    email = next(c for c in view["channels"] if c["channel"] == "email")
    assert email["breached"] == 1 and email["waiting"] == 2
    times = sorted((i["time_to_breach_s"] for i in email["waiting_items"]))
    assert times[0] < 0 and times[1] == at(30, 12) - at(30, 8, 59)


def test_todays_service_level_judges_each_answer_on_the_queues_clock():
    """Issue 14: the live today/last-30-minutes service level uses the queue's SLA clock, as the
    reports' is_within_sl does. An email in at Friday 18:01, first reply Monday 09:30: 1 h 30 min
    of business time (inside the 4 h threshold) but 63 h of calendar time (breached). The index
    (the worker's incremental partial) agrees with the full recomputation."""
    from zoneinfo import ZoneInfo

    from pipeline.history.contact_facts import fact_row
    from pipeline.live.contact_state import apply
    from pipeline.live.live_index import LiveIndex
    z = ZoneInfo("Europe/Madrid")

    def at(d, hh, mm=0):
        return datetime(2026, 11, d, hh, mm, tzinfo=z).timestamp()

    states = {}
    idx = LiveIndex(BIZ, states.values)
    for q in ("mail", "mail-24"):
        s, _ = apply(None, Event(f"e-{q}", "contact.created", at(27, 18, 1), f"c-{q}", "t",
                                 {"channel": "email", "queue": q}))
        before = idx.previous(None)
        s, _ = apply(s, Event(f"r-{q}", "contact.agent_replied", at(30, 9, 30), f"c-{q}", "t", {"agent": "ana"}))
        states[s.contact_id] = s
        idx.update(before, s)
    now = at(30, 10)
    p = partial(states.values(), [], now, BIZ)
    assert orjson.loads(orjson.dumps(idx.partial(now, []))) == orjson.loads(orjson.dumps(p))
    view = merge([p], now, BIZ)
    biz_today, cal_today = _row(view, "mail")["today"], _row(view, "mail-24")["today"]
    assert (biz_today["answered"], biz_today["answered_within_sl"]) == (1, 1)
    assert (cal_today["answered"], cal_today["answered_within_sl"]) == (1, 0)
    # the same judgement as the history row the reports read
    row = fact_row(states["c-mail"], BIZ.calendar_for("mail"))
    assert row["sla_wait_business_s"] == 90 * 60 and row["sla_wait_s"] == at(30, 9, 30) - at(27, 18, 1)


def test_breached_waits_travel_as_a_count_and_merge_alike_later():
    # voice waits of 0..40 s at t (billing threshold 20 s): a partial taken at t, merged at later
    # instants, gives the aging counts of a partial taken at those instants
    from pipeline.live.contact_state import apply
    t = utc(2026, 5, 4, 10, 0, 0)
    states = [apply(None, Event(f"e{i}", "contact.created", t - i, f"c{i}",
                                "t", {"channel": "voice", "queue": "billing"}))[0] for i in range(41)]
    p = orjson.loads(orjson.dumps(partial(states, [], t, SETTINGS)))
    row = next(r for r in p["queues"] if r["queue"] == "billing")
    assert row["breached"] == 21 and row["waits"] == [t - i for i in range(19, -1, -1)]  # age 20 s: breached
    keys = ("waiting", "inside_sl", "at_risk", "breached", "oldest_wait_s", "waiting_items")
    for later in (t, t + 0.5, t + 4, t + 5, t + 19.5, t + 20, t + 100):
        got = _row(merge([p], later, SETTINGS))
        want = _row(merge([partial(states, [], later, SETTINGS)], later, SETTINGS))
        assert {k: got[k] for k in keys} == {k: want[k] for k in keys}, later
    # a partial of a worker before the count (every wait start listed) merges the same
    old = {**p, "queues": [{**r, "waits": sorted(s.wait_start for s in states), "breached": None}
                           for r in p["queues"]]}
    for r in old["queues"]:
        del r["breached"]
    assert _row(merge([old], t + 7, SETTINGS)) == _row(merge([p], t + 7, SETTINGS))


@hsettings(max_examples=300, deadline=None)
@given(st.floats(1_600_000_000, 1_900_000_000), st.sampled_from(["UTC", "Europe/Madrid", "America/Santiago",
                                                                  "Asia/Kolkata", "Australia/Lord_Howe"]))
def test_next_day_start_is_the_first_midnight_after(t, zone):
    from pipeline.live.live_view import next_day_start
    tz = ZoneInfo(zone)
    nxt = next_day_start(t, tz)
    assert nxt > t and day_start(nxt, tz) == nxt and day_start(nxt - 1, tz) == day_start(t, tz)
    assert next_day_start(t, tz) == nxt  # the cached answer is the same
