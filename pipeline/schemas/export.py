"""Write the contract's JSON Schema files (one per event type and version) from the models.

Regenerate after changing a model:  .venv/bin/python -m pipeline.schemas.export
A test fails when pipeline/schemas/jsonschema/ drifts from the models.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline.schemas.registry import REGISTRY

SCHEMA_DIR = Path(__file__).parent / "jsonschema"
ID_BASE = "https://tablero.dev/schemas/"  # stable identifier only; nothing is served there


def schema_file_name(event_type: str, version: str) -> str:
    return f"{event_type}.v{version}.schema.json"


def json_schemas() -> dict[str, str]:
    """file name -> file text (deterministic: sorted keys, trailing newline)."""
    out: dict[str, str] = {}
    for (event_type, version), model in sorted(REGISTRY.items()):
        name = schema_file_name(event_type, version)
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": ID_BASE + name,
            **model.model_json_schema(mode="validation"),
        }
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def write_json_schemas(dir: Path | str = SCHEMA_DIR) -> list[Path]:
    """Write every schema file into `dir` (created if needed); stale *.schema.json files go."""
    target = Path(dir)
    target.mkdir(parents=True, exist_ok=True)
    files = json_schemas()
    for stale in target.glob("*.schema.json"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_json_schemas(sys.argv[1] if len(sys.argv) > 1 else SCHEMA_DIR):
        print(p)
