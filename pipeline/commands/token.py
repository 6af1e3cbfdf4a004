"""`tablero token create|list|revoke`: API tokens with roles and queue scopes."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pipeline.settings import get_settings
from supervisor_api.deps import ROLES

token_app = typer.Typer(help="API tokens (stored hashed).\n\n"
                        "Example: tablero token create --role supervisor --queue billing --name 'Ana'",
                        no_args_is_help=True)


def _store():
    from supervisor_api.auth import TokenStore

    return TokenStore(get_settings().tokens_path)


@token_app.command("create")
def create(role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}"),
           queue: list[str] = typer.Option(None, "--queue", help="Queue scope (repeatable); none = all queues."),
           name: str = typer.Option("", "--name", help="Who or what the token is for.")) -> None:
    """Create a token and print it once (it is stored hashed).

    Example: tablero token create --role wallboard --queue billing --name 'TV floor 2'
    """
    if role not in ROLES:
        Console(stderr=True).print(f"[red]error:[/red] --role must be one of {', '.join(ROLES)} (got {role!r})")
        raise typer.Exit(2)
    print(_store().create(name, role, queue or None))


@token_app.command("list")
def list_tokens() -> None:
    """List tokens (ids, roles, scopes; never the secrets). Example: tablero token list"""
    t = Table("id", "name", "role", "queues", "revoked")
    for r in _store().list():
        t.add_row(r.token_id, r.name, r.role, ",".join(r.queues) if r.queues else "(all)", "yes" if r.revoked else "")
    Console().print(t)


@token_app.command("revoke")
def revoke(token_id: str = typer.Argument(..., help="The token id shown by `tablero token list`.")) -> None:
    """Revoke a token. Example: tablero token revoke 1a2b3c4d"""
    if not _store().revoke(token_id):
        Console(stderr=True).print(f"[red]error:[/red] no token with id {token_id!r} (see `tablero token list`)")
        raise typer.Exit(1)
    print(f"revoked {token_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
