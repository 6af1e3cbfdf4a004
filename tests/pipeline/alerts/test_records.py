"""Topic records, the book and the delivery bookkeeping (pure)."""
from __future__ import annotations

from pipeline.alerts import records
from pipeline.alerts.engine import Episode
from pipeline.alerts.payload import body, document, title

T0 = 1_800_000_000.0


def episode(**kw) -> Episode:
    base = dict(id="ep1", rule="deep", kind="queue", scope={"queue": "sales", "channel": "voice"},
                scope_key="queue:sales/voice", severity="warning", metric="waiting", op=">", threshold=5,
                value=9, started_at=T0, fired_at=T0 + 1, notify=["webhook:http://127.0.0.1:9/a", "email:x@y.z"])
    base.update(kw)
    return Episode(**base)


def test_resolved_never_overtakes_firing_per_target_and_backoff_doubles():
    ep = episode()
    records.add_notifications(ep, "firing", T0)
    records.add_notifications(ep, "resolved", T0 + 5)
    assert records.due_notifications(ep, T0 + 10) == [0, 1]
    assert records.record_attempt(ep, 0, "503", T0 + 10, max_attempts=3, base_s=2, cap_s=5) == "retry"
    assert ep.notifications[0]["next_at"] == T0 + 12
    assert records.due_notifications(ep, T0 + 11) == [1]         # webhook firing waits, resolved behind it
    assert records.record_attempt(ep, 0, "503", T0 + 12, max_attempts=3, base_s=2, cap_s=5) == "retry"
    assert ep.notifications[0]["next_at"] == T0 + 16               # 2 s, then 4 s
    assert records.record_attempt(ep, 0, "503", T0 + 16, max_attempts=3, base_s=2, cap_s=5) == "undeliverable"
    assert records.due_notifications(ep, T0 + 16) == [1, 2]        # final: the resolved one may go
    assert records.backoff_s(10, 2, 300) == 300
    assert records.record_attempt(ep, 1, None, T0 + 17, max_attempts=3, base_s=2, cap_s=5) == "delivered"
    assert not records.finished(ep)


def test_book_keeps_the_newest_rev_and_shows_pending_acks():
    book = records.Book()
    ep = episode(rev=2)
    book.apply(records.episode_key("ep1"), records.encode_episode(ep, "fired", T0))
    older = episode(rev=1, value=1)
    book.apply(records.episode_key("ep1"), records.encode_episode(older, "fired", T0))
    assert book.episodes["ep1"].value == 9
    book.apply(records.ack_key("ep1"), records.encode_ack("sam", T0 + 3))
    book.apply(records.ack_key("ep1"), records.encode_ack("kim", T0 + 4))
    assert book.view(book.episodes["ep1"])["acked_by"] == "sam"
    assert [e.id for e in book.active()] == ["ep1"]
    book.apply(records.episode_key("ep1"), None)
    assert book.episodes == {} and book.acks == {}
    book.apply(records.episode_key("bad"), b"not json")
    assert book.episodes == {}


def test_texts_and_document():
    ep = episode(kind="untouched", metric="untouched", op=">=", threshold=86400, value=90000,
                 scope={"contact": "m-1", "agent": "ana", "queue": "support-email", "channel": "email"},
                 escalate_to="second-line")
    d = document(ep, "firing")
    assert d["contacts"] == ["m-1"] and d["escalate_to"] == "second-line" and d["state"] == "firing"
    assert d["started_at"] == "2027-01-15T08:00:00Z"
    assert title(ep, "firing") == "[WARNING] deep: contact m-1 (agent ana) in support-email/email"
    assert "no agent activity for 25.0 h (limit 24 h)" in body(ep, "firing")
    assert "Escalate to: second-line." in body(ep, "firing")
    assert title(episode(), "resolved", test=True).startswith("TEST [RESOLVED] deep: queue sales/voice")
