"""The Markdown reference of every configuration key, generated from the pydantic models in ``childsafe.config``.

Generated rather than written so it cannot drift: ``childsafe config reference`` prints it, docs/configuration.md
holds it, and tests/core/test_docs.py fails when the two differ.
"""

from __future__ import annotations

import inspect
import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from childsafe.config import Config

HEADER = """# Configuration reference

Every key of a childsafe config file, generated from the pydantic models in `src/childsafe/config.py` (and the
sections they include, such as `childsafe.privacy.settings`) by `childsafe config reference`; do not edit it by
hand: after changing a model, regenerate it with `childsafe config reference > docs/configuration.md`
(tests/core/test_docs.py fails until you do). Keys are dotted paths into the YAML file (`server.limits.max_messages`
is `max_messages` under `limits` under `server`; `[]` marks a list of entries); any key can also be set by an
environment variable, `CHILDSAFE_SECTION__KEY` (`CHILDSAFE_SERVER__PORT=9000`). `childsafe config validate FILE`
checks a file and `childsafe config show [FILE]` prints the effective values. The walk-through of the keys that
matter most is in [gateway.md](gateway.md#running-it-for-real).
"""


@dataclass(frozen=True)
class KeyDoc:
    """One row of the reference: a leaf key, or a section (a nested model) with its docstring."""

    key: str
    type: str
    default: str
    description: str


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds directly (``M``, ``M | None``) or as list items (``list[M]``)."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list or any(_is_list(a) for a in get_args(annotation) if a is not type(None))


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(annotation))
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in get_args(annotation))}]"
    if annotation is type(None):
        return "None"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


_BOUNDS = (
    ("ge", "≥"),
    ("gt", ">"),
    ("le", "≤"),
    ("lt", "<"),
    ("min_length", "min length"),
    ("max_length", "max length"),
    ("pattern", "matches"),
)


def _constraints(field: FieldInfo) -> str:
    """Bounds the validator enforces (``ge=1``), so the reference says what a value may be, not only its type."""
    found = []
    for meta in field.metadata:
        for attr, word in _BOUNDS:
            value = getattr(meta, attr, None)
            if value is not None:
                found.append(f"{word} `{value}`" if attr == "pattern" else f"{word} {value}")
    return f" ({', '.join(found)})" if found else ""


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _docstring(model: type[BaseModel]) -> str:
    """The model's own docstring (not one inherited from BaseModel), first paragraph, on one line."""
    doc = inspect.cleandoc(model.__dict__.get("__doc__") or "")
    return " ".join(doc.split("\n\n")[0].split())


def iter_keys(model: type[BaseModel] = Config, prefix: str = "") -> Iterator[KeyDoc]:
    """Every key under ``model`` depth first, dotted from the root; a nested model is a section row then its keys."""
    for name, field in model.model_fields.items():
        key = prefix + name
        nested = _models_in(field.annotation)
        if nested:
            listed = _is_list(field.annotation)
            optional = type(None) in get_args(field.annotation)
            kind = "list of entries" if listed else "section" + (", optional" if optional else "")
            default = "`[]`" if listed else ("`null`" if optional else "")
            yield KeyDoc(key, kind, default, field.description or _docstring(nested[0]))
            for sub in nested:
                yield from iter_keys(sub, key + ("[]." if listed else "."))
            continue
        yield KeyDoc(key, _type_name(field.annotation) + _constraints(field), _default(field), field.description or "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_reference() -> str:
    """docs/configuration.md: the header, then one table per top-level section (top-level keys first)."""
    rows = list(iter_keys())
    sections = [r for r in rows if "." not in r.key and not r.key.endswith("[]") and r.type.startswith("section")]
    names = {s.key for s in sections}
    top = [r for r in rows if "." not in r.key and r.key not in names]
    blocks = [HEADER, _block("Top level", _docstring(Config), top)]
    for head in sections:
        inside = [r for r in rows if r.key.startswith(head.key + ".")]
        blocks.append(_block(f"`{head.key}`", head.description, inside))
    return "\n".join(blocks)


def _block(title: str, intro: str, rows: list[KeyDoc]) -> str:
    lines = [f"## {title}", ""] + ([intro, ""] if intro else [])
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    lines += [f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.description)} |" for r in rows]
    return "\n".join(lines) + "\n"
