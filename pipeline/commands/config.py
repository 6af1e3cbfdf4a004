"""`tablero config`: the effective settings, secrets masked."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pipeline.settings import SettingsError, load_settings


def config() -> None:
    """Print the effective configuration (env TABLERO_*), secrets masked.

    Example: TABLERO_SITE_TZ=Europe/Madrid tablero config
    """
    try:
        values = load_settings().masked()
    except SettingsError as exc:
        Console(stderr=True).print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    table = Table("setting", "value")
    for k, v in values.items():
        table.add_row(k, v)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("config")(config)
