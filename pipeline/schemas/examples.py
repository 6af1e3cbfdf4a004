"""One valid v1 event per type (envelope dicts). Shared by tests, benchmarks and demos."""
from __future__ import annotations

import copy

_BASE = {"specversion": "1.0", "source": "example", "time": "2024-05-01T09:30:00Z"}

_DATA: dict[str, tuple[str, dict | None]] = {
    "contact.created": ("c-1", {"channel": "email", "queue": "billing", "customer": "cust-1",
                                "priority": 1, "tags": ["vip", "refund"]}),
    "contact.assigned": ("c-1", {"agent": "a-1"}),
    "contact.answered": ("c-1", {"agent": "a-1"}),
    "contact.opened": ("c-1", {"agent": "a-1"}),
    "contact.agent_replied": ("c-1", {"agent": "a-1"}),
    "contact.customer_replied": ("c-1", None),
    "contact.held": ("c-1", {"agent": "a-1"}),
    "contact.resumed": ("c-1", {}),
    "contact.transferred": ("c-1", {"to_queue": "tech", "to_agent": "a-2"}),
    "contact.snoozed": ("c-1", {"until": "2024-05-02T08:00:00+02:00"}),
    "contact.tagged": ("c-1", {"tags": ["complaint"]}),
    "contact.closed": ("c-1", {"agent": "a-1", "resolution": "solved"}),
    "contact.reopened": ("c-1", {}),
    "contact.abandoned": ("c-1", {}),
    "contact.rated": ("c-1", {"score": 5}),
    "agent.state_changed": ("a-1", {"state": "available", "reason": "start of shift",
                                    "capacity": {"voice": 1, "chat": 3, "email": 10}}),
}


def example(event_type: str, **overrides) -> dict:
    """A fresh valid event of `event_type`; keyword overrides replace top-level attributes."""
    subject, data = _DATA[event_type]
    event = {**_BASE, "id": f"ex-{event_type}", "type": event_type, "subject": subject}
    if data is not None:
        event["data"] = copy.deepcopy(data)
    event.update(overrides)
    return event


EXAMPLE_TYPES = tuple(_DATA)
