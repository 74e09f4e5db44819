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
        store = Store.from_config(cfg.store)
    except (ConfigError, ChildsafeError) as exc:
        fail(str(exc))
    try:
        _read_messages_as_the_gateway(cfg, store)
    except BaseException:
        store.close()
        raise
    return cfg, store


def _read_messages_as_the_gateway(cfg: Config, store: Store) -> None:
    """Swap in the per-child-key message vault the gateway writes with (``install_privacy``).

    The store's own vault knows only the store-wide key, so reading a gateway's stored messages with it failed
    (``InvalidTag``) in every command that reads them (feedback export, incident reports). The per-child vault
    still reads rows written with the store-wide key."""
    from childsafe.privacy.service import PrivacyServices

    if store.messages is not None:
        store.messages = PrivacyServices.from_config(cfg, store).message_vault(int(cfg.store.retention_days))
