"""Mail -> events: threading, dedup, automatic mail, agents, closing (pure, no server).

Every produced event is checked against the contract (validate_obj) and folded through the real
contact state machine, so a sequence the pipeline would park or reject fails here."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.live import contact_state
from pipeline.connectors.email_threads import (
    EmailThreader, MailMessage, ThreadConfig, automatic_reason, normalise_subject, parse_headers,
)
from pipeline.schemas.validation import Rejection, validate_obj

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CONFIG = ThreadConfig.from_lists("support", "ana@acme.test=Ana, support@acme.test", "staff.acme.test")


def raw(msgid: str, sender: str, subject: str = "Invoice 42 is wrong", *, to: str = "support@acme.test",
        in_reply_to: str | None = None, references: str | None = None, extra: str = "") -> bytes:
    lines = [f"From: Someone <{sender}>", f"To: {to}", f"Subject: {subject}",
             "Date: Mon, 02 Mar 2026 09:00:00 +0000"]
    if msgid:
        lines.append(f"Message-ID: <{msgid}>")
    if in_reply_to:
        lines.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        lines.append("References: " + " ".join(f"<{r}>" for r in references.split()))
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\nbody\r\n").encode()


def msg(minutes: float, *args, **kw) -> MailMessage:
    return parse_headers(raw(*args, **kw), T0 + timedelta(minutes=minutes))


def fold(events: list[dict]) -> dict[str, contact_state.ContactState]:
    states: dict = {}
    for e in events:
        ev = validate_obj(e)
        assert not isinstance(ev, Rejection), (e, ev)
        state, outcome = contact_state.apply(states.get(ev.subject), ev)
        assert outcome.kind == "applied", (e, outcome)
        states[ev.subject] = state
    return states


def test_real_inbound_message_parses():
    # Help Scout PHP SDK fixture (tests/Payloads/original-source.txt), addresses replaced
    m = parse_headers((FIXTURES / "inbound_gmail.eml").read_bytes())
    assert m.message_id == "CAOED0cxvvDSHOV6v2nYKKD_SovaSZ6G5xYDY77KWaxoRj+9mnA@mail.gmail.com"
    assert m.sender == "customer-a@customer.example.test"
    assert m.recipients == ("support@example.test",)
    assert m.subject == "Pizza is awesome"
    assert m.time == datetime(2020, 6, 9, 13, 26, 43, tzinfo=timezone.utc)  # Date header, -0400
    assert m.automatic is None
    th = EmailThreader(ThreadConfig.from_lists("support", "support@example.test"))
    events = th.process("inbox", m, T0)
    assert [e["type"] for e in events] == ["contact.created"]
    assert events[0]["data"]["customer"] == "customer-a@customer.example.test"
    fold(events)


def test_conversation_first_response_and_replies():
    th = EmailThreader(CONFIG)
    out = []
    out += th.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0)
    out += th.process("sent", msg(30, "a1@acme.test", "ana@acme.test", "Re: Invoice 42 is wrong",
                                  to="bob@customer.test", in_reply_to="c1@x.test", references="c1@x.test"), T0)
    out += th.process("inbox", msg(45, "c2@x.test", "bob@customer.test", "Re: Invoice 42 is wrong",
                                   in_reply_to="a1@acme.test", references="c1@x.test a1@acme.test"), T0)
    # an agent of the staff domain answers from the inbox copy (Cc to the shared mailbox)
    out += th.process("inbox", msg(60, "a2@acme.test", "lea@staff.acme.test", "RE: Invoice 42 is wrong",
                                   to="bob@customer.test", in_reply_to="c2@x.test"), T0)
    assert [e["type"] for e in out] == ["contact.created", "contact.agent_replied", "contact.customer_replied",
                                        "contact.agent_replied"]
    assert {e["subject"] for e in out} == {out[0]["subject"]}
    assert out[1]["data"] == {"agent": "Ana"} and out[3]["data"] == {"agent": "lea@staff.acme.test"}
    state = fold(out)[out[0]["subject"]]
    assert state.first_response - state.created == 30 * 60
    assert state.replies == 2 and state.response_times == [1800.0, 900.0]


def test_dedup_by_message_id_and_ids_are_deterministic():
    a, b = EmailThreader(CONFIG), EmailThreader(CONFIG)
    first = a.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0)
    assert a.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0) == []
    assert a.process("sent", msg(0, "c1@x.test", "bob@customer.test"), T0) == []  # same message, 2nd folder
    assert a.counts["duplicate"] == 2
    assert b.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0) == first  # same ids elsewhere
    # restart: the state survives a JSON round trip
    import json
    c = EmailThreader(CONFIG, json.loads(json.dumps(a.to_dict())))
    assert c.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0) == []
    follow = c.process("inbox", msg(9, "c2@x.test", "bob@customer.test", "Re: x", in_reply_to="c1@x.test"), T0)
    assert [e["subject"] for e in follow] == [first[0]["subject"]]


def test_missing_message_id_gets_a_stable_synthetic_one():
    m1 = parse_headers(raw("", "bob@customer.test"))
    m2 = parse_headers(raw("", "bob@customer.test"))
    assert m1.message_id == m2.message_id and m1.message_id.endswith("@synthetic")


@pytest.mark.parametrize("header", [
    "Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated; type=vacation", "X-Autoreply: yes",
    "X-Autorespond: Out of office", "Precedence: bulk", "Precedence: auto_reply", "Precedence: list",
    "Content-Type: multipart/report; report-type=delivery-status; boundary=x",
])
def test_automatic_mail_is_neither_contact_nor_reply(header):
    th = EmailThreader(CONFIG)
    created = th.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0)
    assert th.process("inbox", msg(1, "auto1@x.test", "bob@customer.test", "Out of office",
                                   in_reply_to="c1@x.test", extra=header), T0) == []
    assert th.process("inbox", msg(2, "auto2@x.test", "news@shop.test", "Deals", extra=header), T0) == []
    assert th.process("sent", msg(3, "auto3@x.test", "ana@acme.test", "Re: Invoice 42 is wrong",
                                  in_reply_to="c1@x.test", extra=header), T0) == []
    assert th.counts["automatic"] == 3 and len(created) == 1


def test_not_automatic():
    from email import message_from_bytes
    assert automatic_reason(message_from_bytes(b"Auto-Submitted: no\r\nPrecedence: first-class\r\n\r\n")) is None
    assert automatic_reason(message_from_bytes(b"From: MAILER-DAEMON@mx.test\r\n\r\n")) is not None


def test_subject_fallback_only_for_replies_of_the_same_customer():
    th = EmailThreader(CONFIG)
    first = th.process("inbox", msg(0, "c1@x.test", "bob@customer.test", "Order 7 late"), T0)
    # a client that drops In-Reply-To: "Re:" + same customer -> same contact
    same = th.process("inbox", msg(5, "c2@x.test", "bob@customer.test", "RE: AW: order 7   LATE"), T0)
    assert same[0]["subject"] == first[0]["subject"] and same[0]["type"] == "contact.customer_replied"
    # agent reply without headers, to the customer: threads by subject + recipient
    agent = th.process("sent", msg(6, "a1@acme.test", "ana@acme.test", "Re: Order 7 late", to="bob@customer.test"), T0)
    assert agent[0]["subject"] == first[0]["subject"]
    # same subject, no reply prefix -> a new contact; another customer -> a new contact
    assert th.process("inbox", msg(7, "c3@x.test", "bob@customer.test", "Order 7 late"), T0)[0]["type"] == "contact.created"
    assert th.process("inbox", msg(8, "c4@x.test", "eve@other.test", "Re: Order 7 late"), T0)[0]["type"] == "contact.created"
    assert th.counts["threaded_by_subject"] == 2
    assert normalise_subject("Fwd: RE:  Hello\tWorld") == "hello world"


def test_unthreaded_agent_mail_is_not_a_contact_but_the_answer_is():
    th = EmailThreader(CONFIG)
    assert th.process("sent", msg(0, "out1@acme.test", "ana@acme.test", "Your renewal", to="bob@customer.test"), T0) == []
    answer = th.process("inbox", msg(10, "c1@x.test", "bob@customer.test", "Re: Your renewal", in_reply_to="out1@acme.test"), T0)
    assert [e["type"] for e in answer] == ["contact.created"]
    assert th.counts["agent_unthreaded"] == 1


def test_archive_closes_and_a_later_customer_message_reopens():
    th = EmailThreader(CONFIG)
    out = th.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0)
    out += th.process("sent", msg(20, "a1@acme.test", "ana@acme.test", "Re: x", in_reply_to="c1@x.test"), T0)
    closed_at = T0 + timedelta(minutes=30)
    out += th.process("close", msg(0, "c1@x.test", "bob@customer.test"), closed_at)
    out += th.process("close", msg(20, "a1@acme.test", "ana@acme.test", "Re: x", in_reply_to="c1@x.test"), closed_at)
    # an agent message after the close changes nothing
    out += th.process("sent", msg(31, "a2@acme.test", "ana@acme.test", "Re: x", in_reply_to="a1@acme.test"), closed_at)
    # the customer writes again, with a Date header earlier than the close (clock skew)
    out += th.process("inbox", msg(25, "c2@x.test", "bob@customer.test", "Re: x", in_reply_to="a1@acme.test"), closed_at)
    assert [e["type"] for e in out] == ["contact.created", "contact.agent_replied", "contact.closed",
                                        "contact.reopened", "contact.customer_replied"]
    assert out[2]["data"] == {"resolution": "archived"} and out[2]["time"] == "2026-03-02T09:30:00.000Z"
    state = fold(out)[out[0]["subject"]]
    assert state.reopened == 1 and not state.ended and state.wait_start is not None


def test_message_first_seen_in_archive_counts_then_closes():
    th = EmailThreader(CONFIG)
    out = th.process("close", msg(0, "c1@x.test", "bob@customer.test"), T0 + timedelta(minutes=5))
    assert [e["type"] for e in out] == ["contact.created", "contact.closed"]
    fold(out)


def test_times_never_before_creation():
    th = EmailThreader(CONFIG)
    out = th.process("inbox", msg(10, "c1@x.test", "bob@customer.test"), T0)
    out += th.process("sent", msg(5, "a1@acme.test", "ana@acme.test", "Re: x", in_reply_to="c1@x.test"), T0)
    assert out[1]["time"] == out[0]["time"]
    fold(out)


def test_prune_forgets_old_closed_contacts_only():
    th = EmailThreader(ThreadConfig.from_lists("support", "ana@acme.test", retention_days=10))
    th.process("inbox", msg(0, "old@x.test", "bob@customer.test"), T0)
    th.process("close", msg(0, "old@x.test", "bob@customer.test"), T0)
    th.process("inbox", msg(0, "open@x.test", "eve@customer.test"), T0)
    assert th.prune(T0 + timedelta(days=11)) == 1
    assert len(th.contacts) == 1 and "open@x.test" in th.messages and "old@x.test" not in th.messages


def test_archiving_an_older_message_does_not_close_when_the_customer_wrote_later():
    th = EmailThreader(CONFIG)
    out = th.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0)
    out += th.process("inbox", msg(30, "c2@x.test", "bob@customer.test", "Re: x", in_reply_to="c1@x.test"), T0)
    assert th.process("close", msg(0, "c1@x.test", "bob@customer.test"), T0 + timedelta(hours=1)) == []
    closing = th.process("close", msg(30, "c2@x.test", "bob@customer.test", "Re: x", in_reply_to="c1@x.test"),
                         T0 + timedelta(hours=1))
    assert [e["type"] for e in closing] == ["contact.closed"]
    fold(out + closing)


# --- property: whatever the order and timing of mail, the events are a legal contact history ----
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st  # noqa: E402

_STEP = st.tuples(st.sampled_from(["customer", "agent", "auto", "close", "close", "new"]),
                  st.integers(0, 2), st.integers(0, 8).map(lambda m: m * 10), st.integers(0, 8).map(lambda m: m * 10))


@hsettings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_STEP, min_size=1, max_size=25))
@example([("new", 0, 0, 0), ("close", 0, 0, 50), ("customer", 0, 60, 0), ("agent", 0, 55, 0)])
def test_any_mail_sequence_folds_legally(steps):
    th = EmailThreader(CONFIG)
    threads: dict[int, list[str]] = {}
    events: list[dict] = []
    for n, (kind, k, minute, now_minute) in enumerate(steps):
        now = T0 + timedelta(minutes=now_minute)
        msgs = threads.setdefault(k, [])
        refs = " ".join(msgs[-3:]) or None
        customer = f"cust{k}@customer.test"
        if kind == "close":
            if msgs:
                events += th.process("close", msg(minute, msgs[-1], customer, f"Re: topic {k}"), now)
            continue
        mid = f"m{n}@x.test"
        if kind == "new" or not msgs:
            m = msg(minute, mid, customer, f"topic {k}")
        elif kind == "customer":
            m = msg(minute, mid, customer, f"Re: topic {k}", in_reply_to=msgs[-1], references=refs)
        elif kind == "agent":
            m = msg(minute, mid, "ana@acme.test", f"Re: topic {k}", to=customer, in_reply_to=msgs[-1], references=refs)
        else:
            m = msg(minute, mid, customer, "Auto: away", in_reply_to=msgs[-1], extra="Auto-Submitted: auto-replied")
        msgs.append(mid)
        events += th.process("sent" if kind == "agent" else "inbox", m, now)
    fold(events)  # every event applies, in the order the connector publishes them
    assert len({e["id"] for e in events}) == len(events)


def test_a_reply_dated_between_the_close_and_the_reopen_lands_after_the_reopen():
    th = EmailThreader(CONFIG)
    ev = th.process("inbox", msg(0, "c1@x.test", "bob@customer.test"), T0)
    ev += th.process("close", msg(0, "c1@x.test", "bob@customer.test"), T0 + timedelta(minutes=50))
    ev += th.process("inbox", msg(60, "c2@x.test", "bob@customer.test", "Re: x", in_reply_to="c1@x.test"), T0)
    ev += th.process("sent", msg(55, "a1@acme.test", "ana@acme.test", "Re: x", in_reply_to="c2@x.test"), T0)
    assert [e["type"] for e in ev] == ["contact.created", "contact.closed", "contact.reopened",
                                       "contact.customer_replied", "contact.agent_replied"]
    assert fold(ev)[ev[0]["subject"]].replies == 1
