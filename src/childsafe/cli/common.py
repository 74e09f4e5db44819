"""Helpers shared by CLI commands: clear errors with exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from childsafe.config import Config
    from childsafe.store import Store

err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2 = bad input or usage)."""
    # the message is plain text: "[train]" or a user's "[1, 2]" must not be read as markup
    err_console.print("[bold red]error:[/]", message.replace("[", "\\["), markup=True, soft_wrap=True)
    raise typer.Exit(code)


def open_store(config: Path | None) -> tuple[Config, Store]:
    """Load the config (``--config`` or $CHILDSAFE_CONFIG or defaults) and open its store; bad input -> exit 2."""
    from childsafe.config import ConfigError, load_config
    from childsafe.store import Store
    from childsafe.types import ChildsafeError

    if config is not None and not config.exists():
        fail(f"config file not found: {config}")
    try:
        cfg = load_config(config)
        return cfg, Store.from_config(cfg.store)
    except (ConfigError, ChildsafeError) as exc:
        fail(str(exc))
