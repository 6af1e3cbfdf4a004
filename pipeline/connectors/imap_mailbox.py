"""IMAP adapter of the email connector (thin: the rules are in email_threads.py).

Loop: connect (TLS, STARTTLS or plain) and log in -> resolve folders (sent = the \\Sent
special-use folder unless configured; close folders = the \\Archive one unless configured) ->
every cycle, for each folder: SELECT read-only (EXAMINE), compare UIDVALIDITY with the
checkpoint, FETCH the new UIDs' header fields with BODY.PEEK (flags never change) and INTERNALDATE
-> threader -> publish -> checkpoint. Between cycles: IDLE on the inbox (left and re-entered at
least every `idle_renew_s`, under the 29 minutes RFC 2177 allows; the other folders are looked
at every `poll_s`), or plain polling every `poll_s` when the server has no IDLE.

Checkpoint (one JSON file per mailbox in the data directory, replaced atomically): per folder
UIDVALIDITY and the last UID read, the threader's state, and an *outbox*. A cycle writes the
advanced checkpoint together with the cycle's events in the outbox, then publishes them, then
empties the outbox. A crash before the publish is acknowledged re-publishes exactly the same
events at the next start (same ids, same bytes: the pipeline counts them once); nothing is
fetched twice and nothing read is lost.

UIDVALIDITY change (a rebuilt or restored mailbox): the folder is read again from UID 1 and every
message already counted is skipped by its Message-ID. For a close folder the position restarts
at its current end instead (re-reading an archive would close contacts that were reopened since).
The first start reads the inbox and sent folder from the beginning and a close folder from its
current end.

Errors: a rejected login raises ImapAuthError naming the setting, a folder that does not exist
or an untrusted certificate ImapSettingError (the command prints one line and exits); a server that goes away or drops the connection is retried with backoff (1 s doubling
to `retry_max_s`, 60 s) and one log line per attempt; a publish failure keeps the outbox and is retried the same way.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from pipeline.connectors.email_threads import HEADER_FIELDS, EmailThreader, ThreadConfig, parse_headers

log = logging.getLogger("tablero.imap")

FETCH_CHUNK = 500          # UIDs per FETCH
MAX_PER_CYCLE = 5000       # new messages per folder per cycle (a backlog is read over several cycles)
_HEADER_ITEM = "BODY.PEEK[HEADER.FIELDS (" + " ".join(f.upper() for f in HEADER_FIELDS) + ")]"


class ImapAuthError(RuntimeError):
    """The server rejected the login; the message names the settings to fix."""


class ImapSettingError(ImapAuthError):
    """A setting that cannot work (a folder that does not exist, a certificate not trusted)."""


class PublishError(RuntimeError):
    """The event sink did not take the events; the outbox keeps them."""


@dataclass
class ImapConfig:
    host: str
    user: str
    password: str
    threads: ThreadConfig
    state_path: Path
    port: int = 993
    security: str = "tls"                 # tls | starttls | none
    inbox: str = "INBOX"
    sent_folder: str = ""                 # "" = the \Sent special-use folder
    close_folders: tuple[str, ...] = ()   # () = the \Archive special-use folder
    poll_s: float = 30.0
    idle_renew_s: float = 24 * 60.0
    ca_file: Path | None = None
    timeout_s: float = 60.0
    use_idle: bool = True
    retry_max_s: float = 60.0


@dataclass
class Checkpoint:
    path: Path
    folders: dict = field(default_factory=dict)   # name -> {"uidvalidity": int, "last_uid": int}
    threads: dict = field(default_factory=dict)
    outbox: list = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "Checkpoint":
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise RuntimeError(f"IMAP checkpoint {path} is unreadable ({exc}); move it away to start over "
                               "(messages already counted are then counted again)") from None
        return cls(path, data.get("folders", {}), data.get("threads", {}), data.get("outbox", []))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": 1, "folders": self.folders, "threads": self.threads,
                              "outbox": self.outbox}, separators=(",", ":")).encode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def checkpoint_path(data_dir: Path, user: str, host: str, port: int) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "@.-_" else "_" for ch in f"{user}@{host}-{port}")
    return Path(data_dir) / "imap" / f"{safe}.json"


class ImapConnector:
    def __init__(self, config: ImapConfig, publish: Callable[[list[dict]], None],
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.config = config
        self.publish = publish
        self.clock = clock
        self.checkpoint = Checkpoint.load(config.state_path)
        self.threader = EmailThreader(config.threads, self.checkpoint.threads)
        self.roles: dict[str, str] = {}     # folder -> inbox | sent | close
        self.messages_read = 0
        self.last_read = 0                  # messages read by the last cycle
        self.events_published = 0
        self.cycles = 0

    # -- connection -----------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        return ctx

    def connect(self) -> IMAPClient:
        c = self.config
        try:
            client = IMAPClient(c.host, port=c.port, ssl=c.security == "tls",
                                ssl_context=self._ssl_context() if c.security != "none" else None,
                                timeout=c.timeout_s)
        except ssl.SSLCertVerificationError as exc:
            raise ImapSettingError(
                f"the certificate of {c.host}:{c.port} is not trusted ({exc.verify_message}): set "
                "TABLERO_IMAP_CA_FILE to the CA that signed it") from None
        try:
            if c.security == "starttls":
                client.starttls(self._ssl_context())
            client.login(c.user, c.password)
        except ssl.SSLCertVerificationError as exc:
            _quiet_logout(client)
            raise ImapSettingError(
                f"the certificate of {c.host}:{c.port} is not trusted ({exc.verify_message}): set "
                "TABLERO_IMAP_CA_FILE to the CA that signed it") from None
        except LoginError as exc:
            _quiet_logout(client)
            reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else exc
            raise ImapAuthError(
                f"IMAP login as {c.user!r} at {c.host}:{c.port} rejected ({reason}): check "
                "TABLERO_IMAP_PASSWORD (or TABLERO_IMAP_PASSWORD_FILE) and TABLERO_IMAP_USER") from None
        except BaseException:
            _quiet_logout(client)
            raise
        client.normalise_times = False
        return client

    def resolve_folders(self, client: IMAPClient) -> None:
        c = self.config
        for folder, setting in [(c.inbox, "TABLERO_IMAP_INBOX"), (c.sent_folder, "TABLERO_IMAP_SENT_FOLDER"),
                                *((f, "TABLERO_IMAP_CLOSE_FOLDERS") for f in c.close_folders)]:
            if folder and not client.folder_exists(folder):
                names = ", ".join(str(name) for _, _, name in client.list_folders())
                raise ImapSettingError(f"{setting}: folder {folder!r} does not exist on {c.host} (folders: {names})")
        roles = {c.inbox: "inbox"}
        sent = c.sent_folder or client.find_special_folder(b"\\Sent")
        if sent:
            roles.setdefault(sent, "sent")
        else:
            log.warning("no \\Sent special-use folder on %s: set TABLERO_IMAP_SENT_FOLDER; until then only "
                        "messages from agent addresses in %s count as agent replies", c.host, c.inbox)
        close = list(c.close_folders)
        if not close:
            archive = client.find_special_folder(b"\\Archive")
            if archive:
                close = [archive]
        for folder in close:
            roles.setdefault(folder, "close")
        if not close:
            log.warning("no close folder: set TABLERO_IMAP_CLOSE_FOLDERS (e.g. Archive); contacts are then never closed")
        self.roles = roles

    # -- one cycle ------------------------------------------------------------------------------
    def _new_uids(self, client: IMAPClient, folder: str, role: str) -> list[int]:
        status = client.select_folder(folder, readonly=True)
        uidvalidity = int(status[b"UIDVALIDITY"])
        uidnext = int(status.get(b"UIDNEXT") or 0)
        cp = self.checkpoint.folders.get(folder)
        if cp is None or cp["uidvalidity"] != uidvalidity:
            if cp is not None:
                log.warning("%s: UIDVALIDITY changed (%s -> %s): %s", folder, cp["uidvalidity"], uidvalidity,
                            "reading it again from the start; messages already counted are skipped by Message-ID"
                            if role != "close" else "continuing from its current end")
            start = max(uidnext - 1, 0) if role == "close" else 0
            if role == "close" and not uidnext:
                found = client.search(["ALL"])
                start = max(found) if found else 0
            cp = self.checkpoint.folders[folder] = {"uidvalidity": uidvalidity, "last_uid": start}
        if uidnext and uidnext <= cp["last_uid"] + 1:
            return []
        uids = [u for u in client.search(["UID", f"{cp['last_uid'] + 1}:*"]) if u > cp["last_uid"]]
        if not uids and uidnext:
            # the messages between were moved or deleted before they were read; UIDs are never
            # reused, so skip past them (else the inbox would look as if it had new mail forever)
            cp["last_uid"] = uidnext - 1
        return sorted(uids)

    def _fetch(self, client: IMAPClient, uids: list[int]) -> list[tuple[int, object]]:
        out = []
        for i in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[i:i + FETCH_CHUNK]
            for uid, item in client.fetch(chunk, [_HEADER_ITEM, "INTERNALDATE"]).items():
                header = next((v for k, v in item.items() if k.startswith(b"BODY[")), b"") or b""
                when = item.get(b"INTERNALDATE")
                if isinstance(when, datetime) and when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc)
                out.append((uid, parse_headers(header, when)))
        return out

    def sync_once(self, client: IMAPClient, max_per_folder: int | None = None) -> int:
        """Read every folder's new messages, publish their events. Returns events published.

        A folder with more than `max_per_folder` new messages is read in parts; then only the
        messages up to the newest one read from that folder are processed in this cycle (the
        others wait for the next), so a reply in one folder is never threaded before the
        message it answers in another folder has been read."""
        cap = max_per_folder or MAX_PER_CYCLE
        now = self.clock()
        far_future = datetime.max.replace(tzinfo=timezone.utc)
        fetched: dict[str, list[tuple[int, object]]] = {}
        horizon = far_future
        for folder, role in self.roles.items():
            uids = self._new_uids(client, folder, role)
            if not uids:
                continue
            more = len(uids) > cap
            fetched[folder] = self._fetch(client, uids[:cap])
            if more:
                horizon = min(horizon, max((m.time or far_future) for _, m in fetched[folder]))
        batch: list[tuple[str, int, object]] = []
        advanced: dict[str, int] = {}
        for folder, items in fetched.items():
            items.sort(key=lambda r: r[0])
            for uid, msg in items:  # the UID prefix up to the horizon
                if (msg.time or far_future) > horizon:
                    break
                batch.append((self.roles[folder], uid, msg))
                advanced[folder] = uid
        self.last_read = len(batch)
        if not advanced:
            return 0
        batch.sort(key=lambda r: (r[2].time or far_future, r[1]))
        events: list[dict] = []
        for role, _, msg in batch:  # messages first, in time order (close-folder ones by sender)
            as_role = role if role != "close" else ("sent" if self.config.threads.is_agent(msg.sender) else "inbox")
            events += self.threader.process(as_role, msg, now)
        for role, _, msg in batch:  # then the closes
            if role == "close":
                events += self.threader.process("close", msg, now)
        self.threader.prune(now)
        for folder, last in advanced.items():
            self.checkpoint.folders[folder]["last_uid"] = last
        self.checkpoint.threads = self.threader.to_dict()
        self.checkpoint.outbox = events
        self.checkpoint.save()
        self.messages_read += len(batch)
        self.flush_outbox()
        log.info("read %d new message(s) in %s -> %d event(s)", len(batch),
                 ", ".join(sorted(advanced)), len(events))
        return len(events)

    def flush_outbox(self) -> None:
        if not self.checkpoint.outbox:
            return
        try:
            self.publish(self.checkpoint.outbox)
        except Exception as exc:
            raise PublishError(str(exc)) from exc
        self.events_published += len(self.checkpoint.outbox)
        self.checkpoint.outbox = []
        self.checkpoint.save()

    # -- waiting --------------------------------------------------------------------------------
    def _wait(self, client: IMAPClient, stop: threading.Event) -> None:
        c = self.config
        window = min(c.poll_s, c.idle_renew_s)
        if not (c.use_idle and client.has_capability("IDLE")):
            stop.wait(window)
            return
        status = client.select_folder(c.inbox, readonly=True)
        cp = self.checkpoint.folders.get(c.inbox)
        if cp is None or int(status.get(b"UIDVALIDITY", 0)) != cp["uidvalidity"] or \
                int(status.get(b"UIDNEXT") or 0) > cp["last_uid"] + 1:
            return  # mail arrived between the cycle and now: IDLE would not announce it
        client.idle()
        try:
            deadline = time.monotonic() + window
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                responses = client.idle_check(timeout=min(left, 1.0))
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"EXPUNGE") for r in responses):
                    break
        finally:
            client.idle_done()

    # -- the loop -------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        backoff = 1.0
        c = self.config
        while not stop.is_set():
            client = None
            try:
                self.flush_outbox()
                client = self.connect()
                self.resolve_folders(client)
                log.info("connected to %s:%s as %s; folders: %s", c.host, c.port, c.user,
                         ", ".join(f"{f} ({r})" for f, r in self.roles.items()))
                backoff = 1.0
                while not stop.is_set():
                    self.sync_once(client)
                    self.cycles += 1
                    self._wait(client, stop)
            except ImapAuthError:
                raise
            except PublishError as exc:
                log.warning("Kafka did not take %d event(s) (%s); retrying in %.0f s (kept in the checkpoint's "
                            "outbox)", len(self.checkpoint.outbox), exc, backoff)
            except (OSError, IMAPClientError, ssl.SSLError, socket.timeout) as exc:
                log.warning("IMAP server %s:%s unreachable or dropped the connection (%s: %s); retrying in %.0f s",
                            c.host, c.port, type(exc).__name__, exc, backoff)
            finally:
                if client is not None:
                    _quiet_logout(client)
            if not stop.is_set():
                stop.wait(backoff)
                backoff = min(backoff * 2, c.retry_max_s)


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass
