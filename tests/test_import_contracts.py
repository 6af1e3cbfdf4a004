"""The architecture rules in pyproject.toml ([tool.importlinter]) hold, and they have teeth:
a copy of the tree in which a pure module imports an I/O one breaks the contract."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=240)


def test_the_tree_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "static")
    for name in ("pipeline", "supervisor_api"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize("module, bad_import", [
    ("pipeline/live/contact_state.py", "import clickhouse_connect"),
    ("pipeline/schemas/validation.py", "from pipeline.kafka import admin"),
    ("pipeline/history/contact_facts.py", "from pipeline.history import clickhouse_store"),
    ("pipeline/calendars/zones.py", "import aiokafka"),
])
def test_a_pure_module_importing_io_breaks_the_contract(tree_copy, module, bad_import):
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{bad_import}  # injected by the test\n")
    result = lint(tree_copy)
    assert result.returncode != 0
    assert "Pure logic" in result.stdout and "BROKEN" in result.stdout


def test_importing_the_cli_breaks_the_contract(tree_copy):
    path = tree_copy / "supervisor_api" / "main.py"
    path.write_text(path.read_text() + "\nimport pipeline.commands.run  # injected by the test\n")
    result = lint(tree_copy)
    assert result.returncode != 0
    assert "Nothing imports the CLI BROKEN" in result.stdout.replace("\n", " ")
