"""The worker's fast path for valid events: msgspec structs derived from the pydantic contract.

The contract is defined once, in the pydantic models of registry.py (JSON Schemas, docs and the
HTTP validation come from them). This module *translates* those models, field by field, into
msgspec structs at import time, and `decode(raw)` returns the same `Event` that
validation._validate_obj would, or None. None means "not sure": the caller then runs the pydantic
path, which accepts or rejects and says why. So the fast path only has to be sound -- never accept
what pydantic rejects, never return a different Event -- not complete:

* it declines (None) on anything a strict reading of the models cannot settle: extension
  attributes (unknown top-level keys are forbidden here), unknown keys inside `data` (msgspec
  would skip their values unread, and pydantic's JSON reader rejects some of them: a number past
  a double's range), types with more than one contract
  version, times outside the common RFC 3339 shape (lowercase t/z, more than microseconds), any
  decode error, and bytes msgspec would not check as pydantic does: non-UTF-8 anywhere (msgspec
  skips unknown keys unread), a backslash or a DEL byte anywhere;
* the "no control characters" patterns of ids and texts therefore need no regular expression: in
  JSON a control character can only be written as an escape, and DEL is refused by the byte guard;
* other patterns are compiled with ASCII classes (`\\d` is [0-9], `\\s` ASCII space) and a final
  `$` becomes `\\Z`: Python's `$` also matches before a trailing newline and its Unicode classes
  are wider than the Rust ones pydantic uses; narrower is sound, wider would not be;
* after-validators (tags sorted and distinct) and model validators (a transfer names a queue or an
  agent) are the contract's own functions, called on the decoded struct.

A construct the translator does not know (a new field type, a before-validator) raises at import:
extend the translator, never the models' twin. tests/pipeline/schemas/test_fast_decode.py checks,
by property, that both paths agree on valid, mutated and hostile input.

Pure: no I/O.
"""
from __future__ import annotations

import re
from datetime import datetime
from types import NoneType, UnionType
from typing import Annotated, Any, Callable, Literal, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import AfterValidator, BaseModel, StringConstraints
from pydantic.fields import FieldInfo
from pydantic.types import Strict

from pipeline.schemas.envelope import EnvelopeV1
from pipeline.schemas.event import Event
from pipeline.schemas.fields import END_TIME, MIN_TIME, _EventTime
from pipeline.schemas.registry import REGISTRY

# The contract's bounds as epoch seconds: exact floats (whole seconds), and for an aware datetime
# t.timestamp() is (t - epoch) / 1 s, the same correctly rounded division of microseconds, so
# comparing the float is comparing the instant (tests/pipeline/schemas/test_fast_decode.py)
_MIN_EPOCH = MIN_TIME.timestamp()
_END_EPOCH = END_TIME.timestamp()
_asdict = msgspec.structs.asdict
# the common RFC 3339 shape (uppercase T/Z, at most microseconds): exactly what fromisoformat and
# pydantic read the same way; any other legal form goes to pydantic
_FAST_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])").fullmatch


class _Decline(Exception):
    """The fast path cannot settle this event; pydantic will."""


class UnsupportedContract(TypeError):
    """A contract construct the translator does not know: extend it (see the module doc)."""


# `^[^<class>]*$` where the class holds only code points below 0x20 and 0x7f: in JSON the first
# can only be written as escapes, so a value without a backslash and a DEL byte has none of them.
_CONTROL_CLASS = re.compile(r"\^\[\^((?:\\x[0-9a-fA-F]{2}(?:-\\x[0-9a-fA-F]{2})?)+)\]\*\$")
_RANGE = re.compile(r"\\x([0-9a-fA-F]{2})(?:-\\x([0-9a-fA-F]{2}))?")


def _is_control_class(p: str) -> bool:
    m = _CONTROL_CLASS.fullmatch(p)
    if m is None:
        return False
    for lo, hi in _RANGE.findall(m.group(1)):
        a, b = int(lo, 16), int(hi or lo, 16)
        if not all(c < 0x20 or c == 0x7F for c in range(a, b + 1)):
            return False
    return True


def _pattern(p: str) -> str | None:
    """The pattern as msgspec checks it, or None when the byte guard in decode() checks it."""
    if _is_control_class(p):
        return None
    if p.endswith("$") and not p.endswith("\\$"):
        p = p[:-1] + "\\Z"
    return "(?a)" + p


def _string_meta(c: StringConstraints) -> msgspec.Meta:
    if c.strip_whitespace or c.to_upper or c.to_lower or c.ascii_only or c.strict is False:
        raise UnsupportedContract(f"string constraint not translated: {c!r}")
    kw: dict[str, Any] = {}
    if c.min_length is not None:
        kw["min_length"] = c.min_length
    if c.max_length is not None:
        kw["max_length"] = c.max_length
    if c.pattern is not None:
        pattern = _pattern(c.pattern if isinstance(c.pattern, str) else c.pattern.pattern)
        if pattern is not None:
            kw["pattern"] = pattern
    return msgspec.Meta(**kw)


_BOUNDS = {annotated_types.Ge: "ge", annotated_types.Le: "le", annotated_types.Gt: "gt", annotated_types.Lt: "lt",
           annotated_types.MaxLen: "max_length", annotated_types.MinLen: "min_length"}


class _Field:
    """How one field of one model is read: its msgspec type and what runs after decoding."""

    def __init__(self) -> None:
        self.after: list[Callable] = []  # the contract's after-validators, in order
        self.is_time = False


def _translate(tp: Any, metadata: list, info: _Field) -> Any:
    """A pydantic annotation (plus its field metadata) -> a msgspec annotation."""
    metas: list[msgspec.Meta] = []
    for m in metadata:
        if isinstance(m, StringConstraints):
            metas.append(_string_meta(m))
        elif type(m) in _BOUNDS:
            name = _BOUNDS[type(m)]
            metas.append(msgspec.Meta(**{name: getattr(m, name)}))
        elif isinstance(m, Strict):
            if not m.strict:
                raise UnsupportedContract("lax fields are not translated")
        elif isinstance(m, AfterValidator):
            info.after.append(m.func)
        elif isinstance(m, FieldInfo):  # Annotated[int, Field(ge=..)]: its own metadata
            return _translate(Annotated[tp, *m.metadata] if m.metadata else tp, [], info)
        elif m is _EventTime:
            if tp is not datetime:
                raise UnsupportedContract("EventTime on a non-datetime")
            info.is_time = True
            return str  # its shape is checked by _epoch
        else:
            raise UnsupportedContract(f"field metadata not translated: {m!r}")
    origin = get_origin(tp)
    if origin is Annotated:
        base, *inner = get_args(tp)
        return _translate(base, [*inner, *metadata], info)
    if origin in (Union, UnionType):
        args = get_args(tp)
        if len(args) == 2 and NoneType in args:  # Optional[X]: None is legal
            (inner,) = [a for a in args if a is not NoneType]
            t = _translate(inner, [], info)
            out: Any = t | None
        else:
            raise UnsupportedContract(f"union not translated: {tp!r}")
    elif origin is Literal:
        out = tp
    elif origin is list:
        (item,) = get_args(tp)
        out = list[_translate(item, [], _Field())]
    elif origin is dict:
        k, v = get_args(tp)
        out = dict[_translate(k, [], _Field()), _translate(v, [], _Field())]
    elif tp in (str, int):
        out = tp
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        out = _struct_for(tp)
    else:
        raise UnsupportedContract(f"type not translated: {tp!r}")
    return Annotated[out, *metas] if metas else out


_STRUCTS: dict[type, type] = {}
_FINISH: dict[type, Callable[[Any], dict]] = {}  # struct class -> its data as the pydantic path gives it


def _model_validators(model: type[BaseModel]) -> list[Callable]:
    decorators = model.__pydantic_decorators__
    if decorators.field_validators or decorators.validators or decorators.root_validators:
        raise UnsupportedContract(f"{model.__name__}: field validators are not translated")
    out = []
    for d in decorators.model_validators.values():
        if d.info.mode != "after":
            raise UnsupportedContract(f"{model.__name__}: {d.info.mode} model validators are not translated")
        out.append(d.func)
    return out


def _struct_for(model: type[BaseModel]) -> type:
    """The msgspec twin of a pydantic model (data models; the envelope is built in _envelope)."""
    if model in _STRUCTS:
        return _STRUCTS[model]
    if model.model_config.get("extra") not in (None, "ignore") or not model.model_config.get("strict"):
        raise UnsupportedContract(f"{model.__name__}: only strict models that ignore unknown keys are translated")
    fields, posts = [], []
    for name, f in model.model_fields.items():
        info = _Field()
        t = _translate(f.annotation, list(f.metadata), info)
        if info.is_time:
            posts.append((name, _epoch))
        for fn in info.after:
            posts.append((name, fn))
        if f.is_required():
            fields.append((name, t))
        elif f.default_factory is not None:
            fields.append((name, t, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((name, t, f.default))
    struct = msgspec.defstruct(f"Fast{model.__name__}", fields, frozen=True, kw_only=True,
                               forbid_unknown_fields=True)
    validators = _model_validators(model)

    def finish(s: Any) -> dict:
        for check in validators:
            try:
                check(s)  # the contract's own rule, on an object with the same attributes
            except (ValueError, AssertionError) as exc:
                raise _Decline from exc
        data = _asdict(s)
        for n, fn in posts:
            data[n] = fn(data[n])
        return data

    _STRUCTS[model] = struct
    _FINISH[struct] = finish if validators or posts else _asdict
    return struct


# The usual shape, "YYYY-MM-DDTHH:MM:SS.mmmZ", without the regex and the datetime: its minute
# looked up (validated once by the general path, then cached), seconds and milliseconds from
# small tables of their exact digits. (minute_ms + ms) / 1000 and the general path's
# microseconds / 10**6 are the same rational number, and both divisions round it correctly:
# the same float. 0.41 instead of 0.70 us an event (timeit on this machine).
_MINUTES: dict[str, int] = {}  # minute prefix -> its epoch milliseconds; whole minute in bounds
_MINUTES_MAX = 20_000  # two weeks of minutes; emptied when full
_SECONDS = {f"{i:02d}": i * 1000 for i in range(60)}
_MILLIS = {f"{i:03d}": i for i in range(1000)}


def _epoch(value: str) -> float:
    if len(value) == 24 and value[23] == "Z" and value[19] == "." and value[16] == ":":
        minute = _MINUTES.get(value[:16])
        if minute is not None:
            sec = _SECONDS.get(value[17:19])
            ms = _MILLIS.get(value[20:23])
            if sec is not None and ms is not None:
                return (minute + sec + ms) / 1000
        elif _FAST_TIME(value) is not None:
            _learn_minute(value[:16])
    return _general_epoch(value)


def _learn_minute(prefix: str) -> None:
    """Cache a minute ("YYYY-MM-DDTHH:MM", the shape checked) when it is a real one and every
    instant in it is inside the contract's bounds."""
    try:
        start = datetime.fromisoformat(prefix + ":00+00:00").timestamp()
    except ValueError:
        return  # Feb 30, hour 24: the general path declines it
    if _MIN_EPOCH <= start and start + 60 <= _END_EPOCH:
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        _MINUTES[prefix] = int(start) * 1000


def _general_epoch(value: str) -> float:
    if _FAST_TIME(value) is None:
        raise _Decline
    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:  # Feb 30, hour 24, leap second, offset past 23:59: pydantic says why
        raise _Decline from exc
    epoch = t.timestamp()  # aware (the pattern requires an offset): no local time involved
    if not _MIN_EPOCH <= epoch < _END_EPOCH:
        raise _Decline
    return epoch


def _envelope(event_type: str, model: type[BaseModel]) -> tuple[type, Callable]:
    """The tagged struct of one event type, and the function from it to an Event."""
    fields = []
    data_struct = None
    for name, f in model.model_fields.items():
        if name == "type":
            continue  # the union's tag
        if name == "data":
            data_struct = _struct_for(f.annotation)
            if any(g.is_required() for g in f.annotation.model_fields.values()):
                fields.append(("data", data_struct))  # missing data: pydantic names the inner field
            else:
                fields.append(("data", data_struct, msgspec.field(default_factory=data_struct)))
            continue
        info = _Field()
        t = _translate(f.annotation, list(f.metadata), info)
        if info.after or (info.is_time and name != "time"):
            raise UnsupportedContract(f"envelope field {name!r} not translated")
        fields.append((name, t) if f.is_required() else (name, t, f.default))
    if data_struct is None:
        raise UnsupportedContract(f"{model.__name__} has no data model")
    # unknown top-level keys are extension attributes, checked by the envelope's own validator:
    # forbidding them here sends every event that has one to pydantic
    for check in _model_validators(model):
        if check is not EnvelopeV1._extensions_only:
            raise UnsupportedContract(f"{model.__name__}: envelope validator {check.__name__} not translated")
    struct = msgspec.defstruct(f"Fast{model.__name__}", fields, tag_field="type", tag=event_type,
                               forbid_unknown_fields=True, frozen=True, kw_only=True)
    finish_data = _FINISH[data_struct]

    def to_event(s: Any) -> Event:
        return Event(s.id, event_type, _epoch(s.time), s.subject, s.source, finish_data(s.data), s.specversion)

    return struct, to_event


def _build(registry: dict[tuple[str, str], type[BaseModel]]) -> tuple[msgspec.json.Decoder, dict[type, Callable]]:
    versions: dict[str, int] = {}
    for event_type, _ in registry:
        versions[event_type] = versions.get(event_type, 0) + 1
    structs, converters = [], {}
    for (event_type, version), model in registry.items():
        if versions[event_type] > 1:
            continue  # dispatch on (type, tablerover) stays with pydantic
        struct, to_event = _envelope(event_type, model)
        structs.append(struct)
        converters[struct] = to_event
    return msgspec.json.Decoder(Union[tuple(structs)]), converters  # type: ignore[arg-type]


_DECODER, _CONVERT = _build(REGISTRY)
_decode = _DECODER.decode


def decode(raw: bytes) -> Event | None:
    """The Event pydantic would build from `raw`, or None when only pydantic can say."""
    if b"\\" in raw or b"\x7f" in raw:
        return None  # escapes (control characters, quotes) and DEL: see _CONTROL_CLASS
    try:
        if not raw.isascii():
            raw.decode("utf-8")  # msgspec skips unknown keys and values without checking them
        s = _decode(raw)
        return _CONVERT[type(s)](s)
    except (msgspec.DecodeError, _Decline, UnicodeDecodeError):
        return None
    except Exception:  # noqa: BLE001 - whatever else (a nesting limit): the models' path decides
        return None
