"""`tablero connect <source>`: run a connector that turns a real source into contract events.

The group is assembled from the modules `pipeline/commands/connect_<source>.py`, each exposing
`register_connect(group)`; adding a source means adding such a module, nothing here."""
from __future__ import annotations

import importlib
import pkgutil

import typer

import pipeline.commands

connect_app = typer.Typer(
    help="Connect a real source (a PBX's queue_log, a mailbox, ...) to Tablero.\n\n"
         "Example: tablero connect asterisk /var/log/asterisk/queue_log --follow",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    for mod in sorted(pkgutil.iter_modules(pipeline.commands.__path__), key=lambda m: m.name):
        if mod.name.startswith("connect_"):
            module = importlib.import_module(f"pipeline.commands.{mod.name}")
            if hasattr(module, "register_connect"):
                module.register_connect(connect_app)
    app.add_typer(connect_app, name="connect")
