"""Bytes (or parsed JSON) -> normalized `Event`, or a `Rejection` saying why not.

Never raises: the worker calls it on every Kafka record and the HTTP endpoint on every item,
and one hostile payload must become a dead-letter entry, not a crashed consumer.

Fast path (valid event): msgspec structs translated from the pydantic models (fast_decode.py)
decode and check the bytes in one pass and build the Event; whatever they cannot settle takes the
models' path: orjson.loads -> one dict lookup on (type, tablerover) -> the type's compiled
pydantic validator -> Event built from the model's attributes (no model_dump). Only the models'
path writes rejections, so every reason comes from the contract's own definitions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from pydantic import ValidationError

from pipeline.schemas.envelope import DEFAULT_VERSION, VERSION_ATTRIBUTE
from pipeline.schemas.event import Event
from pipeline.schemas.fast_decode import decode as _fast_decode
from pipeline.schemas.fields import MAX_YEAR, MIN_YEAR
from pipeline.schemas.registry import REGISTRY

# Codes validation can produce; `duplicate_conflict` is assigned later by dedup and listed
# here so every dead-letter code lives in one closed set.
TOO_LARGE = "too_large"
NOT_UTF8 = "not_utf8"
MALFORMED_JSON = "malformed_json"
NOT_OBJECT = "not_object"
UNKNOWN_TYPE = "unknown_type"
UNSUPPORTED_VERSION = "unsupported_version"
INVALID_FIELD = "invalid_field"
DUPLICATE_CONFLICT = "duplicate_conflict"
REJECTION_CODES = frozenset({
    TOO_LARGE, NOT_UTF8, MALFORMED_JSON, NOT_OBJECT, UNKNOWN_TYPE, UNSUPPORTED_VERSION,
    INVALID_FIELD, DUPLICATE_CONFLICT,
})

NDJSON_CONTENT_TYPES = frozenset({
    "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
    "application/jsonlines",
})

_KNOWN_TYPES = frozenset(t for t, _ in REGISTRY)
# bound validate_python per (type, version): skips model_validate's Python frame on the hot path
_VALIDATORS = {key: model.__pydantic_validator__.validate_python for key, model in REGISTRY.items()}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)
_REASON_MAX = 300  # reasons go into dead-letter records and HTTP answers: keep them short


@dataclass(slots=True, frozen=True)
class Rejection:
    reason: str
    field: str | None
    code: str


def validate(raw: bytes, *, max_bytes: int) -> Event | Rejection:
    """Validate one serialized event (a Kafka value or one HTTP body/line)."""
    try:
        if isinstance(raw, str):  # tolerated for convenience; lone surrogates are not UTF-8
            try:
                raw = raw.encode("utf-8")
            except UnicodeEncodeError:
                return Rejection("event is not valid UTF-8", None, NOT_UTF8)
        elif not isinstance(raw, (bytes, bytearray, memoryview)):
            return Rejection(f"expected bytes, got {type(raw).__name__}", None, MALFORMED_JSON)
        size = len(raw) if not isinstance(raw, memoryview) else raw.nbytes
        if size > max_bytes:
            return Rejection(f"event is {size} bytes; the limit is {max_bytes}", None, TOO_LARGE)
        if type(raw) is bytes:
            ev = _fast_decode(raw)
            if ev is not None:
                return ev
        return validate_with_models(raw)
    except Exception as exc:  # noqa: BLE001 - last line of defence, see module doc
        return _internal(exc)


def validate_with_models(raw: bytes) -> Event | Rejection:
    """The pydantic path alone (the reference the fast path is tested against)."""
    try:
        obj = _loads(raw)
        if type(obj) is Rejection:
            return obj
        return _validate_obj(obj)
    except Exception as exc:  # noqa: BLE001 - last line of defence, see module doc
        return _internal(exc)


def validate_obj(obj: Any, *, max_bytes: int | None = None) -> Event | Rejection:
    """Validate an already parsed JSON value (an item of an HTTP JSON array, an NDJSON line).

    With `max_bytes`, the item's compact JSON size is checked too (an array body only has
    a size for the whole)."""
    try:
        if max_bytes is not None:
            try:
                size = len(orjson.dumps(obj))
            except (TypeError, orjson.JSONEncodeError) as exc:  # e.g. ints beyond 64 bits
                return Rejection(_short(f"not serializable as JSON: {exc}"), None, INVALID_FIELD)
            if size > max_bytes:
                return Rejection(f"event is {size} bytes; the limit is {max_bytes}", None, TOO_LARGE)
        return _validate_obj(obj)
    except Exception as exc:  # noqa: BLE001
        return _internal(exc)


def split_body(body: bytes, content_type: str | None, *, max_event_bytes: int | None = None) -> list[Any]:
    """Split an HTTP ingest body into items, in order.

    One event (JSON object), a JSON array of events, or NDJSON when the content type says so
    (application/x-ndjson and friends). Each item is a parsed JSON value for `validate_obj`, or
    a `Rejection` when that item is already lost (an unparsable NDJSON line, an oversized item).
    A body that is not JSON at all gives a single Rejection."""
    try:
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime in NDJSON_CONTENT_TYPES:
            return _split_ndjson(body, max_event_bytes)
        obj = _loads(body)
        if type(obj) is Rejection:
            return [obj]
        if isinstance(obj, list):
            if max_event_bytes is None:
                return obj
            return [_size_checked(item, i, max_event_bytes) for i, item in enumerate(obj)]
        if max_event_bytes is not None and len(body) > max_event_bytes:
            return [Rejection(f"event is {len(body)} bytes; the limit is {max_event_bytes}", None, TOO_LARGE)]
        return [obj]
    except Exception as exc:  # noqa: BLE001
        return [_internal(exc)]


def validate_many(body: bytes, content_type: str | None, *, max_event_bytes: int) -> list[Event | Rejection]:
    """split_body + validate_obj: one answer per item, in order (what the HTTP endpoint returns)."""
    return [item if type(item) is Rejection else validate_obj(item) for item in
            split_body(body, content_type, max_event_bytes=max_event_bytes)]


# ---------------------------------------------------------------------------------------------

def _loads(raw) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            bytes(raw).decode("utf-8")
        except UnicodeDecodeError as uexc:
            return Rejection(f"event is not valid UTF-8 (byte {uexc.start})", None, NOT_UTF8)
        return Rejection(_short(f"malformed JSON: {exc}"), None, MALFORMED_JSON)


def _split_ndjson(body: bytes, max_event_bytes: int | None) -> list[Any]:
    items: list[Any] = []
    for lineno, line in enumerate(bytes(body).split(b"\n"), start=1):
        line = line.strip()
        if not line:
            continue  # blank lines (and a trailing newline) separate nothing
        if max_event_bytes is not None and len(line) > max_event_bytes:
            items.append(Rejection(f"line {lineno}: event is {len(line)} bytes; the limit is {max_event_bytes}",
                                   None, TOO_LARGE))
            continue
        obj = _loads(line)
        if type(obj) is Rejection:
            obj = Rejection(_short(f"line {lineno}: {obj.reason}"), None, obj.code)
        items.append(obj)
    return items


def _size_checked(item: Any, index: int, max_bytes: int) -> Any:
    size = len(orjson.dumps(item))
    if size > max_bytes:
        return Rejection(f"item {index}: event is {size} bytes; the limit is {max_bytes}", None, TOO_LARGE)
    return item


def _validate_obj(obj: Any) -> Event | Rejection:
    if type(obj) is not dict:
        return Rejection(f"an event is a JSON object, not {_json_kind(obj)}", None, NOT_OBJECT)
    event_type = obj.get("type")
    version = obj.get(VERSION_ATTRIBUTE, DEFAULT_VERSION)
    check = _VALIDATORS.get((event_type, version)) if type(event_type) is str and type(version) is str else None
    if check is None:
        return _dispatch_failure(event_type, version)
    try:
        m = check(obj)
    except ValidationError as exc:
        return _from_validation_error(exc)
    data = dict(m.data.__dict__)
    if event_type == "contact.snoozed":
        data["until"] = (data["until"] - _EPOCH) / _SECOND
    # (t - epoch) / 1 s is a little cheaper than .timestamp() on pydantic's TzInfo
    return Event(m.id, event_type, (m.time - _EPOCH) / _SECOND, m.subject, m.source, data, m.specversion)


def _dispatch_failure(event_type: Any, version: Any) -> Rejection:
    if event_type is None:
        return Rejection("type: field required", "type", INVALID_FIELD)
    if type(event_type) is not str:
        return Rejection(f"type: must be a string, not {_json_kind(event_type)}", "type", INVALID_FIELD)
    if event_type not in _KNOWN_TYPES:
        return Rejection(_short(f"unknown event type {event_type!r}"), "type", UNKNOWN_TYPE)
    return Rejection(_short(f"{event_type} has no contract version {version!r}"), VERSION_ATTRIBUTE,
                     UNSUPPORTED_VERSION)


def _from_validation_error(exc: ValidationError) -> Rejection:
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = _loc_path(first["loc"])
    if not field and first.get("ctx", {}).get("attribute"):
        field = first["ctx"]["attribute"]
    msg = first["msg"].removeprefix("Value error, ")
    if first["loc"] and first["loc"][-1] in _TIME_FIELDS:
        msg = _time_message(first, msg)
    reason = f"{field}: {msg}" if field else msg
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more)"
    return Rejection(_short(reason), field or None, INVALID_FIELD)


_TIME_FIELDS = frozenset({"time", "until"})
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _time_message(error: dict, msg: str) -> str:
    # the core schema's own messages quote a regex or a bound; say what the publisher must fix
    kind, value = error["type"], error.get("input")
    if kind == "string_pattern_mismatch":
        if isinstance(value, str) and _NAIVE.fullmatch(value):
            return "needs a time zone offset (Z or +hh:mm), e.g. 2024-05-01T09:30:00Z"
        return "must be an RFC 3339 date-time with offset, e.g. 2024-05-01T09:30:00Z"
    if kind in ("greater_than_equal", "less_than"):
        return f"must be between the years {MIN_YEAR} and {MAX_YEAR}"
    if kind == "string_type":
        return "must be an RFC 3339 date-time string, e.g. 2024-05-01T09:30:00Z"
    return msg


def _loc_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _json_kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _short(s: str) -> str:
    return s if len(s) <= _REASON_MAX else s[: _REASON_MAX - 1] + "…"


def _internal(exc: BaseException) -> Rejection:
    # Should be unreachable (the property tests hunt for it); still a rejection, never a crash.
    return Rejection(_short(f"unexpected validation failure: {type(exc).__name__}: {exc}"), None, INVALID_FIELD)
