"""Sample merged live views (shape of docs/internal-interfaces.md) for the issue-6 tests."""
from __future__ import annotations

import time

from supervisor_api.deps import Principal
from supervisor_api.live_hub import aggregate

ADMIN = Principal(token_id="t-admin", role="admin")
SUPERVISOR = Principal(token_id="t-sup", role="supervisor")
BILLING_ONLY = Principal(token_id="t-billing", role="wallboard", queues=frozenset({"billing"}))
PLANNER = Principal(token_id="t-planner", role="planner")
TOKENS = {"admin-token": ADMIN, "sup-token": SUPERVISOR, "billing-token": BILLING_ONLY,
          "planner-token": PLANNER}


def period(offered, answered, abandoned, short, within, asa, aht):
    denom = answered + abandoned - short
    return {"offered": offered, "answered": answered, "abandoned": abandoned,
            "short_abandoned": short, "answered_within_sl": within,
            "service_level": within / denom if denom else None,
            "asa_s": asa, "aht_s": aht, "first_response_s": asa}


def queue_row(queue, channel, waiting, inside, at_risk, breached, oldest, threshold=20.0,
              today=None, last=None):
    items = [{"contact": f"{queue}-{i}", "wait_s": oldest - i, "time_to_breach_s": threshold - (oldest - i)}
             for i in range(waiting)]
    return {"queue": queue, "channel": channel, "threshold_s": threshold, "at_risk_fraction": 0.8,
            "waiting": waiting, "inside_sl": inside, "at_risk": at_risk, "breached": breached,
            "oldest_wait_s": oldest, "unassigned": waiting, "in_progress": 2,
            "waiting_items": items,
            "today": today or period(10, 8, 2, 1, 6, 8.0, 240.0),
            "last_30m": last or period(4, 3, 1, 0, 2, 10.0, 200.0)}


def make_view(billing_waiting=3, secret_waiting=7, now=None):
    """Two queues: 'billing' (voice) and 'secret-vip' (voice + chat rows)."""
    rows = [
        queue_row("billing", "voice", billing_waiting, 1, 1, max(billing_waiting - 2, 0), 31.2),
        queue_row("secret-vip", "voice", secret_waiting, 2, 2, max(secret_waiting - 4, 0), 999.0,
                  today=period(100, 90, 10, 0, 80, 5.0, 300.0)),
        queue_row("secret-vip", "chat", 1, 1, 0, 0, 5.0, threshold=60.0),
    ]
    total = aggregate(rows)
    return {
        "generated_at": now if now is not None else time.time(),
        "site_tz": "Europe/Madrid",
        "queues": rows,
        "channels": [{"channel": "voice", **aggregate(rows[:2])},
                     {"channel": "chat", **aggregate(rows[2:])}],
        "total": total,
        "agents": [{"agent": "a-1", "state": "busy", "reason": "", "since": 1699999000.0,
                    "time_in_state_s": 1000.0, "open": {"voice": 1, "chat": 0, "email": 2},
                    "capacity": {"voice": 1, "chat": 3, "email": 10}, "load": 0.25},
                   {"agent": "a-2", "state": "available", "reason": "", "since": 1699999500.0,
                    "time_in_state_s": 500.0, "open": {"voice": 0, "chat": 0, "email": 0},
                    "capacity": {"voice": 1, "chat": 3, "email": 10}, "load": 0.0}],
        "agent_states": {"offline": 0, "available": 1, "busy": 1, "after_contact_work": 0, "away": 0},
    }
