"""What a notification says: the JSON document of the generic webhook and the human text of the
Slack-compatible webhook and the email. Pure.

Webhook JSON (besides apprise's `title`, `message` and `type`):
``{"notification_id", "episode_id", "rule", "state" (firing | resolved), "severity", "kind"
(queue | untouched | rating), "scope" ({queue, channel} or {contact, agent, queue, channel}),
"metric", "op", "value", "threshold", "started_at", "fired_at", "resolved_at", "escalate_to",
"contacts" (contact ids, contact rules only), "test" (true for `tablero alerts test`)}``.
Times are RFC 3339 UTC. `notification_id` (episode id + ":" + state) is the same on every retry:
a receiver that keeps it sees each notification once even when a crash made Tablero send it twice.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pipeline.alerts.engine import Episode


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


def notification_id(ep: Episode, state: str) -> str:
    return f"{ep.id}:{state}"


def document(ep: Episode, state: str, *, test: bool = False) -> dict:
    contacts = [ep.scope["contact"]] if "contact" in ep.scope else []
    return {
        "notification_id": notification_id(ep, state),
        "episode_id": ep.id, "rule": ep.rule, "state": state, "severity": ep.severity,
        "kind": ep.kind, "scope": dict(ep.scope), "metric": ep.metric, "op": ep.op,
        "value": ep.value, "threshold": ep.threshold, "started_at": iso(ep.started_at),
        "fired_at": iso(ep.fired_at), "resolved_at": iso(ep.resolved_at),
        "escalate_to": ep.escalate_to, "contacts": contacts, "test": test,
    }


def _num(v: float | None) -> str:
    if v is None:
        return "no data"
    return f"{v:g}" if v != int(v) else str(int(v))


def scope_text(ep: Episode) -> str:
    s = ep.scope
    if "contact" in s:
        who = f" (agent {s['agent']})" if s.get("agent") else ""
        return f"contact {s['contact']}{who} in {s.get('queue') or '?'}/{s.get('channel') or '?'}"
    if "queue" in s:
        return f"queue {s['queue']}/{s['channel']}"
    if "channel" in s:
        return f"channel {s['channel']}"
    return "the whole site"


def title(ep: Episode, state: str, *, test: bool = False) -> str:
    head = "TEST " if test else ""
    word = "RESOLVED" if state == "resolved" else ep.severity.upper()
    return f"{head}[{word}] {ep.rule}: {scope_text(ep)}"


def body(ep: Episode, state: str, *, test: bool = False) -> str:
    if ep.kind == "untouched":
        hours = (ep.value or 0) / 3600
        what = f"no agent activity for {hours:.1f} h (limit {ep.threshold / 3600:g} h)"
    elif ep.kind == "rating":
        what = f"rated {_num(ep.value)} (alert at {_num(ep.threshold)} or below)"
    else:
        what = f"{ep.metric} = {_num(ep.value)} ({ep.op} {_num(ep.threshold)})"
    lines = [f"{scope_text(ep)}: {what}."]
    if ep.escalate_to:
        lines.append(f"Escalate to: {ep.escalate_to}.")
    if state == "resolved":
        lines.append(f"Resolved at {iso(ep.resolved_at)} (fired at {iso(ep.fired_at)}).")
    else:
        lines.append(f"Since {iso(ep.started_at)}; fired at {iso(ep.fired_at)}.")
    if test:
        lines.append("This is a test notification sent by `tablero alerts test`.")
    lines.append(f"Episode {ep.id}.")
    return "\n".join(lines)
