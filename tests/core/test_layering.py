"""The import layering of docs/architecture.md, held by a test (issue #18 Part A).

Every module under src/childsafe is parsed with ``ast`` (never imported, so a broken or slow module cannot hide
an edge): imports at any depth count, inside functions and ``if TYPE_CHECKING:`` blocks too, relative imports
are resolved, and ``importlib.import_module("childsafe.x")`` with a literal name counts as an import.

The rules are the ones docs/architecture.md states (its table's "may import" column and the paragraph "Imports
point down only") and ../shared/DESIGN.md's "Dependency direction". There are no exceptions: the 20 breaks
this test once listed were moved by the composition root (issue #18 Part A), and any new one fails it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
PACKAGE = "childsafe"
ROOT = "<root>"  # the component of the package root, src/childsafe/__init__.py (the public API)

# Component -> its row of the "may import" column of docs/architecture.md. A name is a component of ours
# ("store") or one module ("detectors.base"). Permission is transitive: a row may import what its entries may
# import. One reading the table leaves open is fixed here: components that share a row ("review/,
# reporting/" and "eval/, train/") may import each other.
BELOW_FACES = (
    "services", "accounts", "privacy", "audit", "review", "reporting", "scan", "eval", "train",
    "engine", "events", "plugins", "detectors", "conversation", "policy", "explain", "hashing",
    "text", "store", "types", "config", "config_reference", ROOT,
)  # fmt: skip
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "types": (),
    "config": ("types",),
    "config_reference": ("config",),
    "text": ("types",),
    "detectors": ("text", "types", "config"),
    "conversation": ("text", "types", "config", "detectors"),
    "policy": ("types", "config"),
    "explain": ("types",),
    "events": ("types",),
    "plugins": ("detectors.base",),
    # "all of the above"
    "engine": ("types", "config", "text", "detectors", "conversation", "policy", "explain", "events", "plugins"),
    ROOT: ("engine",),
    "hashing": ("types",),
    "store": ("types", "config"),
    "privacy": ("store", "engine"),
    "audit": ("store", "events"),
    "review": ("store", "audit", "reporting"),
    "reporting": ("store", "audit", "review"),
    "scan": ("hashing", "engine", "store"),
    "eval": ("engine", "train"),
    "train": ("engine", "eval"),
    "accounts": ("store", "audit"),
    "services": ("privacy", "audit", "review", "reporting", "accounts", "scan", "eval", "train", "hashing"),
    # "everything below"; cli may also start the gateway (see the rule on faces below)
    "gateway": BELOW_FACES,
    "cli": (*BELOW_FACES, "gateway"),
    "testing": ("detectors.base",),
}

FACES = frozenset({"gateway", "cli"})
SERVICES = frozenset({"services", "accounts", "privacy", "audit", "review", "reporting", "scan", "eval", "train"})
SQL_LIBRARIES = frozenset({"sqlalchemy", "alembic"})
# What the CLI may take from the other face: create_app, to serve it.
CLI_MAY_TAKE_FROM_GATEWAY = frozenset({"childsafe.gateway", "childsafe.gateway.app"})


@dataclass(frozen=True)
class Edge:
    """One import: ``importer`` (a module of ours) imports ``imported`` (a module of ours, or a top-level
    third-party package) at ``line``."""

    importer: str
    imported: str
    line: int


def component(module: str) -> str:
    """The table row a module of ours belongs to: ``childsafe.store.sql`` -> ``store``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _target_matches(target: str, module: str) -> bool:
    if target == ROOT:
        return module == PACKAGE
    full = f"{PACKAGE}.{target}"
    return module == full or module.startswith(full + ".")


def _closure(comp: str, seen: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every target ``comp`` may import, following the table's rows transitively."""
    out: set[str] = set()
    for target in MAY_IMPORT.get(comp, ()):
        out.add(target)
        head = target.split(".")[0] if target != ROOT else ROOT
        if head not in seen and head != comp:
            out |= _closure(head, seen | {comp})
    if "engine" in out:
        out.add(ROOT)  # the package root re-exports the engine
    return frozenset(out)


ALLOWED = {comp: _closure(comp) for comp in MAY_IMPORT}


def _ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


@dataclass(frozen=True)
class Rule:
    """A dependency rule; ``broken(importer, imported)`` says whether an import breaks it."""

    text: str
    broken: Callable[[str, str], bool]


def _imports_component(imported: str, comps: frozenset[str]) -> bool:
    return _ours(imported) and component(imported) in comps


def _types_or_config_reach_up(a: str, b: str) -> bool:
    if component(a) == "types":
        return _ours(b) and component(b) != "types"
    return component(a) == "config" and _ours(b) and component(b) not in ("config", "types")


def _policy_impure(a: str, b: str) -> bool:
    return component(a) == "policy" and _imports_component(b, frozenset({"detectors", "store"}))


def _detector_reaches_up(a: str, b: str) -> bool:
    return component(a) == "detectors" and _imports_component(b, FACES | SERVICES | {"engine", ROOT, "store"})


def _engine_reaches_up(a: str, b: str) -> bool:
    return component(a) in ("engine", ROOT) and _imports_component(b, FACES | SERVICES | {"store"})


def _hashing_not_a_leaf(a: str, b: str) -> bool:
    return component(a) == "hashing" and _ours(b) and component(b) not in ("hashing", "types")


def _sql_outside_store(a: str, b: str) -> bool:
    return b.split(".")[0] in SQL_LIBRARIES and component(a) != "store"


def _face_imported_from_below(a: str, b: str) -> bool:
    return component(a) not in FACES and _imports_component(b, FACES)


def _face_into_face(a: str, b: str) -> bool:
    if component(a) == "cli":
        return _imports_component(b, frozenset({"gateway"})) and b not in CLI_MAY_TAKE_FROM_GATEWAY
    return component(a) == "gateway" and _imports_component(b, frozenset({"cli"}))


def _outside_the_row(a: str, b: str) -> bool:
    if not _ours(b) or component(b) == component(a):
        return False
    return not any(_target_matches(target, b) for target in ALLOWED.get(component(a), ()))


RULES: tuple[Rule, ...] = (
    Rule(
        "types.py and config.py depend on nothing of ours above them (types: nothing; config: types)",
        _types_or_config_reach_up,
    ),
    Rule("the policy never imports detectors or the store (it is pure)", _policy_impure),
    Rule("detectors never import the engine, the store, a face or a service", _detector_reaches_up),
    Rule(
        "the engine never imports a face or a service (audit, review, reporting, privacy, scan, store, ...)",
        _engine_reaches_up,
    ),
    Rule("hashing is a leaf library (types only)", _hashing_not_a_leaf),
    Rule("only store/ imports SQLAlchemy or Alembic", _sql_outside_store),
    Rule("faces (gateway/, cli/) are imported by nothing below them", _face_imported_from_below),
    Rule(
        "a face does not reach into another face's internals (cli takes only create_app from gateway)", _face_into_face
    ),
    Rule("each component imports only what its row of the table's 'may import' column allows", _outside_the_row),
)


def broken_rules(importer: str, imported: str) -> list[str]:
    """The text of every rule the import breaks, most specific first."""
    return [rule.text for rule in RULES if rule.broken(importer, imported)]


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_from(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names, resolving ``from ..x import y`` against the importer."""
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if node.level - 1 >= len(base):
        raise ValueError(f"{importer}: relative import beyond the top-level package (line {node.lineno})")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _normalise(name: str) -> str:
    """Our modules keep their full name; a third-party import is named by its top-level package."""
    return name if _ours(name) else name.split(".")[0]


def imports_in_source(importer: str, source: str, is_package: bool, modules: frozenset[str]) -> Iterator[Edge]:
    """Every import in one module's source, at any depth (``ast.walk`` enters functions, classes and
    ``if TYPE_CHECKING:`` blocks alike)."""
    for node in ast.walk(ast.parse(source, importer)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(importer, _normalise(alias.name), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(importer, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield Edge(importer, _normalise(sub if sub in modules else base), node.lineno)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            arg = node.args[0]
            if name in ("import_module", "__import__") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield Edge(importer, _normalise(arg.value), node.lineno)


def all_edges(src: Path = SRC) -> list[Edge]:
    paths = sorted((src / PACKAGE).rglob("*.py"))
    modules = frozenset(module_name(p, src) for p in paths)
    edges: list[Edge] = []
    for path in paths:
        name = module_name(path, src)
        edges.extend(imports_in_source(name, path.read_text(encoding="utf-8"), path.name == "__init__.py", modules))
    return edges


def violations(edges: list[Edge]) -> dict[tuple[str, str], tuple[list[str], list[int]]]:
    """(importer, imported) -> (rules broken, lines), for every import that breaks a rule."""
    found: dict[tuple[str, str], tuple[list[str], list[int]]] = {}
    for edge in edges:
        rules = broken_rules(edge.importer, edge.imported)
        if rules:
            found.setdefault((edge.importer, edge.imported), (rules, []))[1].append(edge.line)
    return found


def _describe(key: tuple[str, str], rules: list[str], lines: list[int]) -> str:
    importer, imported = key
    where = ", ".join(str(n) for n in sorted(set(lines)))
    return f"  {importer} imports {imported} (line {where}): breaks " + "; and ".join(f"'{r}'" for r in rules)


@pytest.fixture(scope="module")
def current() -> dict[tuple[str, str], tuple[list[str], list[int]]]:
    return violations(all_edges())


def test_no_new_import_breaks_the_layering(current: dict[tuple[str, str], tuple[list[str], list[int]]]) -> None:
    assert not current, (
        "imports that break the layering of docs/architecture.md (move the code, or import through a lower "
        "layer):\n" + "\n".join(_describe(key, *value) for key, value in sorted(current.items()))
    )


def test_every_module_has_a_row_in_the_table() -> None:
    missing = sorted({m for m in (e.importer for e in all_edges()) if component(m) not in MAY_IMPORT})
    assert not missing, f"modules with no row in the table of docs/architecture.md (add one, here too): {missing}"


def test_the_table_here_mirrors_the_docs() -> None:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`[^|]+) \|", text, flags=re.MULTILINE)
    documented = {name.strip("/").removesuffix(".py") for row in rows for name in re.findall(r"`([^`]+)`", row)}
    assert documented == set(MAY_IMPORT) - {ROOT}, (
        "the module table of docs/architecture.md and MAY_IMPORT in tests/core/test_layering.py differ: "
        f"only in the docs {sorted(documented - set(MAY_IMPORT))}, "
        f"only here {sorted(set(MAY_IMPORT) - documented - {ROOT})}"
    )


def _check(importer: str, source: str, *, package: bool = False) -> list[tuple[str, list[str]]]:
    modules = frozenset({"childsafe.store.sql", "childsafe.detectors.base", "childsafe.engine"})
    edges = list(imports_in_source(importer, source, package, modules))
    return [(key[1], rules) for key, (rules, _) in violations(edges).items()]


@pytest.mark.parametrize(
    ("importer", "source", "imported", "rule"),
    [
        ("childsafe.policy.evaluate", "def f():\n    from childsafe.store import sql\n", "childsafe.store.sql",
         "the policy never imports"),
        ("childsafe.policy.evaluate", "from ..store import sql\n", "childsafe.store.sql", "the policy never imports"),
        ("childsafe.detectors.lexicon",
         "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from childsafe.engine import Engine\n",
         "childsafe.engine", "detectors never import"),
        ("childsafe.engine", "import childsafe.review.service\n", "childsafe.review.service",
         "the engine never imports"),
        ("childsafe.hashing.index", "from childsafe.text import normalize\n", "childsafe.text",
         "hashing is a leaf"),
        ("childsafe.config", "from childsafe.text.context import TextContext\n", "childsafe.text.context",
         "types.py and config.py"),
        ("childsafe.review.queue", "class Q:\n    def f(self):\n        import sqlalchemy.orm\n", "sqlalchemy",
         "only store/"),
        ("childsafe.audit.log", "from childsafe.gateway.app import create_app\n", "childsafe.gateway.app",
         "faces (gateway/, cli/)"),
        ("childsafe.explain.messages", "import importlib\nimportlib.import_module('childsafe.store.sql')\n",
         "childsafe.store.sql", "'may import' column"),
    ],
)  # fmt: skip
def test_the_checker_catches_a_break(importer: str, source: str, imported: str, rule: str) -> None:
    found = _check(importer, source)
    assert [name for name, _ in found] == [imported]
    assert rule in found[0][1][0]


def test_the_checker_passes_imports_that_point_down() -> None:
    source = (
        "from childsafe.types import Role\nfrom childsafe.engine import Engine\nimport childsafe.store.sql\n"
        "from . import intake\nimport json\n"
    )
    assert _check("childsafe.privacy.service", source) == []
    assert _check("childsafe.cli.serve_cmd", "from childsafe.gateway import create_app\n") == []
