"""`tablero` command line. Each command group lives in pipeline/commands/<name>.py and
exposes `register(app)`; this module only assembles them."""
from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import pipeline.commands
from pipeline.settings import SettingsError

app = typer.Typer(
    name="tablero",
    help="Tablero: live supervision and history for email, voice and chat contact centres.\n\n"
    "Example: tablero up   (local Kafka + worker + API + embedded ClickHouse)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# Commands whose Kafka clients need the TLS / SASL settings to work: they are checked once, before
# the command runs, so a wrong password is one line naming the setting instead of a retry loop.
KAFKA_COMMANDS = {"up", "worker", "api", "publish", "import", "simulate", "dlq", "live", "status"}


@app.callback()
def _check_kafka_access(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand not in KAFKA_COMMANDS or {"--help", "-h"} & set(sys.argv):
        return
    from pipeline.kafka.security import KafkaAccessError, check_access
    from pipeline.settings import get_settings

    try:
        check_access(get_settings())
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(2)
    except KafkaAccessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2)


try:
    for mod in sorted(pkgutil.iter_modules(pipeline.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pipeline.commands.{mod.name}")
        if hasattr(module, "register"):
            module.register(app)
except SettingsError as exc:  # some modules read the settings at import: say which variable is wrong
    print(exc, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    app()
