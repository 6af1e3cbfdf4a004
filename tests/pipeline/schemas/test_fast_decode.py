"""The msgspec fast path is sound: for any bytes it returns either None (the models decide) or
exactly the Event the pydantic models build, never an Event for what they reject."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator, ConfigDict

from pipeline.schemas import fast_decode
from pipeline.schemas.event import Event
from pipeline.schemas.examples import EXAMPLE_TYPES, example
from pipeline.schemas.fields import END_TIME, MIN_TIME
from pipeline.schemas.validation import Rejection, validate, validate_with_models
from tests.pipeline.schemas.strategies import json_values, mutated_events


def check(raw: bytes) -> Event | None:
    """The fast path's answer, after asserting it agrees with the models' path."""
    fast = fast_decode.decode(raw)
    if fast is not None:
        slow = validate_with_models(raw)
        assert not isinstance(slow, Rejection), f"fast path accepted what the models reject: {raw!r} -> {slow}"
        assert fast == slow, raw
    return fast


@pytest.mark.parametrize("event_type", EXAMPLE_TYPES)
def test_every_example_takes_the_fast_path(event_type):
    assert check(orjson.dumps(example(event_type))) is not None


def test_the_simulators_events_all_take_the_fast_path():
    from itertools import islice

    from pipeline.simulator import SimConfig, simulate

    events = list(islice(simulate(SimConfig(seed=7, duration_s=3 * 86400, tz="UTC")), 5000))
    assert {e["type"] for e in events} >= {"contact.created", "agent.state_changed", "contact.closed"}
    for e in events:
        assert check(orjson.dumps(e)) is not None, e


def _with(event_type: str, **changes) -> bytes:
    ev = example(event_type)
    for path, value in changes.items():
        target = ev
        *parents, leaf = path.split("__")
        for p in parents:
            target = target.setdefault(p, {})
        if value is _DROP:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return dumps(ev)


def dumps(ev) -> bytes:
    """Compact JSON with raw UTF-8 (as publishers send), big integers and lone surrogates kept."""
    return json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


_DROP = object()

# Each is legal or not for the models; the fast path must agree or decline.
EDGES = [
    _with("contact.created", time="2024-05-01t09:30:00z"),           # lowercase: pydantic's call
    _with("contact.created", time="2024-05-01T09:30:00.1234567Z"),   # beyond microseconds
    _with("contact.created", time="2024-05-01T09:30:00.123456Z"),
    _with("contact.created", time="2024-05-01T09:30:00.5+05:30"),
    _with("contact.created", time="2024-02-30T09:30:00Z"),           # no such day
    _with("contact.created", time="2024-05-01T24:00:00Z"),
    _with("contact.created", time="2016-12-31T23:59:60Z"),           # leap second
    _with("contact.created", time="2024-05-01T09:30:00+24:00"),
    _with("contact.created", time="2024-05-01T09:30:00-00:00"),
    _with("contact.created", time="2024-05-01T09:30:00+23:59"), _with("contact.created", time="2024-05-01T09:30:00+02:80"),
    _with("contact.created", time="2024-05-01T09:30:00+02:60"), _with("contact.created", time="2024-05-01T09:30:00+2:00"),
    _with("contact.created", time="1969-12-31T23:59:59Z"),
    _with("contact.created", time="1970-01-01T01:00:00+02:00"),      # 1969 as an instant
    _with("contact.created", time="2100-12-31T23:59:59.999999Z"),
    _with("contact.created", time="2100-12-31T23:30:00-01:00"),      # 2101 as an instant
    _with("contact.created", time="2024-05-01 09:30:00Z"),
    _with("contact.created", time="20240501T093000Z"),
    _with("contact.created", time="2024-05-01T09:30Z"),
    _with("contact.created", time="٢٠٢٤-05-01T09:30:00Z"),          # Arabic-Indic digits
    _with("contact.created", id="c-1\n"), _with("contact.created", id="c\x7f"), _with("contact.created", id=""),
    _with("contact.created", id="x" * 128), _with("contact.created", id="x" * 129), _with("contact.created", id="é" * 128),
    _with("contact.created", subject="a\u2028b"), _with("contact.created", source="s\u0085"),
    _with("contact.created", data__priority=1.0), _with("contact.created", data__priority=True),
    _with("contact.created", data__priority=256), _with("contact.created", data__priority=-1),
    _with("contact.created", data__priority=2**70),
    _with("contact.created", data__tags=["b", "a", "b"]), _with("contact.created", data__tags=[str(i) for i in range(65)]),
    _with("contact.created", data__tags=[str(i) for i in range(64)]), _with("contact.created", data__tags="vip"),
    _with("contact.created", data__channel="fax"), _with("contact.created", data__customer=None),
    _with("contact.created", data__unknown={"deep": [1, 2, {"x": None}]}),
    _with("contact.created", data=None), _with("contact.created", data=_DROP), _with("contact.created", data=[]),
    _with("contact.created", tablerover="1"), _with("contact.created", tablerover="2"), _with("contact.created", tablerover=1),
    _with("contact.created", ext="v"), _with("contact.created", Ext="v"), _with("contact.created", specversion="1.1"),
    _with("contact.created", datacontenttype="application/json"), _with("contact.created", datacontenttype="application/json\x1c"),
    _with("contact.created", datacontenttype="application/json\n"), _with("contact.created", datacontenttype="text/plain"),
    _with("contact.created", dataschema="https://example.com/s"), _with("contact.created", dataschema=""),
    _with("contact.customer_replied", data=_DROP), _with("contact.customer_replied", data={"x": 1}),
    _with("contact.transferred", data={}), _with("contact.transferred", data={"to_agent": "a-9"}),
    _with("contact.transferred", data__to_queue=None, data__to_agent=None),
    _with("contact.snoozed", data__until="2024-05-02T08:00:00Z"), _with("contact.snoozed", data__until="2024-05-02"),
    _with("contact.rated", data__score=0), _with("contact.rated", data__score=6), _with("contact.rated", data__score="5"),
    _with("agent.state_changed", data__capacity={"voice": True}), _with("agent.state_changed", data__capacity={"fax": 1}),
    _with("agent.state_changed", data__capacity={"voice": 10001}), _with("agent.state_changed", data__capacity=None),
    _with("agent.state_changed", data__reason="tab\there"), _with("agent.state_changed", data__state="lunch"),
    _with("contact.closed", data__resolution="x" * 1025), _with("contact.closed", data__resolution=None),
    b'{"specversion":"1.0","id":"a","id":"b","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"}',
    b'{"specversion":"1.0","id":"a","source":"s","type":"contact.reopened","type":"contact.abandoned","time":"2024-05-01T09:30:00Z","subject":"c"}',
    b'{"specversion":"1.0","id":"a\\ud800","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"}',
    b'{"specversion":"1.0","id":"a\x7f","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"}',
    b'{"specversion":"1.0","id":"a","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"} ',
    b'{"specversion":"1.0","id":"a","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"}x',
    b'\xef\xbb\xbf{"specversion":"1.0","id":"a","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"}',
    b'{"specversion":"1.0","id":"\xff","source":"s","type":"contact.reopened","time":"2024-05-01T09:30:00Z","subject":"c"}',
    b"[]", b"{}", b"null", b'"contact.created"', b"",
]


@pytest.mark.parametrize("raw", EDGES)
def test_edges_agree_or_decline(raw):
    check(raw)


def test_the_fast_path_really_decides_the_common_shapes():
    """Guard against a fast path that silently declines everything (and so proves nothing)."""
    for raw in (_with("contact.created", time="2024-05-01T09:30:00.123456Z"),
                _with("contact.created", data__tags=["b", "a", "b"]),
                _with("contact.transferred", data={"to_agent": "a-9"}),
                _with("agent.state_changed", data__capacity=None)):
        assert check(raw) is not None, raw


def test_declines_what_only_the_models_can_explain():
    # unknown keys in data: msgspec would skip their values unread, and the models' JSON reader
    # rejects a number past a double's range there (found by the mutation property below)
    overflow = _with("contact.resumed", data={}).replace(b'"data":{}', b'"data":{"n":3.9e+962}')
    assert b"3.9e+962" in overflow and isinstance(validate_with_models(overflow), Rejection)
    for raw in (_with("contact.created", data__unknown={"deep": [1, 2, {"x": None}]}), overflow,
                _with("contact.created", ext="v"), _with("contact.created", time="2024-05-01t09:30:00z"),
                _with("contact.transferred", data={}), _with("contact.created", id="c-1\n")):
        assert fast_decode.decode(raw) is None
        assert validate(raw, max_bytes=65536) == validate_with_models(raw)


# leaves near the contract's edges: control characters, DEL, lengths, times, look-alike numbers
EDGE_VALUES = json_values("", "x" * 129, "2024-05-01T09:30:00Z", "2024-05-01T09:30:00.1234567+01:00",
                          "a\x00", "a\x7f", "a\n", "voice", "available", "1", "1.0", "\ud7ff", "٣",
                          max_leaves=10, integers=st.integers(-(2**70), 2**70))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events(EDGE_VALUES), st.sampled_from(["plain", "trunc", "flip"]), st.integers(0, 10**6))
def test_agrees_with_the_models_on_mutated_events(ev, how, pos):
    raw = dumps(ev)
    if how == "trunc":
        raw = raw[: pos % (len(raw) + 1)]
    elif how == "flip":
        i = pos % len(raw)
        raw = raw[:i] + bytes([raw[i] ^ (1 << (pos % 8))]) + raw[i + 1:]
    check(raw)


# -- the translator refuses what it does not know -------------------------------------------------

def test_an_untranslated_construct_fails_loudly():
    class Lax(BaseModel):
        model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
        x: Annotated[str, BeforeValidator(str.strip)]

    with pytest.raises(fast_decode.UnsupportedContract, match="BeforeValidator"):
        fast_decode._struct_for(Lax)

    class NotStrict(BaseModel):
        model_config = ConfigDict(extra="ignore")
        x: int

    with pytest.raises(fast_decode.UnsupportedContract, match="strict"):
        fast_decode._struct_for(NotStrict)


@pytest.mark.parametrize("pattern,guarded", [
    (r"^[^\x00-\x1f\x7f]*$", True),
    (r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$", True),
    (r"^[^\x00-\x20]*$", False),          # a space is not an escape in JSON
    (r"^[^\x00-\x1f\x80]*$", False),
    (r"^[a-z]*$", False),
])
def test_only_control_character_classes_are_left_to_the_byte_guard(pattern, guarded):
    assert (fast_decode._pattern(pattern) is None) is guarded


_NEAR_RFC3339 = r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,8})?([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z"


@settings(max_examples=2000, deadline=None)
@given(st.from_regex(_NEAR_RFC3339), st.booleans())
def test_times_agree_with_the_models(when, in_data):
    """Times near the RFC 3339 shape (any digits, so impossible dates and offsets too)."""
    raw = _with("contact.snoozed", data__until=when) if in_data else _with("contact.created", time=when)
    check(raw)


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=-86_400 * 10**6, max_value=(4_133_980_800 + 86_400) * 10**6),
       st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59), st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_epoch_is_the_exact_division_and_the_bounds_are_instants(micros, offset_min, spec):
    """_epoch reads t.timestamp() and compares it with the bounds as floats: the same value as
    (t - epoch) / 1 s, and the same decisions as comparing the datetimes, at any offset."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    t = (epoch + timedelta(microseconds=micros)).astimezone(timezone(timedelta(minutes=offset_min)))
    text = t.isoformat(timespec=spec)
    t = datetime.fromisoformat(text)  # what the text says, after timespec's truncation
    if MIN_TIME <= t < END_TIME:
        assert fast_decode._epoch(text) == (t - epoch) / timedelta(seconds=1)
    else:
        with pytest.raises(fast_decode._Decline):
            fast_decode._epoch(text)


def _epoch_or_decline(fn, text):
    try:
        return fn(text)
    except fast_decode._Decline:
        return "declined"


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=-86_400 * 1000, max_value=(4_133_980_800 + 86_400) * 1000))
def test_the_cached_minutes_give_the_general_paths_floats(millis):
    """The common "...SS.mmmZ" shape (a cached minute plus table lookups) gives exactly the float
    of the general path, first sight and cached, at and beyond the contract's bounds."""
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    text = (epoch + timedelta(milliseconds=millis)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    expected = _epoch_or_decline(fast_decode._general_epoch, text)
    assert _epoch_or_decline(fast_decode._epoch, text) == expected  # learns the minute
    assert _epoch_or_decline(fast_decode._epoch, text) == expected  # from the cache


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}[:.][0-9]{2}[.:][0-9]{3}[Zz]\Z"),
       st.sampled_from(["2026-12-04T10:15:", "2026-02-28T23:59:", "9999-12-31T23:59:"]))
def test_the_cached_minutes_decline_what_the_general_path_declines(text, seen_minute):
    """Any digits in the 24-character shape (seconds 60-99, impossible dates, wrong separators),
    with its minute seen before or not."""
    _epoch_or_decline(fast_decode._epoch, seen_minute + "00.000Z")  # cached when it is in bounds
    for candidate in (text, seen_minute[:16] + text[16:]):
        assert _epoch_or_decline(fast_decode._epoch, candidate) == _epoch_or_decline(fast_decode._general_epoch, candidate)
