"""The IMAP adapter against a real dovecot (tests/dovecot.py): TLS / STARTTLS, BODY.PEEK, the
checkpoint (restart, UIDVALIDITY change, crash before publish), IDLE, a server that goes away,
a wrong password. Events go to a list here; tests/system/test_imap_connector.py goes through Kafka."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.connectors.email_threads import ThreadConfig
from pipeline.connectors.imap_mailbox import (
    ImapAuthError, ImapConfig, ImapConnector, ImapSettingError, checkpoint_path,
)
from tests.system.stack import wait_for

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)


def mail(msgid: str, sender: str, subject: str = "Broken login", to: str = "support@acme.test",
         in_reply_to: str | None = None, extra: str = "") -> bytes:
    head = [f"From: <{sender}>", f"To: <{to}>", f"Subject: {subject}", f"Message-ID: <{msgid}>",
            "Date: Mon, 02 Mar 2026 09:00:00 +0000"]
    if in_reply_to:
        head += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    if extra:
        head.append(extra)
    return ("\r\n".join(head) + "\r\n\r\nHello\r\n").encode()


@pytest.fixture
def mailbox(dovecot, tmp_path):
    user = dovecot.add_user()
    sink: list[dict] = []

    def make(**kw) -> ImapConnector:
        cfg = dict(host="127.0.0.1", port=dovecot.port, security="starttls", ca_file=dovecot.cert,
                   user=user, password=dovecot.password,
                   threads=ThreadConfig.from_lists("support", "ana@acme.test=Ana"),
                   state_path=checkpoint_path(tmp_path, user, "127.0.0.1", dovecot.port), poll_s=0.5)
        cfg.update(kw)
        return ImapConnector(ImapConfig(**cfg), sink.extend)

    return user, sink, make


def sync(conn: ImapConnector) -> int:
    client = conn.connect()
    try:
        conn.resolve_folders(client)
        return conn.sync_once(client)
    finally:
        client.logout()


def test_reads_mail_without_touching_flags_and_restarts_where_it_stopped(dovecot, mailbox):
    user, sink, make = mailbox
    dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test"), T0, user)
    dovecot.deliver("Sent", mail("a1@acme.test", "ana@acme.test", "Re: Broken login", "bob@customer.test",
                                 in_reply_to="c1@x.test"), T0 + timedelta(minutes=15), user)
    conn = make()
    assert sync(conn) == 2
    assert [e["type"] for e in sink] == ["contact.created", "contact.agent_replied"]
    assert sink[0]["time"] == T0.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # INTERNALDATE, not the Date header
    assert conn.roles == {"INBOX": "inbox", "Sent": "sent", "Archive": "close"}  # special-use flags
    client = dovecot.client(user)
    client.select_folder("INBOX", readonly=True)
    assert all(b"\\Seen" not in f for f in client.get_flags(client.search(["ALL"])).values())
    client.logout()
    assert sync(conn) == 0
    restarted = make()  # a new process: same checkpoint file
    assert sync(restarted) == 0
    dovecot.deliver("INBOX", mail("c2@x.test", "bob@customer.test", "Re: Broken login", in_reply_to="a1@acme.test"),
                    T0 + timedelta(minutes=30), user)
    assert sync(restarted) == 1 and sink[-1]["type"] == "contact.customer_replied"
    assert len({e["id"] for e in sink}) == 3


def test_uidvalidity_change_resyncs_counting_each_message_once(dovecot, mailbox, caplog):
    user, sink, make = mailbox
    for i in range(3):
        dovecot.deliver("INBOX", mail(f"c{i}@x.test", f"cust{i}@customer.test"), T0 + timedelta(minutes=i), user)
    conn = make()
    assert sync(conn) == 3
    dovecot.set_uidvalidity("INBOX", 4242, user)
    dovecot.deliver("INBOX", mail("c9@x.test", "new@customer.test"), T0 + timedelta(minutes=9), user)
    with caplog.at_level(logging.WARNING, "tablero.imap"):
        assert sync(conn) == 1
    assert "UIDVALIDITY changed" in caplog.text
    assert sink[-1]["data"]["customer"] == "new@customer.test" and len(sink) == 4
    assert conn.checkpoint.folders["INBOX"]["uidvalidity"] == 4242


def test_crash_before_publish_republishes_the_same_events(dovecot, mailbox):
    user, sink, make = mailbox
    dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test"), T0, user)
    conn = make()
    conn.publish = lambda events: (_ for _ in ()).throw(ConnectionError("Kafka away"))
    with pytest.raises(Exception, match="Kafka away"):
        sync(conn)
    assert sink == [] and len(conn.checkpoint.outbox) == 1
    lost = conn.checkpoint.outbox[0]
    again = make()  # restart: the outbox goes out first, nothing is fetched twice
    stop = threading.Event()
    worker = threading.Thread(target=again.run, args=(stop,), daemon=True)
    worker.start()
    try:
        wait_for(lambda: again.cycles >= 2, timeout=30, what="two cycles")
    finally:
        stop.set()
        worker.join(30)
    assert sink == [lost]


def test_archive_move_closes(dovecot, mailbox):
    user, sink, make = mailbox
    dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test"), T0, user)
    conn = make()
    sync(conn)
    client = dovecot.client(user)
    client.select_folder("INBOX")
    client.move(client.search(["ALL"]), "Archive")
    client.logout()
    assert sync(conn) == 1
    assert sink[-1]["type"] == "contact.closed" and sink[-1]["subject"] == sink[0]["subject"]


def test_idle_wakes_up_on_new_mail_and_tls_port(dovecot, mailbox):
    user, sink, make = mailbox
    # poll every hour: only IDLE can bring the message in within the test's deadline
    conn = make(security="tls", port=dovecot.tls_port, poll_s=3600)
    stop = threading.Event()
    worker = threading.Thread(target=conn.run, args=(stop,), daemon=True)
    worker.start()
    try:
        wait_for(lambda: conn.cycles >= 1, timeout=30, what="first cycle")
        dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test"), T0, user)
        wait_for(lambda: sink, timeout=60, what="IDLE brought the message")
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    assert [e["type"] for e in sink] == ["contact.created"]


def test_polling_without_idle(dovecot, mailbox):
    user, sink, make = mailbox
    conn = make(use_idle=False, poll_s=0.5)
    stop = threading.Event()
    worker = threading.Thread(target=conn.run, args=(stop,), daemon=True)
    worker.start()
    try:
        wait_for(lambda: conn.cycles >= 1, timeout=30, what="first cycle")
        dovecot.deliver("Sent", mail("out@acme.test", "ana@acme.test", "Renewal", "bob@customer.test"), T0, user)
        dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test", "Re: Renewal", in_reply_to="out@acme.test"),
                        T0 + timedelta(minutes=1), user)
        wait_for(lambda: sink, timeout=60, what="a poll brought the message")
    finally:
        stop.set()
        worker.join(30)
    assert [e["type"] for e in sink] == ["contact.created"]


def test_server_away_is_retried_then_caught_up(dovecot, mailbox, caplog):
    user, sink, make = mailbox
    conn = make(poll_s=0.5, retry_max_s=2)
    stop = threading.Event()
    worker = threading.Thread(target=conn.run, args=(stop,), daemon=True)
    try:
        with caplog.at_level(logging.WARNING, "tablero.imap"):
            worker.start()
            wait_for(lambda: conn.cycles >= 1, timeout=30, what="first cycle")
            dovecot.stop()
            wait_for(lambda: "unreachable or dropped the connection" in caplog.text, timeout=60,
                     what="the retry log line")
            dovecot.start()
            dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test"), T0, user)
            wait_for(lambda: sink, timeout=90, what="caught up after the server came back")
    finally:
        stop.set()
        worker.join(60)
    assert [e["type"] for e in sink] == ["contact.created"]


def test_wrong_password_names_the_setting(mailbox):
    _, _, make = mailbox
    conn = make(password="wrong")
    with pytest.raises(ImapAuthError) as err:
        conn.run(threading.Event())
    assert "TABLERO_IMAP_PASSWORD" in str(err.value) and "\n" not in str(err.value)


def test_backlog_read_in_parts_threads_replies_across_folders(dovecot, mailbox):
    user, sink, make = mailbox
    for i in range(4):  # customers' messages and agents' replies interleaved in time, two folders
        t = T0 + timedelta(minutes=10 * i)
        dovecot.deliver("INBOX", mail(f"c{i}@x.test", f"cust{i}@customer.test"), t, user)
        dovecot.deliver("Sent", mail(f"a{i}@acme.test", "ana@acme.test", "Re: Broken login", f"cust{i}@customer.test",
                                     in_reply_to=f"c{i}@x.test"), t + timedelta(minutes=5), user)
    conn = make()
    client = conn.connect()
    try:
        conn.resolve_folders(client)
        cycles = 0
        while True:
            conn.sync_once(client, max_per_folder=1)
            cycles += 1
            if not conn.last_read:
                break
    finally:
        client.logout()
    assert cycles > 4
    assert conn.threader.counts == {"created": 4, "agent_replied": 4}
    assert sorted(e["type"] for e in sink) == ["contact.agent_replied"] * 4 + ["contact.created"] * 4


@pytest.mark.parametrize("setting,change", [
    ("TABLERO_IMAP_INBOX", {"inbox": "Inbx"}), ("TABLERO_IMAP_SENT_FOLDER", {"sent_folder": "Gesendet"}),
    ("TABLERO_IMAP_CLOSE_FOLDERS", {"close_folders": ("Archive", "Done")}),
    ("TABLERO_IMAP_CA_FILE", {"ca_file": None}),  # dovecot's test certificate is self-signed
    ("TABLERO_IMAP_CA_FILE", {"ca_file": None, "security": "tls", "port": "tls"}),
])
def test_settings_that_cannot_work_stop_with_one_line(dovecot, mailbox, setting, change):
    _, _, make = mailbox
    if change.get("port") == "tls":
        change = {**change, "port": dovecot.tls_port}
    with pytest.raises(ImapSettingError) as err:
        make(**change).run(threading.Event())
    assert setting in str(err.value) and "\n" not in str(err.value)


def test_mail_gone_before_it_was_read_does_not_keep_the_connector_busy(dovecot, mailbox):
    user, sink, make = mailbox
    conn = make()
    assert sync(conn) == 0
    dovecot.deliver("INBOX", mail("c1@x.test", "bob@customer.test"), T0, user)
    client = dovecot.client(user)
    client.select_folder("INBOX")
    client.delete_messages(client.search(["ALL"]))
    client.expunge()
    client.logout()
    assert sync(conn) == 0 and sink == []
    assert conn.checkpoint.folders["INBOX"]["last_uid"] == 1  # skipped past the vanished UID
