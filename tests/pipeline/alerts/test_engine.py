"""Alert evaluation with an injected clock: firing, for_s, hysteresis, cooldown, ack, scopes,
contact rules (the 24-hour escalation, low CSAT), restarts. No sleeping: `now` is a number."""
from __future__ import annotations

from pipeline.alerts.engine import ACKED, FIRED, RESOLVED, ContactFacts, Engine, Episode, episode_id
from pipeline.alerts.rules import parse_rules_toml

T0 = 1_800_000_000.0
DAY = 86400.0


def rules(text: str):
    return parse_rules_toml(text)


def row(queue="support-email", channel="email", **kw):
    r = {"queue": queue, "channel": channel, "waiting": 0, "inside_sl": 0, "at_risk": 0, "breached": 0,
         "oldest_wait_s": None, "unassigned": 0, "in_progress": 0,
         "today": {"offered": 0, "answered": 0, "abandoned": 0, "service_level": None},
         "last_30m": {"offered": 0, "answered": 0, "abandoned": 0, "service_level": None}}
    for k, v in kw.items():
        if "." in k:
            w, f = k.split(".")
            r[w][f] = v
        else:
            r[k] = v
    return r


def view(*rows, agents=None, channels=None, total=None):
    return {"queues": list(rows), "channels": channels or [], "total": total or {},
            "agent_states": agents or {}}


OLDEST = """
[[rules]]
name = "email waits too long"
queue = "support-email"
metric = "oldest_wait_s"
op = ">"
threshold = 3600
for_s = 60
clear = 1800
cooldown_s = 600
severity = "critical"
notify = ["webhook:http://127.0.0.1:1/x"]
"""


def test_fires_after_for_s_once_and_resolves_past_clear_once():
    e = Engine(rules(OLDEST))
    assert e.step(T0, view(row(oldest_wait_s=3000)), None) == []
    assert e.step(T0 + 1, view(row(oldest_wait_s=3601)), None) == []      # starts holding
    assert e.step(T0 + 60, view(row(oldest_wait_s=3660)), None) == []     # 59 s < for_s
    out = e.step(T0 + 61, view(row(oldest_wait_s=3661)), None)
    assert [(ev, ep.rule) for ev, ep in out] == [(FIRED, "email waits too long")]
    ep = out[0][1]
    assert ep.started_at == T0 + 1 and ep.fired_at == T0 + 61 and ep.value == 3661
    assert ep.scope == {"queue": "support-email", "channel": "email"} and ep.severity == "critical"
    assert ep.notify == ["webhook:http://127.0.0.1:1/x"] and ep.threshold == 3600
    assert ep.id == episode_id("email waits too long", "queue:support-email/email", T0 + 61)
    # holding on: no second fire
    for t in range(62, 200):
        assert e.step(T0 + t, view(row(oldest_wait_s=4000 + t)), None) == []
    # hysteresis: below the threshold but above clear keeps it firing
    assert e.step(T0 + 300, view(row(oldest_wait_s=2000)), None) == []
    assert e.open_episodes() == [ep]
    out = e.step(T0 + 301, view(row(oldest_wait_s=1800)), None)
    assert out == [(RESOLVED, ep)] and ep.state == "resolved" and ep.resolved_at == T0 + 301
    assert e.step(T0 + 302, view(row(oldest_wait_s=100)), None) == []
    assert e.open_episodes() == []


def test_for_s_restarts_when_the_condition_breaks():
    e = Engine(rules(OLDEST))
    e.step(T0, view(row(oldest_wait_s=4000)), None)
    e.step(T0 + 50, view(row(oldest_wait_s=4000)), None)
    assert e.step(T0 + 51, view(row(oldest_wait_s=10)), None) == []        # broke: timer resets
    e.step(T0 + 52, view(row(oldest_wait_s=4000)), None)
    assert e.step(T0 + 111, view(row(oldest_wait_s=4000)), None) == []
    assert [ev for ev, _ in e.step(T0 + 112, view(row(oldest_wait_s=4000)), None)] == [FIRED]


def test_cooldown_blocks_refire_then_allows_it():
    e = Engine(rules(OLDEST))
    e.step(T0, view(row(oldest_wait_s=4000)), None)
    first = e.step(T0 + 60, view(row(oldest_wait_s=4000)), None)[0][1]
    e.step(T0 + 100, view(row(oldest_wait_s=0)), None)                   # resolves at +100
    # holds again at once, for_s passes at +161, but the cooldown runs until +700
    for t in range(101, 700, 7):
        assert e.step(T0 + t, view(row(oldest_wait_s=5000)), None) == []
    out = e.step(T0 + 700, view(row(oldest_wait_s=5000)), None)
    assert [ev for ev, _ in out] == [FIRED] and out[0][1].id != first.id
    assert out[0][1].started_at == T0 + 101


def test_zero_for_s_fires_at_first_sight_and_default_clear_is_threshold():
    e = Engine(rules('[[rules]]\nname="abandons"\nmetric="last_30m.abandoned"\nop=">="\nthreshold=5\n'))
    assert e.step(T0, view(row(**{"last_30m.abandoned": 4})), None) == []
    out = e.step(T0 + 1, view(row(**{"last_30m.abandoned": 5})), None)
    assert [ev for ev, _ in out] == [FIRED]
    assert e.step(T0 + 2, view(row(**{"last_30m.abandoned": 6})), None) == []
    assert [ev for ev, _ in e.step(T0 + 3, view(row(**{"last_30m.abandoned": 4})), None)] == [RESOLVED]


def test_service_level_below_with_none_meaning_no_data():
    e = Engine(rules('[[rules]]\nname="sl"\nchannel="voice"\nmetric="today.service_level"\nop="<"\n'
                     'threshold=0.8\nclear=0.85\n'))
    v = lambda sl: view(row("sales", "voice", **{"today.service_level": sl}),
                        row("support-email", "email", **{"today.service_level": 0.1}))
    assert e.step(T0, v(None), None) == []                 # nothing answered yet: no alert
    out = e.step(T0 + 1, v(0.79), None)
    assert [(ev, ep.scope["queue"]) for ev, ep in out] == [(FIRED, "sales")]   # email row not in scope
    assert e.step(T0 + 2, v(None), None) == []             # no data: stays firing
    assert e.step(T0 + 3, v(0.84), None) == []             # above threshold, below clear
    assert [ev for ev, _ in e.step(T0 + 4, v(0.85), None)] == [RESOLVED]


def test_every_queue_is_its_own_scope():
    e = Engine(rules('[[rules]]\nname="deep"\nmetric="waiting"\nthreshold=10\n'))
    out = e.step(T0, view(row("a", "chat", waiting=11), row("b", "chat", waiting=12),
                          row("a", "voice", waiting=3)), None)
    assert sorted(ep.scope_key for _, ep in out) == ["queue:a/chat", "queue:b/chat"]
    out = e.step(T0 + 1, view(row("a", "chat", waiting=0), row("b", "chat", waiting=12)), None)
    assert [(ev, ep.scope_key) for ev, ep in out] == [(RESOLVED, "queue:a/chat")]


def test_a_vanished_queue_keeps_its_episode():
    e = Engine(rules('[[rules]]\nname="deep"\nmetric="waiting"\nthreshold=10\n'))
    e.step(T0, view(row("a", "chat", waiting=11)), None)
    assert e.step(T0 + 1, view(), None) == [] and len(e.open_episodes()) == 1
    assert e.step(T0 + 2, None, None) == []                # no live view yet: queue rules wait


def test_agents_available_on_the_site_and_channel_aggregates():
    e = Engine(rules('[[rules]]\nname="nobody"\nper="total"\nmetric="agents.available"\nop="<"\n'
                     'threshold=1\nfor_s=30\n'
                     '[[rules]]\nname="chat queue"\nper="channel"\nchannel="chat"\nmetric="waiting"\n'
                     'threshold=20\n'))
    chans = [{"channel": "chat", "waiting": 25}, {"channel": "voice", "waiting": 90}]
    assert e.step(T0, view(agents={"available": 0, "busy": 3}, channels=chans), None)[0][1].scope_key == "channel:chat"
    out = e.step(T0 + 30, view(agents={"available": 0}, channels=chans), None)
    assert [(ev, ep.rule, ep.scope, ep.value) for ev, ep in out] == [(FIRED, "nobody", {}, 0.0)]
    assert [ev for ev, _ in e.step(T0 + 31, view(agents={"available": 2}, channels=chans), None)] == [RESOLVED]


def email(contact="m-1", since=T0, open=True, agent="ana", queue="support-email", snooze=None,
          csat=None, rated_at=None, channel="email"):
    return ContactFacts(contact=contact, channel=channel, queue=queue, agent=agent, open=open,
                        untouched_since=since if open else None, snooze_until=snooze, csat=csat,
                        rated_at=rated_at)


UNTOUCHED = """
[[rules]]
name = "untouched email"
kind = "contact"
channel = "email"
untouched_for_s = 86400
escalate_to = "second-line"
notify = ["webhook:http://127.0.0.1:1/x"]
"""


def test_email_untouched_for_24_hours_escalates_once_naming_it():
    e = Engine(rules(UNTOUCHED))
    contacts = [email("m-1", since=T0), email("m-2", since=T0 + 3600), email("c-1", since=T0, channel="chat")]
    assert e.step(T0 + DAY - 1, None, contacts) == []
    out = e.step(T0 + DAY, None, contacts)
    assert [(ev, ep.scope["contact"]) for ev, ep in out] == [(FIRED, "m-1")]
    ep = out[0][1]
    assert ep.escalate_to == "second-line" and ep.scope["agent"] == "ana" and ep.kind == "untouched"
    assert ep.started_at == T0 + DAY and ep.value == DAY
    # an hour later m-2 crosses too; m-1 does not fire again
    out = e.step(T0 + DAY + 3600, None, contacts)
    assert [(ev, ep.scope["contact"]) for ev, ep in out] == [(FIRED, "m-2")]
    # an agent opens m-1: its untouched clock restarts, the episode resolves
    contacts[0] = email("m-1", since=T0 + DAY + 4000)
    out = e.step(T0 + DAY + 4000, None, contacts)
    assert [(ev, ep.scope["contact"]) for ev, ep in out] == [(RESOLVED, "m-1")]
    # m-2 is closed: it leaves the scope and resolves
    out = e.step(T0 + DAY + 4001, None, [contacts[0], email("m-2", open=False)])
    assert [(ev, ep.scope["contact"]) for ev, ep in out] == [(RESOLVED, "m-2")]
    # m-1 untouched for another day: a new episode
    out = e.step(T0 + 2 * DAY + 4000, None, [contacts[0]])
    assert [(ev, ep.scope["contact"]) for ev, ep in out] == [(FIRED, "m-1")]


def test_snoozed_contact_is_not_untouched_until_its_snooze_ends():
    e = Engine(rules(UNTOUCHED))
    c = [email("m-1", since=T0, snooze=T0 + DAY + 7200)]
    assert e.step(T0 + DAY + 10, None, c) == []
    assert e.step(T0 + 2 * DAY + 7199, None, c) == []       # untouched since the snooze ended
    assert [ev for ev, _ in e.step(T0 + 2 * DAY + 7200, None, c)] == [FIRED]


LOW_CSAT = '[[rules]]\nname="unhappy"\nkind="contact"\nrating_at_most=2\nrating_within_s=3600\n'


def test_low_rating_names_contact_and_agent_once():
    e = Engine(rules(LOW_CSAT))
    rated = [email("m-1", open=False, csat=1, rated_at=T0, agent="bea"),
             email("m-2", open=False, csat=4, rated_at=T0), email("m-3", csat=None)]
    out = e.step(T0 + 5, None, rated)
    assert [(ev, ep.scope["contact"], ep.scope["agent"], ep.value) for ev, ep in out] == [
        (FIRED, "m-1", "bea", 1.0)]
    assert e.step(T0 + 6, None, rated) == []
    # the rating ages out of the window: the episode resolves, and does not come back
    assert [ev for ev, _ in e.step(T0 + 3601, None, rated)] == [RESOLVED]
    assert e.step(T0 + 3602, None, rated) == []


def test_an_old_rating_does_not_fire_at_start():
    e = Engine(rules(LOW_CSAT))
    assert e.step(T0 + 7200, None, [email("m-1", open=False, csat=1, rated_at=T0)]) == []


def test_ack_first_wins_and_does_not_resolve():
    e = Engine(rules(OLDEST.replace("for_s = 60", "for_s = 0")))
    ep = e.step(T0, view(row(oldest_wait_s=4000)), None)[0][1]
    assert e.ack(ep, "sam", T0 + 5) is True
    assert e.ack(ep, "kim", T0 + 6) is False
    assert (ep.acked_by, ep.acked_at, ep.state) == ("sam", T0 + 5, "firing")
    assert ACKED == "acked"


def test_restore_keeps_open_episodes_and_cooldown_so_nothing_fires_twice():
    e = Engine(rules(OLDEST))
    e.step(T0, view(row(oldest_wait_s=4000)), None)
    ep = e.step(T0 + 60, view(row(oldest_wait_s=4000)), None)[0][1]
    stored = [Episode.from_dict(ep.to_dict())]
    # a new process: the condition still holds -> no second fire
    e2 = Engine(rules(OLDEST))
    e2.restore(stored)
    for t in range(61, 130):
        assert e2.step(T0 + t, view(row(oldest_wait_s=4000)), None) == []
    out = e2.step(T0 + 130, view(row(oldest_wait_s=0)), None)
    assert [(ev, x.id) for ev, x in out] == [(RESOLVED, ep.id)]
    # another restart during the cooldown: the resolved episode still blocks a re-fire
    e3 = Engine(rules(OLDEST))
    e3.restore([Episode.from_dict(out[0][1].to_dict())])
    e3.step(T0 + 131, view(row(oldest_wait_s=4000)), None)
    assert e3.step(T0 + 729, view(row(oldest_wait_s=4000)), None) == []
    assert [ev for ev, _ in e3.step(T0 + 730, view(row(oldest_wait_s=4000)), None)] == [FIRED]


def test_restore_untouched_escalation_is_not_repeated():
    e = Engine(rules(UNTOUCHED))
    ep = e.step(T0 + DAY, None, [email("m-1", since=T0)])[0][1]
    e2 = Engine(rules(UNTOUCHED))
    e2.restore([Episode.from_dict(ep.to_dict())])
    assert e2.step(T0 + DAY + 1, None, [email("m-1", since=T0)]) == []
    assert e2.step(T0 + DAY + 2, None, None) == []          # contact facts not loaded yet: wait


def test_removed_rule_resolves_its_episodes():
    e = Engine(rules(OLDEST.replace("for_s = 60", "for_s = 0")))
    ep = e.step(T0, view(row(oldest_wait_s=4000)), None)[0][1]
    e.set_rules(rules(""))
    assert e.step(T0 + 1, view(row(oldest_wait_s=4000)), None) == [(RESOLVED, ep)]
    assert e.tracks == {}


def test_edited_rule_keeps_its_episode():
    e = Engine(rules(OLDEST.replace("for_s = 60", "for_s = 0")))
    e.step(T0, view(row(oldest_wait_s=4000)), None)
    e.set_rules(rules(OLDEST.replace("for_s = 60", "for_s = 0").replace("threshold = 3600", "threshold = 3000")))
    assert e.step(T0 + 1, view(row(oldest_wait_s=4000)), None) == []
    assert len(e.open_episodes()) == 1
