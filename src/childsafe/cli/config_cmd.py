"""`childsafe config validate FILE`: validate a config or a policy file, naming the bad key and line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from childsafe.cli.common import fail
from childsafe.config import ConfigError, load_config, parse_yaml
from childsafe.policy import load_policy

config_app = typer.Typer(help="Validate and show configuration.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="A config YAML or a policy YAML")]) -> None:
    """Validate FILE (a childsafe config, or a policy with 'rules')."""
    if not file.exists():
        fail(f"file not found: {file}")
    try:
        data = parse_yaml(file.read_text(encoding="utf-8"), str(file))
        if isinstance(data, dict) and "rules" in data:
            policy = load_policy(file)
            typer.echo(f"{file}: valid policy {policy.version} with {len(policy.rules)} rules")
        else:
            cfg = load_config(file, env=False)
            if cfg.policy is not None:
                load_policy(cfg.policy)
            typer.echo(f"{file}: valid config")
    except ConfigError as exc:
        fail(f"invalid:\n{exc}")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")


@config_app.command("show")
def show(file: Annotated[Path | None, typer.Argument(help="Config YAML (default: built-in defaults)")] = None) -> None:
    """Print the effective configuration as JSON."""
    try:
        cfg = load_config(file)
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(cfg.model_dump_json(indent=2))
