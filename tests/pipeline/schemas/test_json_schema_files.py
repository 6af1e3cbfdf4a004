"""The committed JSON Schema files match the models, and say the same as the models."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from pipeline.schemas.examples import EXAMPLE_TYPES, example
from pipeline.schemas.export import SCHEMA_DIR, json_schemas, schema_file_name, write_json_schemas


def test_committed_schema_files_match_the_models():
    expected = json_schemas()
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.schema.json")}
    assert sorted(committed) == sorted(expected), "run: python -m pipeline.schemas.export"
    drifted = [name for name, text in expected.items() if committed[name] != text]
    assert not drifted, f"out of date: {drifted}; run: python -m pipeline.schemas.export"


def test_write_json_schemas_writes_one_file_per_type_and_removes_stale(tmp_path):
    (tmp_path / "contact.gone.v1.schema.json").write_text("{}")
    written = write_json_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(schema_file_name(t, "1") for t in EXAMPLE_TYPES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def _validator(event_type):
    schema = json.loads((SCHEMA_DIR / schema_file_name(event_type, "1")).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("event_type", EXAMPLE_TYPES)
def test_examples_valid_against_schema_files(event_type):
    _validator(event_type).validate(example(event_type, traceparent="00-a-b-01"))


@pytest.mark.parametrize("event_type,change", [
    ("contact.created", {"time": "2024-05-01T09:30:00"}),
    ("contact.created", {"data": {"channel": "fax", "queue": "q"}}),
    ("contact.created", {"Subject": "x"}),
    ("contact.created", {"ext": {"nested": 1}}),
    ("contact.rated", {"data": {"score": 6}}),
    ("contact.transferred", {"data": {}}),
    ("agent.state_changed", {"data": {"state": "away", "capacity": {"voice": -1}}}),
    ("contact.closed", {"type": "contact.reopened"}),
])
def test_schema_files_reject_what_models_reject(event_type, change):
    assert not _validator(event_type).is_valid(example(event_type, **change))
