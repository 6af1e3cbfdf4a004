"""The live per-queue counts the benchmark's peer computes, as a pure per-contact step.

State per contact (keyed like the Kafka topic, by contact id): {"q": queue, "w": waiting 0/1,
"a": answered 0/1}. `step` returns the new state and the per-queue deltas of
waiting / offered / answered / abandoned. Waiting follows the glossary closely enough for a
throughput comparison: created, customer_replied, reopened and a transfer into a queue start a wait;
answered, agent_replied, closed and abandoned end it.
"""
from __future__ import annotations

_START = {"contact.created", "contact.customer_replied", "contact.reopened"}
_END = {"contact.answered", "contact.agent_replied", "contact.closed", "contact.abandoned"}


def step(state: dict | None, event: dict) -> tuple[dict | None, list[tuple[str, str, int]]]:
    t = event.get("type", "")
    if not t.startswith("contact."):
        return state, []
    deltas: list[tuple[str, str, int]] = []
    if t == "contact.created":
        q = event["data"]["queue"]
        state = {"q": q, "w": 0, "a": 0}
        deltas.append((q, "offered", 1))
    if state is None:  # events of contacts created before the window: ignored
        return None, []
    q = state["q"]
    if t in _START and not state["w"]:
        state["w"] = 1
        deltas.append((q, "waiting", 1))
    elif t in _END and state["w"]:
        state["w"] = 0
        deltas.append((q, "waiting", -1))
    if t == "contact.answered" and not state["a"]:
        state["a"] = 1
        deltas.append((q, "answered", 1))
    elif t == "contact.abandoned":
        deltas.append((q, "abandoned", 1))
    elif t == "contact.transferred":
        to = event["data"].get("to_queue")
        if to and to != q:
            if state["w"]:
                deltas.append((q, "waiting", -1))
            state["q"] = to
            state["w"] = 1
            deltas.append((to, "waiting", 1))
    return state, deltas


def apply_deltas(totals: dict[str, dict[str, int]], deltas) -> None:
    for q, k, d in deltas:
        row = totals.get(q)
        if row is None:
            row = totals[q] = {"waiting": 0, "offered": 0, "answered": 0, "abandoned": 0}
        row[k] += d


def reference(events) -> dict[str, dict[str, int]]:
    """Single-threaded reference over an event list in topic order per contact."""
    states: dict[str, dict] = {}
    totals: dict[str, dict[str, int]] = {}
    for e in events:
        s, deltas = step(states.get(e["subject"]), e)
        if s is not None:
            states[e["subject"]] = s
        apply_deltas(totals, deltas)
    return totals
