"""Helpers shared by CLI commands: clear errors with exit code 2, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from childsafe.config import Config
    from childsafe.services import Services
    from childsafe.store import Store

err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code`` (2 = bad input or usage)."""
    # the message is plain text: "[train]" or a user's "[1, 2]" must not be read as markup
    err_console.print("[bold red]error:[/]", message.replace("[", "\\["), markup=True, soft_wrap=True)
    raise typer.Exit(code)


def open_store(config: Path | None) -> tuple[Config, Store]:
    """Load the config (``--config`` or $CHILDSAFE_CONFIG or defaults) and open its store alone (no service
    wired: commands that read children's data use :func:`open_services`); bad input -> exit 2."""
    from childsafe.config import ConfigError, load_config
    from childsafe.store import Store
    from childsafe.types import ChildsafeError

    if config is not None and not config.exists():
        fail(f"config file not found: {config}")
    try:
        cfg = load_config(config)
        store = Store.from_config(cfg.store)
    except (ConfigError, ChildsafeError) as exc:
        fail(str(exc))
    return cfg, store


@contextmanager
def open_services(config: Path | None) -> Iterator[Services]:
    """The deployment's services over its store, wired as the gateway wires them (``childsafe.services``):
    privacy events reach the audit chain, erasure reaches review cases, stored messages are read with the
    per-child keys. Bad input and service errors exit 2 with the message; never a traceback."""
    from childsafe.config import ConfigError, load_config
    from childsafe.services import Services
    from childsafe.types import ChildsafeError

    if config is not None and not config.exists():
        fail(f"config file not found: {config}")
    try:
        services = Services.open(load_config(config))
    except (ConfigError, ChildsafeError) as exc:
        fail(str(exc))
    try:
        yield services
    except ChildsafeError as exc:
        fail(str(exc))
    finally:
        services.close()
