"""Every ```json example in docs/events.md is a valid event (or an array of valid events)."""
from __future__ import annotations

import re
from pathlib import Path

import orjson

from pipeline.schemas.event import Event
from pipeline.schemas.registry import EVENT_TYPES
from pipeline.schemas.validation import validate, validate_obj

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"
BLOCK = re.compile(r"^```json\n(.*?)^```", re.S | re.M)


def _blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_doc_examples_validate():
    seen_types = set()
    blocks = _blocks()
    assert len(blocks) >= len(EVENT_TYPES)
    for text in blocks:
        raw = text.encode()
        parsed = orjson.loads(raw)
        if isinstance(parsed, list):
            results = [validate_obj(item) for item in parsed]
        else:
            results = [validate(raw, max_bytes=65536)]
        for r in results:
            assert isinstance(r, Event), (r, text)
            seen_types.add(r.type)
    assert seen_types == set(EVENT_TYPES), set(EVENT_TYPES) - seen_types


def test_doc_lists_every_rejection_code():
    from pipeline.schemas.validation import REJECTION_CODES
    text = DOC.read_text(encoding="utf-8")
    for code in REJECTION_CODES:
        assert f"`{code}`" in text, code
