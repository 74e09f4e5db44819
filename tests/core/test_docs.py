"""Every configuration key and every gateway route is documented (after datasette's tests/test_docs.py).

The config reference is generated (``childsafe config reference``), so it is compared with the command's
output; routes are written by hand, so each route's path must appear in a code span of the gateway docs.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from childsafe.config import Config
from childsafe.gateway import create_app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONFIG_DOC = DOCS / "configuration.md"
ROUTE_DOCS = ("gateway.md", "oversight.md", "privacy.md")
UNDOCUMENTED_ROUTES = {"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
"""FastAPI's own API docs pages (off outside --demo): not childsafe's routes."""


def _models(annotation: Any) -> list[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> Iterator[str]:
    """Every dotted key under ``model``, walked here independently of the generator (``[]`` for list items)."""
    for name, field in model.model_fields.items():
        yield prefix + name
        listed = get_origin(field.annotation) is list
        for sub in _models(field.annotation):
            yield from config_keys(sub, f"{prefix}{name}{'[].' if listed else '.'}")


def route_paths(routes: list[Any]) -> Iterator[str]:
    """Paths of an app's routes, also those of routers FastAPI includes lazily (``effective_route_contexts``)."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from (ctx.path for ctx in contexts())
        elif isinstance(getattr(route, "path", None), str):
            yield route.path
        else:
            raise AssertionError(f"cannot read the path of route {route!r}: teach route_paths about it")


def documented(path: str, text: str) -> bool:
    """``path`` appears in a code span or code block, with any name for its parameters (``{id}`` for ``{child_id}``)."""
    code = " ".join(re.findall(r"```.*?```|`[^`\n]+`", text, re.S))
    pattern = re.sub(r"\\\{[^}]*\\\}", r"\\{[^}]*\\}", re.escape(path))
    return re.search(rf"(?<![\w/}}.-]){pattern}(?![\w/{{-])", code) is not None


@pytest.fixture(scope="module")
def gateway_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    data = tmp_path_factory.mktemp("docs-gw")
    config = Config.model_validate(
        {
            "store": {"url": f"sqlite:///{data / 'gw.db'}", "data_dir": str(data)},
            "server": {"apps": [{"name": "docs-app", "key": "sk-docs"}], "demo": True, "web": {"docs": True}},
            "detectors": {},
        }
    )
    app = create_app(config)
    try:
        return sorted(set(route_paths(app.routes)))
    finally:
        app.state.gateway.store.close()


def test_every_config_key_is_in_the_reference() -> None:
    text = CONFIG_DOC.read_text(encoding="utf-8")
    keys = list(config_keys())
    assert {"server.limits.max_messages", "privacy.retention.messages", "server.apps[].key"} <= set(keys)
    # a key is a table row; a top-level section is a heading
    assert [k for k in keys if f"| `{k}` |" not in text and f"\n## `{k}`\n" not in text] == []


def test_the_reference_is_the_commands_current_output() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "childsafe.cli.main", "config", "reference"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert CONFIG_DOC.read_text(encoding="utf-8") == out, (
        "docs/configuration.md is stale: run `childsafe config reference > docs/configuration.md`"
    )


def test_every_gateway_route_is_documented(gateway_paths: list[str]) -> None:
    text = "\n".join((DOCS / name).read_text(encoding="utf-8") for name in ROUTE_DOCS)
    paths = [p for p in gateway_paths if p not in UNDOCUMENTED_ROUTES]
    assert {"/v1/chat/completions", "/review/cases/{case_id}", "/v1/children/{child_id}/consent"} <= set(paths)
    assert [p for p in paths if not documented(p, text)] == []


def test_documented_matches_paths_not_prefixes_or_stray_slashes() -> None:
    assert documented("/v1/children/{child_id}", "`DELETE /v1/children/{id}`")
    assert documented("/", "| `GET /` | home |")
    assert not documented("/login", "`/login-help`")
    assert not documented("/v1/children", "`/v1/children/{id}`")
    assert not documented("/", "`users disable NAME` / `enable NAME`")
    assert not documented("/metrics", "/metrics outside code")
