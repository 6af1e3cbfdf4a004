"""Chatwoot webhook payloads -> v1 contract events. Pure: no I/O, no clock (times come from the payload).

Payload shapes follow Chatwoot's own code: `WebhookListener` (app/listeners/webhook_listener.rb)
sends `conversation.webhook_data` (Conversations::EventDataPresenter#push_data: `id` is the
conversation's display id, `inbox_id`, `channel`, `status`, `meta.sender`/`meta.assignee`,
`labels`, `snoozed_until`, `first_reply_created_at`, `created_at` epoch s, `updated_at` epoch
float) merged with `event` (and `changed_attributes` for conversation_updated /
conversation_status_changed), and `message.webhook_data` (`id`, `created_at`, `message_type`
incoming/outgoing/activity/template, `private`, `content_type`, `content_attributes`, `sender`,
`inbox` {id, name}, `conversation`, `account`) for message_created / message_updated.

Mapping (one conversation = one contact ``chatwoot-<display id>``; `source` may prefix another name):

* conversation_created -> contact.created: channel email for `Channel::Email` inboxes, else chat;
  queue = `inbox_names[inbox id]`, else the inbox name when the payload has one, else ``inbox-<id>``;
  customer = ``chatwoot-contact-<meta.sender.id>``; tags = labels; priority low/medium/high/urgent -> 1..4.
* message_created, not private, message_type incoming -> contact.customer_replied (except the
  message that opened the conversation, less than OPENING_S after its creation: contact.created
  already stands for it);
  outgoing sent by a user (an agent, not a bot or automation) -> contact.agent_replied, preceded on a
  chat by contact.answered when it is the conversation's first reply (its time equals
  `first_reply_created_at`, or that field is still empty). Activity and template messages,
  private notes and bot messages are not replies: no event.
* conversation_status_changed: resolved -> contact.closed (agent = assignee); open after resolved
  -> contact.reopened; snoozed -> contact.snoozed until `snoozed_until`. Other changes: no event.
* conversation_updated whose changed_attributes include assignee_id -> contact.assigned (none when
  unassigned).
* message_updated carrying a CSAT answer (content_type input_csat,
  content_attributes.submitted_values.csat_survey_response.rating 1..5) -> contact.rated.
* Any other event (contact_*, webwidget_triggered, conversation_typing_*...) -> `None`: acknowledged
  and ignored.

Event ids are deterministic (message id, or the conversation's update time), so a webhook that
arrives twice lands once. A payload that a mapped event cannot be read from raises PayloadError
naming the field.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

SOURCE = "chatwoot"
MAPPED_EVENTS = frozenset({"conversation_created", "message_created", "message_updated",
                           "conversation_status_changed", "conversation_updated"})
OPENING_S = 2.0  # an incoming message this close to the conversation's creation is the one that opened it
_PRIORITY = {None: 0, "low": 1, "medium": 2, "high": 3, "urgent": 4}


class PayloadError(ValueError):
    """The webhook body cannot be mapped; the message names the field."""


def map_webhook(payload: Any, *, source: str = SOURCE, inbox_names: dict[str, str] | None = None) -> list[dict] | None:
    """Events for one webhook body (possibly an empty list), or None for an event Tablero ignores."""
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object (a Chatwoot webhook payload)")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise PayloadError("event: missing; a Chatwoot webhook body names its event (e.g. message_created)")
    if event not in MAPPED_EVENTS:
        return None
    m = _Mapper(source, inbox_names or {})
    handler = {"conversation_created": m.created, "message_created": m.message, "message_updated": m.csat,
               "conversation_status_changed": m.status, "conversation_updated": m.updated}[event]
    try:
        return handler(payload)
    except PayloadError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        # a field of an unexpected JSON type somewhere: still a clear 400, never a 500
        raise PayloadError(f"{event}: a field has an unexpected type ({type(exc).__name__}: {exc})") from None


class _Mapper:
    def __init__(self, source: str, inbox_names: dict[str, str]):
        self.source = source
        self.inbox_names = inbox_names

    def contact_id(self, conv: dict, where: str) -> str:
        cid = conv.get("id", conv.get("display_id"))
        if isinstance(cid, bool) or not isinstance(cid, (int, str)) or str(cid) == "":
            raise PayloadError(f"{where}id: missing conversation id")
        return f"{self.source}-{cid}"

    def event(self, contact_id: str, kind: str, t: float, data: dict, suffix: str = "") -> dict:
        return {"specversion": "1.0", "id": f"{contact_id}:{kind}{suffix}", "source": self.source,
                "type": f"contact.{kind}", "time": rfc3339(t), "subject": contact_id, "data": data}

    # -- events ---------------------------------------------------------------------------------
    def created(self, p: dict) -> list[dict]:
        cid = self.contact_id(p, "")
        t = _time(p.get("created_at"), "created_at")
        inbox = p.get("inbox") if isinstance(p.get("inbox"), dict) else {}
        inbox_id = p.get("inbox_id", inbox.get("id"))
        if inbox_id is None:
            raise PayloadError("inbox_id: missing; the conversation's inbox names its queue")
        queue = self.inbox_names.get(str(inbox_id)) or _text(inbox.get("name")) or f"inbox-{inbox_id}"
        meta = p.get("meta") if isinstance(p.get("meta"), dict) else {}
        sender = meta.get("sender") if isinstance(meta.get("sender"), dict) else {}
        customer = f"chatwoot-contact-{sender['id']}" if sender.get("id") is not None else None
        labels = p.get("labels") or []
        if not isinstance(labels, list):
            raise PayloadError("labels: must be a list")
        tags = sorted({str(x)[:128] for x in labels if str(x)})
        priority = _PRIORITY.get(p.get("priority"), 0)
        return [self.event(cid, "created", t, {"channel": _channel(p), "queue": queue[:128], "customer": customer,
                                               "priority": priority, "tags": tags})]

    def message(self, p: dict) -> list[dict]:
        conv = _obj(p, "conversation")
        cid = self.contact_id(conv, "conversation.")
        if p.get("private") is True:
            return []
        mtype = p.get("message_type")
        if mtype in (0, "incoming"):
            mtype = "incoming"
        elif mtype in (1, "outgoing"):
            mtype = "outgoing"
        else:
            return []  # activity (2), template (3): not replies
        if p.get("content_type") in ("input_csat",):
            return []
        msg_id = p.get("id")
        if msg_id is None:
            raise PayloadError("id: missing message id")
        t = _time(p.get("created_at"), "created_at")
        if mtype == "incoming":
            opened = conv.get("created_at")
            if isinstance(opened, (int, float)) and not isinstance(opened, bool) and 0 <= t - opened < OPENING_S:
                return []  # the message that opened the conversation: contact.created already counts it
            return [self.event(cid, "customer_replied", t, {}, f":{msg_id}")]
        sender = p.get("sender") if isinstance(p.get("sender"), dict) else None
        if sender is None or sender.get("type") != "user":
            return []  # automation, bots, campaigns: not an agent reply
        agent = _agent(sender)
        out = []
        if _channel(conv) == "chat" and self._first_reply(conv, t):
            out.append(self.event(cid, "answered", t, {"agent": agent}))
        out.append(self.event(cid, "agent_replied", t, {"agent": agent}, f":{msg_id}"))
        return out

    @staticmethod
    def _first_reply(conv: dict, t: float) -> bool:
        first = conv.get("first_reply_created_at")
        if first in (None, ""):
            return True
        try:
            return abs(_time(first, "conversation.first_reply_created_at") - t) < 1.0
        except PayloadError:
            return False

    def status(self, p: dict) -> list[dict]:
        cid = self.contact_id(p, "")
        status = p.get("status")
        t = _time(p.get("updated_at", p.get("timestamp")), "updated_at")
        suffix = f":{round(t * 1000)}"
        if status == "resolved":
            return [self.event(cid, "closed", t, {"agent": _assignee(p)}, suffix)]
        if status == "snoozed":
            until = p.get("snoozed_until")
            if until in (None, ""):
                return []  # snoozed until the customer's next reply: no end time; nothing to say
            return [self.event(cid, "snoozed", t, {"until": rfc3339(_time(until, "snoozed_until"))}, suffix)]
        if status == "open" and _previous(p, "status") == "resolved":
            # a customer message reopens a resolved conversation just before this change is
            # written: date the reopen at that message's whole second, so the message sorts after it
            last = (p.get("messages") or [None])[-1]
            if isinstance(last, dict) and last.get("message_type") in (0, "incoming"):
                try:
                    mt = float(int(_time(last.get("created_at"), "messages[].created_at")))
                    if t - 5 <= mt <= t:
                        t = mt
                except PayloadError:
                    pass
            return [self.event(cid, "reopened", t, {}, suffix)]
        return []

    def updated(self, p: dict) -> list[dict]:
        cid = self.contact_id(p, "")
        if _changed(p, "assignee_id") is None:
            return []
        agent = _assignee(p)
        if agent is None:
            return []
        t = _time(p.get("updated_at", p.get("timestamp")), "updated_at")
        return [self.event(cid, "assigned", t, {"agent": agent}, f":{round(t * 1000)}")]

    def csat(self, p: dict) -> list[dict]:
        if p.get("content_type") != "input_csat":
            return []
        attrs = p.get("content_attributes") or {}
        resp = ((attrs.get("submitted_values") or {}) if isinstance(attrs, dict) else {}).get("csat_survey_response")
        if not isinstance(resp, dict) or resp.get("rating") is None:
            return []  # the survey was sent, not answered yet
        rating = resp["rating"]
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise PayloadError("content_attributes.submitted_values.csat_survey_response.rating: must be 1..5")
        conv = _obj(p, "conversation")
        cid = self.contact_id(conv, "conversation.")
        t = _time(conv.get("updated_at", p.get("created_at")), "conversation.updated_at")
        return [self.event(cid, "rated", t, {"score": rating}, f":{p.get('id')}:{rating}")]


# -- helpers ------------------------------------------------------------------------------------

def rfc3339(epoch: float) -> str:
    dt = datetime.fromtimestamp(epoch, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _time(v: Any, field: str) -> float:
    """Chatwoot times: epoch seconds (int/float) or ISO 8601 strings ("2025-07-10T15:36:22.262Z")."""
    if isinstance(v, bool) or v is None:
        raise PayloadError(f"{field}: missing time")
    if isinstance(v, (int, float)):
        t = float(v)
    elif isinstance(v, str):
        s = v.strip()
        if s.replace(".", "", 1).isdigit():
            t = float(s)
        else:
            try:
                dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" UTC", "+00:00"))
            except ValueError:
                raise PayloadError(f"{field}: {v[:40]!r} is not a time") from None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            t = dt.timestamp()
    else:
        raise PayloadError(f"{field}: must be a time (epoch seconds or ISO 8601)")
    if not 0 <= t < 4133980800:
        raise PayloadError(f"{field}: {v!r} is outside 1970..2100")
    return t


def _obj(p: dict, key: str) -> dict:
    v = p.get(key)
    if not isinstance(v, dict):
        raise PayloadError(f"{key}: missing (an object)")
    return v


def _text(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _channel(conv: dict) -> str:
    return "email" if conv.get("channel") == "Channel::Email" else "chat"


def _agent(user: dict) -> str:
    return (_text(user.get("name")) or f"user-{user.get('id')}")[:128]


def _assignee(p: dict) -> str | None:
    meta = p.get("meta") if isinstance(p.get("meta"), dict) else {}
    a = meta.get("assignee")
    return _agent(a) if isinstance(a, dict) and (a.get("name") or a.get("id") is not None) else None


def _changed(p: dict, attr: str) -> dict | None:
    """changed_attributes: a list of {attr: {previous_value, current_value}} (what
    BaseListener#extract_changed_attributes sends), or one dict of {attr: [previous, current]}
    (Rails' saved_changes form, seen from some versions)."""
    ca = p.get("changed_attributes")
    items = ca if isinstance(ca, list) else [ca] if isinstance(ca, dict) else []
    for item in items:
        if not isinstance(item, dict):
            continue
        v = item.get(attr)
        if isinstance(v, dict):
            return v
        if isinstance(v, list) and len(v) == 2:
            return {"previous_value": v[0], "current_value": v[1]}
    return None


def _previous(p: dict, attr: str) -> Any:
    change = _changed(p, attr)
    return change.get("previous_value") if change else None
