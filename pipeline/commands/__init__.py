"""The `tablero` CLI: one module per command group, each exposing `register(app)`
(assembled by pipeline/cli.py). Thin: parse options, call the packages, print.

Nothing else imports this package (import-linter keeps it so)."""
