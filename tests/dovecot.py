"""A real IMAP server for tests: Debian's dovecot-imapd started unprivileged with a config of our own.

Everything lives in one temporary directory (config, base_dir, state, Maildirs, log); the server
listens on 127.0.0.1 at a free high port (plain IMAP, and IMAPS with a self-signed certificate
made here when `tls=True`). One passwd-file user. Folders: INBOX, Sent (\\Sent special-use),
Archive (\\Archive). When the test process is root, dovecot's processes run as `nobody`.

`make test` installs the package (see the Makefile's `dovecot` target)."""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
SPARE_USERS = 30

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
instance_name = tablero-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
{ssl_files}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_plugins =
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  chroot =
}}
service imap-hibernate {{
  chroot =
}}
protocol imap {{
  imap_idle_notify_interval = 2 mins
}}
"""


class Dovecot:
    def __init__(self, user: str = "agent@example.test", password: str = "s3cret", tls: bool = False):
        self.user = user
        self.password = password
        self.tls = tls
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.root = Path(tempfile.mkdtemp(prefix="tablero-dovecot-"))
        self.run_as = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.config = self.root / "dovecot.conf"
        self._write()

    def _write(self) -> None:
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        self._spare = [f"box{i}@example.test" for i in range(SPARE_USERS)]
        (self.root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{self.password}\n"
                                                  for u in [self.user, *self._spare]))
        ssl_files = ""
        if self.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.root / "key.pem"),
                            "-out", str(self.root / "cert.pem")], check=True, capture_output=True)
            ssl_files = f"ssl_cert = <{self.root}/cert.pem\nssl_key = <{self.root}/key.pem"
        import grp
        group = grp.getgrgid(self.run_as.pw_gid).gr_name
        self.config.write_text(CONFIG.format(
            root=self.root, port=self.port, tls_port=self.tls_port, ssl="yes" if self.tls else "no",
            ssl_files=ssl_files, user=self.run_as.pw_name, group=group,
            uid=self.run_as.pw_uid, gid=self.run_as.pw_gid))
        if os.geteuid() == 0:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)

    def add_user(self) -> str:
        """A mailbox nobody used yet (from a pool written before the start: dovecot does not
        reliably see users appended to its passwd-file later)."""
        if not self._spare:
            raise RuntimeError("no spare test mailbox left: raise SPARE_USERS")
        return self._spare.pop(0)

    @property
    def cert(self) -> Path:
        return self.root / "cert.pem"

    def start(self, timeout: float = 30) -> None:
        # dovecot daemonizes; its master keeps the inherited descriptors, so no pipes here
        with open(self.root / "start.out", "wb") as out:
            rc = subprocess.run([DOVECOT, "-c", str(self.config)], stdout=out, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            raise RuntimeError(f"dovecot did not start: {(self.root / 'start.out').read_text()} {self.log_tail()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot not listening on {self.port}: {self.log_tail()}")

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        subprocess.run([DOVECOT, "-c", str(self.config), "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_file.exists():  # last resort: the master we started, by its pid
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        # the master leaves logged-in sessions running for a while; a server that goes away
        # takes them with it: end this instance's own processes (their titles name the instance)
        for pid in self._instance_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._wait_port_closed()

    def _instance_pids(self) -> list[int]:
        mark = f"dovecot-tablero-test-{self.port}/".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "cmdline").read_bytes().startswith(mark):
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return pids

    def _wait_port_closed(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                time.sleep(0.1)
            except OSError:
                return

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def doveadm(self, *args: str) -> str:
        out = subprocess.run([DOVEADM, "-c", str(self.config), *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def set_uidvalidity(self, folder: str, value: int, user: str | None = None) -> None:
        """Change a folder's UIDVALIDITY (what a restored or rebuilt mailbox does to its clients)."""
        self.doveadm("mailbox", "update", "-u", user or self.user, "--uid-validity", str(value), folder)

    def log_tail(self, n: int = 30) -> str:
        log = self.root / "dovecot.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:]) if log.exists() else ""

    def client(self, user: str | None = None):
        from imapclient import IMAPClient
        c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        c.login(user or self.user, self.password)
        return c

    def deliver(self, folder: str, raw: bytes, when=None, user: str | None = None) -> None:
        """APPEND a message (what delivery or a mail client saving to Sent does)."""
        c = self.client(user)
        try:
            c.append(folder, raw, msg_time=when)
        finally:
            c.logout()
