"""Real notification receivers on localhost: an HTTP server (webhook and Slack-compatible posts)
and an SMTP server (aiosmtpd). Both record what they received, with the time it arrived."""
from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
from aiosmtpd.controller import Controller


class HttpReceiver:
    """POSTs are recorded as (path, headers, parsed JSON body, arrival time). `fail_first` paths
    answer 503 the first N times."""

    def __init__(self):
        self.posts: list[tuple[str, dict, dict, float]] = []
        self.fail: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    if receiver.fail.get(self.path, 0) > 0:
                        receiver.fail[self.path] -= 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    receiver.posts.append((self.path, dict(self.headers), orjson.loads(body), time.time()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [b for p, _, b, _ in self.posts if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    def __init__(self, tls_context=None):
        """Plain SMTP; with `tls_context` the server offers STARTTLS and refuses mail before it."""
        self.messages: list = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                receiver.messages.append(message_from_bytes(envelope.content, policy=email_policy))
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        tls = {} if tls_context is None else {"tls_context": tls_context, "require_starttls": True}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port, **tls)
        self.controller.start()
        self.dsn = f"smtp://127.0.0.1:{port}" + ("?mode=insecure" if tls_context is None else "")

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def close(self) -> None:
        self.controller.stop()
