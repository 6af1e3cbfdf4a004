"""Every command answers --help with an example; bad settings name the variable."""
from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def _commands(group: typer.Typer, prefix=()):
    for cmd in group.registered_commands:
        yield prefix + (cmd.name or cmd.callback.__name__,)
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, prefix + (sub.name,))


COMMANDS = sorted(set(_commands(app)))


def test_the_command_set():
    names = {c[0] for c in COMMANDS}
    assert {"up", "worker", "api", "kafka", "migrate", "status", "config", "publish", "import", "simulate",
            "live", "report", "recompute", "dlq", "token", "demo"} <= names


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_has_an_example(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, result.output


def test_a_bad_setting_names_the_variable(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "config"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "TABLERO_SITE_TZ": "Nowhere/Land", "TABLERO_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2
    assert "TABLERO_SITE_TZ" in out.stderr + out.stdout
