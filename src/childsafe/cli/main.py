"""The `childsafe` command."""

from __future__ import annotations

import importlib
import logging

import typer

from childsafe import __version__

app = typer.Typer(
    name="childsafe",
    help="childsafe: a child-safety layer for AI services that children use.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each command lives in its own module exposing register(app); heavy imports stay inside the commands.
_COMMANDS = (
    "check",
    "config_cmd",
    "serve_cmd",
    "eval_cmd",
    "train_cmd",
    "scan_cmd",
    "redteam_cmd",
    "audit_cmd",
    "data_cmd",
    "report_cmd",
    "users_cmd",
)


@app.command("version")
def version() -> None:
    """Print the childsafe version."""
    typer.echo(__version__)


def _register_all() -> None:
    for mod in _COMMANDS:
        module = importlib.import_module(f"childsafe.cli.{mod}")
        module.register(app)


_register_all()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
