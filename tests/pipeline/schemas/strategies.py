"""Hypothesis strategies shared by the contract's tests: JSON values, and valid example events
mutated by dropping, setting or adding keys (top level or inside `data`)."""
from __future__ import annotations

from hypothesis import strategies as st

from pipeline.schemas.examples import EXAMPLE_TYPES, example


def json_values(*extra_leaves, max_leaves: int = 12, integers=st.integers()):
    """Any JSON value (and a few Python ones JSON encoders refuse: NaN, huge ints), plus
    `extra_leaves` sampled as leaves."""
    leaves = st.none() | st.booleans() | integers | st.floats() | st.text(max_size=20)
    if extra_leaves:
        leaves = leaves | st.sampled_from(extra_leaves)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=max_leaves,
    )


@st.composite
def mutated_events(draw, values=json_values()):
    ev = example(draw(st.sampled_from(EXAMPLE_TYPES)))
    for _ in range(draw(st.integers(0, 3))):
        target = ev
        if "data" in ev and isinstance(ev["data"], dict) and draw(st.booleans()):
            target = ev["data"]
        action = draw(st.sampled_from(["drop", "set", "add"]))
        keys = sorted(target)
        if action == "drop" and keys:
            target.pop(draw(st.sampled_from(keys)))
        elif action == "set" and keys:
            target[draw(st.sampled_from(keys))] = draw(values)
        else:
            target[draw(st.text(max_size=12))] = draw(values)
    return ev
