"""Helpers shared by CLI commands: clear errors with exit code 2, never a traceback."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2 = bad input or usage)."""
    # the message is plain text: "[train]" or a user's "[1, 2]" must not be read as markup
    err_console.print("[bold red]error:[/]", message.replace("[", "\\["), markup=True, soft_wrap=True)
    raise typer.Exit(code)
