"""Issue 13 end to end: a real dovecot mailbox read by `tablero connect imap` (a subprocess) and
Help Scout webhooks over HTTP, into a whole `tablero up`, checked in the reports.

Mailbox story: a customer writes, an agent answers from the sent folder 15 minutes later; the
connector stops; the customer follows up, an auto-reply arrives, a second customer writes; the
connector starts again; the inbox's UIDVALIDITY changes and a third customer writes; the first
customer's thread is archived. Expected: 3 contacts, 1 reply, first response 900 s, 1 closed,
and exactly 6 events (nothing repeated by the restart or the resync)."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from pipeline.connectors.helpscout import signature
from tests.dovecot import Dovecot
from tests.system.stack import ROOT, Stack, wait_for

SECRET = "helpscout-system-test-secret"
FIXTURES = ROOT / "tests" / "pipeline" / "connectors" / "fixtures"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
T = NOW - dt.timedelta(hours=3)
RANGE = {"from": (NOW - dt.timedelta(days=2)).date().isoformat(), "to": NOW.date().isoformat()}


def mail(msgid: str, sender: str, subject: str, *, refs: tuple[str, ...] = (), to: str = "support@acme.test",
         extra: str = "") -> bytes:
    head = [f"From: <{sender}>", f"To: <{to}>", f"Subject: {subject}", f"Message-ID: <{msgid}>",
            "Date: " + T.strftime("%a, %d %b %Y %H:%M:%S +0000")]
    if refs:
        head += [f"In-Reply-To: <{refs[-1]}>", "References: " + " ".join(f"<{r}>" for r in refs)]
    if extra:
        head.append(extra)
    return ("\r\n".join(head) + "\r\n\r\nHello\r\n").encode()


class Connector:
    def __init__(self, stack: Stack, dovecot: Dovecot, password_file: Path):
        self.env = stack.env()
        self.env.update({
            "TABLERO_IMAP_HOST": "127.0.0.1", "TABLERO_IMAP_PORT": str(dovecot.port), "TABLERO_IMAP_SECURITY": "none",
            "TABLERO_IMAP_USER": dovecot.user, "TABLERO_IMAP_PASSWORD_FILE": str(password_file),
            "TABLERO_IMAP_QUEUE": "support-mail", "TABLERO_IMAP_AGENT_ADDRESSES": "ana@acme.test=Ana",
            "TABLERO_IMAP_POLL_S": "1"})
        self.env.pop("TABLERO_IMAP_PASSWORD", None)
        self.log_dir = stack.data_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"imap-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "connect", "imap"], env=self.env,
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def log(self) -> str:
        return "\n".join((self.log_dir / f"imap-{i}.log").read_text(errors="replace")
                         for i in range(1, self.starts + 1))


def conversations(stack: Stack, queue: str) -> dict:
    r = stack.get("/api/v1/reports/conversations", queue=queue, **RANGE)
    assert r.status_code == 200, r.text
    return r.json()


def webhook(stack: Stack, event: str, body: dict, secret: str = SECRET) -> httpx.Response:
    raw = json.dumps(body).encode()
    return httpx.post(stack.url + "/api/v1/connectors/helpscout", content=raw, timeout=30, headers={
        "Content-Type": "application/json", "X-HelpScout-Event": event,
        "X-HelpScout-Signature": signature(raw, secret)})


def test_mailbox_and_helpscout_into_the_reports(kafka_bootstrap, tmp_path):
    dovecot = Dovecot()
    dovecot.start()
    stack = Stack(kafka_bootstrap, tmp_path / "stack", extra_env={"TABLERO_HELPSCOUT_SECRET": SECRET})
    connector = None
    try:
        stack.start()
        password_file = tmp_path / "imap-password"
        password_file.write_text("wrong\n")
        connector = Connector(stack, dovecot, password_file)
        bad = subprocess.run([sys.executable, "-m", "pipeline.cli", "connect", "imap"], env=connector.env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        errors = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
        assert bad.returncode == 2 and len(errors) == 1 and "TABLERO_IMAP_PASSWORD" in errors[0], bad.stderr
        password_file.write_text(dovecot.password + "\n")

        # 1. a customer writes, an agent answers from the sent folder 15 minutes later
        dovecot.deliver("INBOX", mail("c1@bob.test", "bob@customer.test", "Card blocked"), T)
        dovecot.deliver("Sent", mail("a1@acme.test", "ana@acme.test", "Re: Card blocked", refs=("c1@bob.test",),
                                     to="bob@customer.test"), T + dt.timedelta(minutes=15))
        connector.start()
        wait_for(lambda: conversations(stack, "support-mail")["replies"] == 1, timeout=120,
                 what=f"first contact and reply; connector log: {connector.log()}")

        # 2. the connector stops; mail keeps arriving; it starts again
        connector.stop()
        dovecot.deliver("INBOX", mail("auto1@bob.test", "bob@customer.test", "Automatic reply: Card blocked",
                                      refs=("c1@bob.test", "a1@acme.test"), extra="Auto-Submitted: auto-replied"),
                        T + dt.timedelta(minutes=16))
        dovecot.deliver("INBOX", mail("c2@bob.test", "bob@customer.test", "Re: Card blocked",
                                      refs=("c1@bob.test", "a1@acme.test")), T + dt.timedelta(minutes=30))
        dovecot.deliver("INBOX", mail("c3@eve.test", "eve@customer.test", "Address change"), T + dt.timedelta(minutes=40))
        connector.start()
        wait_for(lambda: conversations(stack, "support-mail")["conversations"] == 2, timeout=120,
                 what=f"second contact after the restart; connector log: {connector.log()}")

        # 3. the inbox's UIDVALIDITY changes (a rebuilt mailbox); a third customer writes
        dovecot.set_uidvalidity("INBOX", 777)
        dovecot.deliver("INBOX", mail("c4@carl.test", "carl@customer.test", "Refund"), T + dt.timedelta(minutes=50))
        wait_for(lambda: conversations(stack, "support-mail")["conversations"] == 3, timeout=120,
                 what=f"third contact after the resync; connector log: {connector.log()}")

        # 4. the first customer's thread is archived: the contact closes
        client = dovecot.client()
        client.select_folder("INBOX")
        bob = client.search(["FROM", "bob@customer.test"])
        assert client.get_flags(bob) and all(b"\\Seen" not in f for f in client.get_flags(bob).values())
        client.move(bob, "Archive")
        client.logout()
        report = wait_for(lambda: (r := conversations(stack, "support-mail"))["closed"] == 1 and r, timeout=120,
                          what=f"archived contact closed; connector log: {connector.log()}")
        assert report["conversations"] == 3 and report["customers"] == 3
        assert report["replies"] == 1
        assert report["first_response_s"]["count"] == 1 and report["first_response_s"]["mean"] == 900
        assert report["response_time_s"]["count"] == 1  # the follow-up still waits for an answer

        # 5. Help Scout over HTTP: a bad signature is refused, good ones land
        convo = json.loads((FIXTURES / "helpscout_conversation.json").read_text())
        convo.update(status="active", createdAt=(T + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert webhook(stack, "convo.created", convo, secret="wrong").status_code == 401
        assert webhook(stack, "helpscout.test", {"id": 1}).status_code == 200
        assert webhook(stack, "convo.created", convo).status_code == 200
        reply = dict(convo)
        reply["_embedded"] = {"threads": [{"id": 9001, "type": "reply", "createdBy": {
            "id": 1, "type": "user", "email": "agent.two@example.test"},
            "createdAt": (T + dt.timedelta(hours=1, minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")}]}
        assert webhook(stack, "convo.agent.reply.created", reply).status_code == 200
        assert webhook(stack, "convo.note.created", convo).json()["outcome"] == "ignored"
        hs = wait_for(lambda: (r := conversations(stack, "mailbox-85"))["replies"] == 1 and r, timeout=120,
                      what="Help Scout contact and reply")
        assert hs["conversations"] == 1 and hs["first_response_s"]["mean"] == 600

        # nothing counted twice: 6 mailbox events (restart and resync repeated none) + 2 Help Scout ones
        rows = wait_for(lambda: (s := stack.status()["clickhouse"]["rows"]).get("events", 0) >= 8 and s,
                        timeout=60, what="events landed")
        assert rows["events"] == 8
        assert "UIDVALIDITY changed" in connector.log()
    finally:
        if connector:
            connector.stop()
        stack.stop()
        dovecot.cleanup()
