"""Asterisk queue_log mapper: real lines -> valid contract events, legal contact sequences.

Sources of the samples (personal data replaced by fakes):
- Field layout of every verb: asterisk/asterisk apps/app_queue.c (the ast_queue_log() calls) and
  main/logger.c (``%ld|%s|%s|%s|%s|`` + data); verb meanings: Dr0id1/techbook freepbx/cli.md.
- REAL_TAIL: a `tail /var/log/asterisk/queue_log` of a real Asterisk posted in a public notes
  repository (found with the code search; QUEUESTART, CLI ADDMEMBER, ENTERQUEUE, ABANDON).
- FREEPBX: lines of a FreePBX 2.x system (epochs of Feb 2010, Local/... members, CONNECT with two
  data fields as Asterisk 1.4/1.6 wrote them) from a public C# queue_log chart project's tests;
  the caller number was replaced by a fake (01632 960xxx, Ofcom's drama range).
- MODERN: lines in the current app_queue.c formats (CONNECT with ringtime, ENTERQUEUE with caller
  name, transfers, pauses with reasons), with fake numbers and names.
"""
from __future__ import annotations

import pytest

from pipeline.connectors.asterisk import LineError, QueueLogMapper, parse_line
from pipeline.live.contact_state import replay
from pipeline.schemas.event import Event
from pipeline.schemas.validation import validate_obj

REAL_TAIL = """\
1596191926|NONE|NONE|NONE|QUEUESTART|
1596510480|CLI|sales|SIP/0004f2040001|ADDMEMBER|
1596512941|1596512941.163|support|NONE|ENTERQUEUE||7000|1
1596513009|1596512941.163|support|NONE|ABANDON|1|1|68
1596513054|1596513054.164|sales|NONE|ENTERQUEUE||7000|1
1596513628|NONE|NONE|NONE|QUEUESTART|"""

FREEPBX = """\
1266833905|1266833905.2|9000|NONE|ENTERQUEUE||01632960123
1266833905|1266833905.2|9000|Local/2001@from-internal/n|RINGNOANSWER|0
1266833915|1266833905.2|9000|Local/2008@from-internal/n|RINGNOANSWER|0
1266833925|1266833905.2|9000|Local/2004@from-internal/n|CONNECT|20|1266833911.7
1266833935|1266833905.2|9000|Local/2004@from-internal/n|COMPLETEAGENT|20|10|1
1266833925|1266833925.10|9000|NONE|ENTERQUEUE||01632960123
1266833935|1266833925.10|9000|Local/2008@from-internal/n|RINGNOANSWER|1000
1266833945|1266833925.10|9000|Local/2004@from-internal/n|CONNECT|20|1266833933.27
1266833985|1266833925.10|9000|Local/2004@from-internal/n|COMPLETECALLER|20|40|1"""

MODERN = """\
1733130000|NONE|support|PJSIP/201|ADDMEMBER|
1733130000|NONE|support|PJSIP/202|ADDMEMBER|PAUSED
1733130001|1733130001.10|support|NONE|ENTERQUEUE||+441632960001|1|Ann Example
1733130002|1733130001.10|support|PJSIP/202|RINGNOANSWER|15000
1733130030|1733130001.10|support|PJSIP/201|CONNECT|29|1733130027.11|3
1733130090|1733130001.10|support|PJSIP/201|BLINDTRANSFER|300|from-internal|29|60|1
1733130100|1733130100.20|support|NONE|ENTERQUEUE||+441632960002|1
1733130104|1733130100.20|support|NONE|EXITWITHKEY|1|1|1|4
1733130110|1733130110.30|support|NONE|ENTERQUEUE||+441632960003|1
1733130150|1733130110.30|support|NONE|EXITWITHTIMEOUT|1|1|40
1733130160|1733130160.40|sales|NONE|ENTERQUEUE||+441632960004|1
1733130160|1733130160.40|sales|NONE|EXITEMPTY|1|1|0
1733130200|NONE|support|PJSIP/201|PAUSE|lunch
1733130260|NONE|support|PJSIP/201|UNPAUSE|
1733130300|1733130300.50|support|NONE|ENTERQUEUE||+441632960005|1
1733130302|1733130300.50|support|PJSIP/201|CONNECT|2|1733130301.51|1
1733130400|1733130300.50|support|PJSIP/201|ATTENDEDTRANSFER|LINK|PJSIP/201-0001|PJSIP/300-0002|2|98|1
1733130500|1733130500.60|support|Agent/1127|AGENTLOGIN|PJSIP/203-0003
1733130600|NONE|NONE|PJSIP/202|PAUSEALL|training
1733130700|1733130700.70|support|NONE|OUTDIAL|2|+441632960099
1733130701|1733130701.71|support|NONE|DID|5551000
1733130702|1733130702.72|support|NONE|INFO|anything
1733130703|1733130703.73|support|NONE|OUTDIAL|2|+441632960098"""


def _map(text: str, mapper: QueueLogMapper | None = None) -> tuple[QueueLogMapper, list[dict]]:
    m = mapper or QueueLogMapper()
    out: list[dict] = []
    for line in text.splitlines():
        out.extend(m.map_line(line))
    return m, out


def _valid(events: list[dict]) -> list[Event]:
    parsed = []
    for e in events:
        ev = validate_obj(e)
        assert isinstance(ev, Event), (ev, e)
        parsed.append(ev)
    return parsed


def _contacts(events: list[Event]) -> dict:
    by: dict[str, list[Event]] = {}
    for e in events:
        if e.type.startswith("contact."):
            by.setdefault(e.subject, []).append(e)
    return {cid: replay(cid, evs) for cid, evs in by.items()}


def test_real_tail_abandon_and_member():
    m, raw = _map(REAL_TAIL)
    evs = _valid(raw)
    assert [e.type for e in evs] == ["agent.state_changed", "contact.created", "contact.abandoned", "contact.created"]
    assert evs[0].subject == "SIP/0004f2040001" and evs[0].data["state"] == "available"
    created, abandoned = evs[1], evs[2]
    assert created.subject == "asterisk-1596512941.163-support"
    assert created.data == {"channel": "voice", "queue": "support", "customer": "7000", "priority": 0, "tags": []}
    assert abandoned.time - created.time == 68  # ABANDON's waittime, from the line times
    assert m.ignored == {"QUEUESTART": 2}
    states = _contacts(evs)
    assert states["asterisk-1596512941.163-support"].abandoned == created.time + 68
    assert states["asterisk-1596513054.164-sales"].wait_start == 1596513054  # still waiting at file end
    assert m.open_calls == 1


def test_freepbx_calls_answered_closed_and_missed_rings():
    m, raw = _map(FREEPBX)
    evs = _valid(raw)
    states = _contacts(evs)
    first = states["asterisk-1266833905.2-9000"]
    assert first.answered == 1266833925 and first.closed == 1266833935
    assert first.agent == "Local/2004@from-internal/n" and first.customer == "01632960123"
    second = states["asterisk-1266833925.10-9000"]
    assert second.answered == 1266833945 and second.closed == 1266833985
    assert second.handle_ms == 40_000
    assert m.missed_rings == {"Local/2001@from-internal/n": 1, "Local/2008@from-internal/n": 2}
    assert m.hold_mismatches == 0 and m.synthesized == 0
    closes = [e for e in evs if e.type == "contact.closed"]
    assert [c.data["resolution"] for c in closes] == ["agent hung up", "caller hung up"]


def test_modern_formats_every_verb():
    m, raw = _map(MODERN)
    evs = _valid(raw)
    states = _contacts(evs)
    t = states["asterisk-1733130001.10-support"]
    assert t.customer == "+441632960001" and t.first_assigned == 1733130027  # CONNECT - ringtime 3
    assert t.answered == 1733130030 and t.transfers == 1 and t.closed == 1733130090
    assert t.agents == ["PJSIP/201"]  # the transfer target is not counted as an agent who handled it
    transfers = {e.subject: e.data["to_agent"] for e in evs if e.type == "contact.transferred"}
    assert transfers == {"asterisk-1733130001.10-support": "300@from-internal",
                         "asterisk-1733130300.50-support": "PJSIP/300-0002"}
    assert states["asterisk-1733130100.20-support"].closed == 1733130104  # EXITWITHKEY: left, not abandoned
    assert states["asterisk-1733130100.20-support"].abandoned is None
    assert states["asterisk-1733130110.30-support"].abandoned == 1733130150
    assert states["asterisk-1733130160.40-sales"].abandoned == 1733130160
    att = states["asterisk-1733130300.50-support"]
    assert att.transfers == 1 and att.closed == 1733130400 and att.handle_ms == 98_000
    agent = [(e.subject, e.data["state"], e.data.get("reason")) for e in evs if e.type == "agent.state_changed"]
    assert agent == [
        ("PJSIP/201", "available", None), ("PJSIP/202", "away", "paused"), ("PJSIP/201", "away", "lunch"),
        ("PJSIP/201", "available", None), ("Agent/1127", "available", None), ("PJSIP/202", "away", "training"),
    ]
    assert m.ignored == {"OUTDIAL": 2, "DID": 1, "INFO": 1}
    assert m.missed_rings == {"PJSIP/202": 1}
    assert m.open_calls == 0


def test_ids_are_deterministic_and_unique():
    _, a = _map(MODERN)
    _, b = _map(MODERN)
    assert [e["id"] for e in a] == [e["id"] for e in b] and a == b
    assert len({e["id"] for e in a}) == len(a)


def test_agent_names_map_members_to_people():
    _, raw = _map(MODERN, QueueLogMapper(agent_names={"PJSIP/201": "Ana Ruiz"}))
    evs = _valid(raw)
    assert _contacts(evs)["asterisk-1733130001.10-support"].agents == ["Ana Ruiz"]
    assert any(e.subject == "Ana Ruiz" and e.type == "agent.state_changed" for e in evs)


def test_reentering_the_same_queue_is_a_new_contact():
    text = ("100|7.1|q|NONE|ENTERQUEUE||555|1\n110|7.1|q|NONE|EXITWITHTIMEOUT|1|1|10\n"
            "120|7.1|q|NONE|ENTERQUEUE||555|1\n125|7.1|q|PJSIP/1|CONNECT|5|7.2|1\n"
            "130|7.1|q|PJSIP/1|COMPLETEAGENT|5|5|1")
    _, raw = _map(text)
    states = _contacts(_valid(raw))
    assert states["asterisk-7.1-q"].abandoned == 110
    assert states["asterisk-7.1-q-2"].answered == 125 and states["asterisk-7.1-q-2"].closed == 130


def test_snapshot_restore_keeps_the_open_calls():
    lines = MODERN.splitlines()
    m1, first = _map("\n".join(lines[:5]))  # ENTERQUEUE .. CONNECT of the first call
    m2 = QueueLogMapper()
    m2.restore(m1.snapshot())
    _, rest = _map("\n".join(lines[5:]), m2)
    _, whole = _map(MODERN)
    assert first + rest == whole
    assert m2.ignored == _map(MODERN)[0].ignored  # counters travel with the snapshot


def test_reading_from_mid_call_synthesizes_created_and_answered():
    m, raw = _map("1733130090|1733130001.10|support|PJSIP/201|COMPLETECALLER|29|60|1")
    evs = _valid(raw)
    assert [e.type for e in evs] == ["contact.created", "contact.answered", "contact.closed"]
    assert evs[0].time == 1733130090 - 60 - 29 and evs[1].time == 1733130030
    assert m.synthesized == 1
    s = _contacts(evs)["asterisk-1733130001.10-support"]
    assert s.answered - s.created == 29 and s.closed == 1733130090


def test_connect_hold_time_cross_check():
    m, _ = _map("100|1.1|q|NONE|ENTERQUEUE||5|1\n130|1.1|q|PJSIP/1|CONNECT|10|1.2|1")
    assert m.hold_mismatches == 1


@pytest.mark.parametrize("line, says", [
    ("garbage", "at least 5"),
    ("abc|1.1|q|NONE|ENTERQUEUE||5|1", "epoch"),
    ("99999999999|1.1|q|NONE|ENTERQUEUE||5|1", "1970..2100"),
    ("100|1.1|q|NONE||x", "EVENT field is empty"),
    ("100|1.1|q|PJSIP/1|CONNECT|soon|1.2|1", "holdtime"),
    ("100|1.1|q|PJSIP/1|COMPLETEAGENT|5", "calltime"),
    ("100|1.1|q|NONE|CONNECT|5|1.2|1", "agent"),
    ("100|NONE|q|NONE|ENTERQUEUE||5|1", "call id"),
    ("100|1.1|q|PJSIP/1|ATTENDEDTRANSFER|WHAT|x", "ATTENDEDTRANSFER needs"),
    ("100|NONE|q|NONE|PAUSE|x", "member name"),
])
def test_malformed_lines_say_why(line, says):
    with pytest.raises(LineError, match=says):
        QueueLogMapper().map_line(line)


def test_parse_line_fields():
    line = parse_line("1733130030|1733130001.10|support|PJSIP/201|CONNECT|29|1733130027.11|3")
    assert (line.time, line.callid, line.queue, line.agent, line.verb, line.data) == (
        1733130030, "1733130001.10", "support", "PJSIP/201", "CONNECT", ("29", "1733130027.11", "3"))
