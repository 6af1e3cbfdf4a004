"""IMAP connector throughput: messages/s reading a 10,000-message mailbox from a real dovecot.

`python -m bench.imap_connector [--n 10000] [--kafka host:port]`

The mailbox (written straight into dovecot's Maildirs, INTERNALDATE = file time): threads of a
customer message in INBOX and an agent reply in Sent, a third of them with a customer follow-up,
plus auto-replies (5 %). The connector reads it from a fresh checkpoint the way `tablero connect
imap --once` does (header fetch with BODY.PEEK in chunks of 500, threading, checkpoint with
outbox, publish). The sink is a no-op unless --kafka is given (then the real Kafka publisher of
the command, acks=all, to a fresh topic). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.connectors.email_threads import ThreadConfig  # noqa: E402
from pipeline.connectors.imap_mailbox import ImapConfig, ImapConnector  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402


def _message(msgid: str, sender: str, to: str, subject: str, refs: tuple[str, ...] = (), extra: str = "") -> bytes:
    head = [f"Return-Path: <{sender}>", "Received: from mx.example.test by imap.example.test; Mon, 2 Mar 2026 09:00:00 +0000",
            f"From: Someone <{sender}>", f"To: <{to}>", f"Subject: {subject}", f"Message-ID: <{msgid}>",
            "Date: Mon, 2 Mar 2026 09:00:00 +0000", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    if refs:
        head += [f"In-Reply-To: <{refs[-1]}>", "References: " + " ".join(f"<{r}>" for r in refs)]
    if extra:
        head.append(extra)
    return ("\r\n".join(head) + "\r\n\r\n" + "Hello, this is the body of the message.\r\n" * 20).encode()


def populate(dovecot: Dovecot, n: int, start: datetime) -> dict[str, int]:
    client = dovecot.client()
    for folder in ("INBOX", "Sent", "Archive"):
        client.select_folder(folder)  # dovecot creates the Maildirs
    client.logout()
    base = dovecot.root / "mail" / dovecot.user
    dirs = {"INBOX": base / "new", "Sent": base / ".Sent" / "new"}
    counts = {"INBOX": 0, "Sent": 0}
    uid = os.stat(base).st_uid
    gid = os.stat(base).st_gid
    written = 0
    thread = 0
    while written < n:
        t = start + timedelta(minutes=thread)
        customer = f"customer{thread % 3000}@example.test"
        c1, a1 = f"c{thread}@customer.test", f"a{thread}@acme.test"
        items = [("INBOX", t, _message(c1, customer, "support@acme.test", f"Question {thread}")),
                 ("Sent", t + timedelta(minutes=20), _message(a1, "ana@acme.test", customer, f"Re: Question {thread}", (c1,)))]
        if thread % 3 == 0:
            items.append(("INBOX", t + timedelta(minutes=40),
                          _message(f"c{thread}b@customer.test", customer, "support@acme.test", f"Re: Question {thread}", (c1, a1))))
        if thread % 20 == 0:
            items.append(("INBOX", t + timedelta(minutes=21),
                          _message(f"auto{thread}@customer.test", customer, "ana@acme.test", "Out of office", (a1,),
                                   "Auto-Submitted: auto-replied")))
        for folder, when, raw in items:
            if written >= n:
                break
            path = dirs[folder] / f"{int(when.timestamp())}.M{written}P1.bench"
            path.write_bytes(raw)
            os.utime(path, (when.timestamp(), when.timestamp()))
            if os.geteuid() == 0:
                os.chown(path, uid, gid)
            counts[folder] += 1
            written += 1
        thread += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--kafka", default="", help="bootstrap servers: publish for real (fresh topic)")
    args = ap.parse_args(argv)

    dovecot = Dovecot()
    dovecot.start()
    state_dir = Path(tempfile.mkdtemp(prefix="bench-imap-"))
    try:
        start = datetime.now(timezone.utc) - timedelta(days=30)
        t0 = time.monotonic()
        folders = populate(dovecot, args.n, start)
        populate_s = time.monotonic() - t0
        published = [0]
        close = None
        if args.kafka:
            from pipeline.commands.connect_imap import kafka_publisher
            from pipeline.settings import load_settings
            publish = kafka_publisher(load_settings(kafka=args.kafka, kafka_namespace=f"bench-imap-{uuid.uuid4().hex[:8]}"))
            close = publish.close
        else:
            def publish(events: list[dict]) -> None:
                published[0] += len(events)
        config = ImapConfig(host="127.0.0.1", port=dovecot.port, security="none", user=dovecot.user,
                            password=dovecot.password, state_path=state_dir / "checkpoint.json",
                            threads=ThreadConfig.from_lists("support", "ana@acme.test=Ana"))
        connector = ImapConnector(config, publish)
        t0 = time.monotonic()
        client = connector.connect()
        connector.resolve_folders(client)
        cycles = 0
        while True:
            connector.sync_once(client)
            cycles += 1
            if not connector.last_read:
                break
        client.logout()
        seconds = time.monotonic() - t0
        if close:
            close()
        result = {
            "messages": connector.messages_read, "folders": folders, "events": connector.events_published,
            "seconds": round(seconds, 2), "messages_per_s": round(connector.messages_read / seconds, 1),
            "cycles": cycles, "sink": "kafka" if args.kafka else "none",
            "checkpoint_bytes": config.state_path.stat().st_size, "populate_s": round(populate_s, 1),
            "counts": connector.threader.counts,
        }
        print(json.dumps(result))
        return 0
    finally:
        dovecot.cleanup()
        import shutil
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
