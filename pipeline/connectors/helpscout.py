"""Help Scout webhooks -> v1 contract events (pure: no I/O; the receive time is a parameter).

Help Scout POSTs one JSON body per event, names the event in the `X-HelpScout-Event` header and
signs the raw body: `X-HelpScout-Signature` = base64(HMAC-SHA1(secret, body)) (`signature_ok`).
Bodies are Mailbox API v2 objects: a Conversation for convo.*, a Rating for satisfaction.ratings,
`{"id": ...}` for convo.deleted.

Mapping (binding; docs/connectors.md repeats it):
- contact id "helpscout-<conversation id>"; source "helpscout".
- convo.created -> contact.created: channel chat for Beacon chats (conversation type "chat"),
  else email; queue = the mailbox name when the body carries one, else "mailbox-<mailboxId>";
  customer = the customer's email (primary customer, else the creating customer), else
  "helpscout-customer-<primary customer id>"; tags.
- convo.assigned -> contact.assigned (agent = assignee email, else "helpscout-user-<id>").
- convo.customer.reply.created -> contact.customer_replied; convo.agent.reply.created ->
  contact.agent_replied (agent = the newest reply thread's author). Time and id come from the
  newest thread of that kind in `_embedded.threads` when present.
- convo.status: closed -> contact.closed (resolution "closed"), spam -> contact.closed
  (resolution "spam"), active -> contact.reopened, pending -> nothing (counted as ignored).
- convo.tags -> contact.tagged (the conversation's tag names).
- convo.moved -> contact.transferred (to_queue = the new mailbox).
- satisfaction.ratings -> contact.rated: Great = 5, Okay = 3, Not Good / Bad = 1.
- convo.deleted -> contact.closed (resolution "deleted").
- helpscout.test -> nothing (the receiver answers 200); any other event -> nothing, counted.
Event ids are derived from the payload (thread id, rating id, timestamps), so a webhook that
Help Scout delivers again yields the same ids and is counted once downstream.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone

SOURCE = "helpscout"
TEST_EVENT = "helpscout.test"
RATING_SCORES = {"great": 5, "okay": 3, "ok": 3, "not good": 1, "notgood": 1, "bad": 1}
EVENTS = ("convo.created", "convo.assigned", "convo.customer.reply.created", "convo.agent.reply.created",
          "convo.status", "convo.tags", "convo.moved", "convo.deleted", "satisfaction.ratings")


class HelpScoutPayloadError(ValueError):
    """The body lacks a field the mapping needs; `field` names it."""

    def __init__(self, event: str, field_name: str, problem: str = "is missing"):
        super().__init__(f"{event}: field {field_name!r} {problem}")
        self.field = field_name


@dataclass
class Mapped:
    outcome: str                      # "mapped", "test", "ignored"
    events: list[dict] = field(default_factory=list)
    note: str = ""


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha1).digest()).decode()


def signature_ok(body: bytes, secret: str, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(body, secret).encode(), header.strip().encode())


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _time(value, fallback: datetime) -> datetime:
    if isinstance(value, str) and value:
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return fallback


def _id(event: str, body: dict, key: str = "id") -> str:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise HelpScoutPayloadError(event, key)
    return str(value)


def _person(p, kind: str | None = None) -> str | None:
    if not isinstance(p, dict):
        return None
    email = p.get("email")
    if isinstance(email, str) and email:
        return email[:128]
    if p.get("id") is not None:
        kind = kind or ("customer" if p.get("type") == "customer" else "user")
        return f"helpscout-{kind}-{p['id']}"
    return None


def _customer(body: dict) -> str | None:
    """The customer's email when any part of the body has it, else the primary customer's id."""
    created_by = body.get("createdBy") if isinstance(body.get("createdBy"), dict) else {}
    candidates = [body.get("primaryCustomer"), body.get("customer"),
                  created_by if created_by.get("type") == "customer" else None]
    for c in candidates:
        if isinstance(c, dict) and isinstance(c.get("email"), str) and c["email"]:
            return c["email"][:128]
    for c in candidates:
        if isinstance(c, dict) and c.get("id") is not None:
            return _person(c, "customer")
    return None


def mailbox_queue(body: dict) -> str | None:
    mailbox = body.get("mailbox")
    if isinstance(mailbox, dict):
        if isinstance(mailbox.get("name"), str) and mailbox["name"]:
            return mailbox["name"][:128]
        if mailbox.get("id") is not None:
            return f"mailbox-{mailbox['id']}"
    if body.get("mailboxId") is not None:
        return f"mailbox-{body['mailboxId']}"
    return None


def _threads(body: dict, kind: str) -> list[dict]:
    threads = (body.get("_embedded") or {}).get("threads") or body.get("threads") or []
    if not isinstance(threads, list):
        return []
    found = [t for t in threads if isinstance(t, dict) and t.get("type") == kind]
    return sorted(found, key=lambda t: str(t.get("createdAt") or ""), reverse=True)


def _tags(body: dict) -> list[str]:
    out = []
    for tag in (body.get("tags") or [])[:64]:
        name = tag.get("tag") or tag.get("name") if isinstance(tag, dict) else tag
        if isinstance(name, str) and name.strip():
            out.append(name.strip()[:128])
    return sorted(set(out))


def _event(cid: str, kind: str, event_id: str, t: datetime, data: dict) -> dict:
    return {"specversion": "1.0", "id": event_id[:128], "source": SOURCE, "type": f"contact.{kind}",
            "time": _iso(t), "subject": cid, "data": data}


def map_webhook(event: str, body, received_at: datetime) -> Mapped:
    """One webhook -> events. Raises HelpScoutPayloadError when a needed field is missing or the
    body does not have the shape of Help Scout's objects (never another exception)."""
    try:
        return _map(event, body, received_at)
    except HelpScoutPayloadError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, OverflowError) as exc:
        raise HelpScoutPayloadError((event or "").strip(), "(body)",
                                    f"does not have the shape of a Help Scout object ({type(exc).__name__}: {exc})") from None


def _map(event: str, body, received_at: datetime) -> Mapped:
    event = (event or "").strip()
    if event == TEST_EVENT:
        return Mapped("test")
    if event not in EVENTS:
        return Mapped("ignored", note=f"event {event or '(none)'!r} is not mapped")
    if not isinstance(body, dict):
        raise HelpScoutPayloadError(event, "(body)", "is not a JSON object")

    if event == "satisfaction.ratings":
        conversation = _id(event, body, "ticketId")
        cid = f"helpscout-{conversation}"
        rating = str(body.get("rating") or "").strip().lower()
        if rating not in RATING_SCORES:
            raise HelpScoutPayloadError(event, "rating", f"is {body.get('rating')!r}; expected Great, Okay or Not Good")
        t = _time(body.get("modifiedAt") or body.get("createdAt"), received_at)
        rid = body.get("id", _iso(t))
        return Mapped("mapped", [_event(cid, "rated", f"{cid}-rated-{rid}", t, {"score": RATING_SCORES[rating]})])

    cid = f"helpscout-{_id(event, body)}"
    updated = _time(body.get("userUpdatedAt") or body.get("updatedAt"), received_at)

    if event == "convo.deleted":
        return Mapped("mapped", [_event(cid, "closed", f"{cid}-deleted", received_at, {"resolution": "deleted"})])

    if event == "convo.created":
        queue = mailbox_queue(body)
        if queue is None:
            raise HelpScoutPayloadError(event, "mailboxId")
        t = _time(body.get("createdAt"), received_at)
        channel = "chat" if str(body.get("type", "")).lower() == "chat" else "email"
        customer = _customer(body)
        data = {"channel": channel, "queue": queue, "tags": _tags(body)}
        if customer:
            data["customer"] = customer
        return Mapped("mapped", [_event(cid, "created", f"{cid}-created", t, data)])

    if event == "convo.assigned":
        agent = _person(body.get("assignee"))
        if agent is None:
            return Mapped("ignored", note="convo.assigned without an assignee (unassigned)")
        return Mapped("mapped", [_event(cid, "assigned", f"{cid}-assigned-{agent}-{_iso(updated)}", updated,
                                        {"agent": agent})])

    if event in ("convo.customer.reply.created", "convo.agent.reply.created"):
        customer_side = event == "convo.customer.reply.created"
        threads = _threads(body, "customer" if customer_side else "reply")
        thread = threads[0] if threads else {}
        t = _time(thread.get("createdAt"), updated)
        key = thread.get("id", _iso(t))
        if customer_side:
            return Mapped("mapped", [_event(cid, "customer_replied", f"{cid}-thread-{key}", t, {})])
        agent = _person(thread.get("createdBy")) or _person(body.get("assignee")) or "helpscout-user-unknown"
        return Mapped("mapped", [_event(cid, "agent_replied", f"{cid}-thread-{key}", t, {"agent": agent})])

    if event == "convo.status":
        status = str(body.get("status") or "").lower()
        if status in ("closed", "spam"):
            t = _time(body.get("closedAt"), updated) if status == "closed" else updated
            data = {"resolution": status}
            closer = body.get("closedByUser") or (
                {"id": body["closedBy"]} if isinstance(body.get("closedBy"), int) and body["closedBy"] > 0 else None)
            agent = _person(closer)
            if agent:
                data["agent"] = agent
            return Mapped("mapped", [_event(cid, "closed", f"{cid}-{status}-{_iso(t)}", t, data)])
        if status == "active":
            return Mapped("mapped", [_event(cid, "reopened", f"{cid}-reopened-{_iso(updated)}", updated, {})])
        return Mapped("ignored", note=f"convo.status {status or '(none)'!r} is not mapped")

    if event == "convo.tags":
        tags = _tags(body)
        digest = hashlib.sha1("\x1f".join(tags).encode()).hexdigest()[:12]
        return Mapped("mapped", [_event(cid, "tagged", f"{cid}-tags-{digest}-{_iso(updated)}", updated, {"tags": tags})])

    # convo.moved
    queue = mailbox_queue(body)
    if queue is None:
        raise HelpScoutPayloadError(event, "mailboxId")
    return Mapped("mapped", [_event(cid, "transferred", f"{cid}-moved-{queue}-{_iso(updated)}", updated,
                                    {"to_queue": queue})])
