"""Delivery of one notification to one target, through apprise. A thin adapter: no retries here
(the service retries with backoff and keeps what could not be delivered).

Targets (the `notify` list of a rule):

* ``webhook:http(s)://host/path``: apprise's JSON service (``json://``) POSTs apprise's
  ``title`` / ``message`` / ``type`` plus the alert document of `pipeline.alerts.payload` as
  top-level keys, with the header ``X-Tablero-Notification-Id``.
* ``slack:https://hooks.slack.com/services/...`` or any Slack-compatible incoming webhook
  (Mattermost, Rocket.Chat, ...): apprise's JSON service reshaped to Slack's ``{"text": ...}``.
* ``email:someone@example.com``: apprise's email service over SMTP, server from
  ``TABLERO_ALERTS_SMTP`` (``smtp://[user:password@]host[:port][?mode=starttls|ssl|insecure]``;
  default mode starttls, insecure = plain SMTP without TLS) and sender ``TABLERO_ALERTS_FROM``.

`deliver` is blocking (apprise uses requests / smtplib): call it in a thread. It returns None on
success, else the reason (apprise's own log lines of the attempt).
"""
from __future__ import annotations

import logging
from urllib.parse import parse_qs, quote, urlsplit

import apprise
from apprise.plugins.custom_json import NotifyJSON

from pipeline.alerts import payload
from pipeline.alerts.engine import Episode

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0


class TargetError(ValueError):
    """A target or the SMTP setting cannot be used; the message says which and why."""


def _json_service(url: str, extras: dict, headers: dict) -> NotifyJSON:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"{url!r} is not an http(s) URL")
    scheme = "jsons" if parts.scheme == "https" else "json"
    args = NotifyJSON.parse_url(f"{scheme}://{parts.netloc}{parts.path or '/'}"
                                + (f"?{parts.query}" if parts.query else ""))
    if not args:
        raise TargetError(f"{url!r} is not a URL apprise can post to")
    args.update(payload=extras, headers=headers, rto=TIMEOUT_S, cto=TIMEOUT_S)
    return NotifyJSON(**args)


def email_url(to: str, smtp: str, sender: str) -> str:
    """The apprise mailto URL for `to` through the `smtp` server setting."""
    if not smtp:
        raise TargetError(f"email:{to} needs TABLERO_ALERTS_SMTP (e.g. smtp://user:pass@mail.example.com:587)")
    if not sender:
        raise TargetError(f"email:{to} needs TABLERO_ALERTS_FROM (e.g. tablero@example.com)")
    p = urlsplit(smtp)
    if p.scheme != "smtp" or not p.hostname:
        raise TargetError(f"TABLERO_ALERTS_SMTP {smtp!r} is not smtp://[user:password@]host[:port]")
    mode = (parse_qs(p.query).get("mode") or ["starttls"])[0]
    if mode not in ("starttls", "ssl", "insecure"):
        raise TargetError(f"TABLERO_ALERTS_SMTP mode {mode!r}: use starttls, ssl or insecure")
    cred = ""
    if p.username:
        cred = quote(p.username, safe="") + (f":{quote(p.password or '', safe='')}") + "@"
    port = f":{p.port}" if p.port else ""
    return (f"mailtos://{cred}{p.hostname}{port}?smtp={p.hostname}&from={quote(sender, safe='@')}"
            f"&to={quote(to, safe='@')}&mode={mode}" if mode != "insecure" else
            f"mailto://{cred}{p.hostname}{port}?smtp={p.hostname}&from={quote(sender, safe='@')}"
            f"&to={quote(to, safe='@')}&mode=insecure")


def build(target: str, ep: Episode, state: str, *, smtp: str = "", sender: str = "", test: bool = False):
    """(apprise service or URL, title, body) for one target."""
    scheme, _, rest = target.partition(":")
    t = payload.title(ep, state, test=test)
    b = payload.body(ep, state, test=test)
    headers = {"X-Tablero-Notification-Id": payload.notification_id(ep, state)}
    if scheme == "webhook":
        extras = {"version": "", "attachments": ""}  # apprise: drop these two keys
        extras.update(payload.document(ep, state, test=test))
        return _json_service(rest, extras, headers), t, b
    if scheme == "slack":
        # Slack's incoming webhook body is {"text": ...}: keep only apprise's message, renamed
        extras = {"version": "", "attachments": "", "title": "", "type": "", "message": "text"}
        return _json_service(rest, extras, headers), t, f"*{t}*\n{b}"
    if scheme == "email":
        return email_url(rest, smtp, sender), t, b
    raise TargetError(f"{target!r}: unknown target kind {scheme!r} (webhook, slack or email)")


def deliver(target: str, ep: Episode, state: str, *, smtp: str = "", sender: str = "",
            test: bool = False) -> str | None:
    """Send one notification. None when the target accepted it, else why not."""
    try:
        service, t, b = build(target, ep, state, smtp=smtp, sender=sender, test=test)
    except TargetError as exc:
        return str(exc)
    notifier = apprise.Apprise()
    if not notifier.add(service):
        return f"{target}: apprise could not load this target"
    # DEBUG too: apprise logs the cause (an untrusted certificate, a refused login) only there
    with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s - %(message)s") as captured:
        ok = notifier.notify(body=b, title=t, body_format=apprise.NotifyFormat.TEXT)
        lines = captured.getvalue().strip().splitlines()
    if ok:
        return None
    return failure_reason(lines)


def failure_reason(lines: list[str]) -> str:
    """apprise's last warning, with the exception behind it when it logged one."""
    said = [ln.split(" - ", 1)[1] for ln in lines if ln.startswith(("WARNING - ", "ERROR - "))]
    causes = [ln.split("Exception: ", 1)[1] for ln in lines if "Exception: " in ln]
    reason = said[-1] if said else "the target refused the notification"
    if causes and causes[-1] not in reason:
        reason += f" ({causes[-1]})"
    return reason[:500]
