"""`childsafe config validate FILE`: validate a config or a policy file, naming the bad key and line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from childsafe.cli.common import fail
from childsafe.config import Config, ConfigError, _line_of, load_config, parse_yaml
from childsafe.config_reference import render_reference
from childsafe.policy import load_policy

config_app = typer.Typer(help="Validate and show configuration.", no_args_is_help=True)

MODEL_FILES: dict[str, tuple[str, ...]] = {
    "conversation": ("card.json", "grooming.npz"),
    "classifier": ("classifier.json",),
    "grooming_text": ("card.json", "grooming_text.npz"),
    "multilingual": ("card.json",),
}
"""The files a model folder must hold, by the section (``conversation``) or detector that reads it."""


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="A config YAML or a policy YAML")]) -> None:
    """Validate FILE (a childsafe config, or a policy with 'rules'); a config's model folders must exist."""
    if not file.exists():
        fail(f"file not found: {file}")
    try:
        text = file.read_text(encoding="utf-8")
        data = parse_yaml(text, str(file))
        if isinstance(data, dict) and "rules" in data:
            policy = load_policy(file)
            typer.echo(f"{file}: valid policy {policy.version} with {len(policy.rules)} rules")
        else:
            cfg = load_config(file, env=False)
            if cfg.policy is not None:
                load_policy(cfg.policy)
            problems = missing_models(cfg, text, str(file))
            if problems:
                raise ConfigError("\n".join(problems))
            typer.echo(f"{file}: valid config")
    except ConfigError as exc:
        fail(f"invalid:\n{exc}")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")


def _model_dirs(cfg: Config) -> list[tuple[tuple[str, ...], str, str]]:
    """(key path, folder, what reads it) for every model folder the config names."""
    found: list[tuple[tuple[str, ...], str, str]] = []
    if cfg.conversation.model_dir is not None:
        found.append((("conversation", "model_dir"), cfg.conversation.model_dir, "conversation"))
    for name, options in cfg.detectors.items():
        folder = options.get("model_dir")
        if folder is not None:
            found.append((("detectors", name, "model_dir"), str(folder), name))
    return found


def missing_models(cfg: Config, text: str, source: str) -> list[str]:
    """One line per model folder that is missing or lacks its model files, naming the key (and its line).

    Without this a wrong path passed validation and showed only at start, as a detector that could not load,
    which makes the gateway block everything (fail closed). Relative paths are read from the current folder,
    as the detectors read them."""
    problems = []
    for loc, folder, reader in _model_dirs(cfg):
        key = ".".join(loc)
        line = _line_of(text, loc)
        where = f"{source}: {key}" + (f" (line {line})" if line is not None else "")
        path = Path(folder)
        if not path.is_dir():
            problems.append(f"{where}: model folder not found: {folder}")
            continue
        missing = [name for name in MODEL_FILES.get(reader, ()) if not (path / name).is_file()]
        if missing:
            problems.append(f"{where}: no model in {folder} (missing {', '.join(missing)})")
    return problems


@config_app.command("show")
def show(file: Annotated[Path | None, typer.Argument(help="Config YAML (default: built-in defaults)")] = None) -> None:
    """Print the effective configuration as JSON."""
    try:
        cfg = load_config(file)
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(cfg.model_dump_json(indent=2))


@config_app.command("reference")
def reference() -> None:
    """Print the Markdown reference of every config key (type, default, description): docs/configuration.md."""
    typer.echo(render_reference(), nl=False)
