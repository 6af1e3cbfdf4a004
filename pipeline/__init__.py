"""Tablero's pipeline: the contract, the live state, the history, Kafka I/O and the commands.

Top level holds only the Faust app (app.py), the settings (settings.py) and the CLI entry (cli.py);
everything else lives in one subpackage per concern. The import rules are enforced by the
import-linter contracts in pyproject.toml (`lint-imports`, run by `make test`)."""
