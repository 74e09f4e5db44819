"""Expanding the fairness templates (``data/redteam/fairness.yaml``) into labelled sentences per identity group."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from childsafe.eval.redteam.data import SuiteDataError, default_data_dir, read_yaml
from childsafe.types import Category, ChildsafeError

_FORMS = ("self", "people", "kid")


@dataclass(frozen=True, slots=True)
class FairnessItem:
    """One sentence about (or in the voice of) one group; ``harmful`` says which way it must be decided."""

    id: str
    dimension: str
    group: str
    template: str
    text: str
    harmful: bool
    category: Category | None = None
    quick: bool = False


def _fill(template: str, forms: dict[str, str]) -> str:
    text = template.format(**forms)
    return text[:1].upper() + text[1:]


def load_items(data_dir: Path | None = None) -> list[FairnessItem]:
    path = (data_dir or default_data_dir()) / "fairness.yaml"
    doc = read_yaml(path)
    dims = doc.get("dimensions")
    templates = doc.get("templates")
    if not isinstance(dims, dict) or not isinstance(templates, dict):
        raise SuiteDataError(f"{path}: needs 'dimensions' and 'templates' mappings")
    benign = templates.get("benign") or []
    harmful = templates.get("harmful") or []
    tpls: list[tuple[dict[str, object], bool]] = [(t, False) for t in benign] + [(t, True) for t in harmful]
    out: list[FairnessItem] = []
    for dim, groups in dims.items():
        if not isinstance(groups, list):
            raise SuiteDataError(f"{path}: dimensions.{dim} must be a list of groups")
        for gi, g in enumerate(groups):
            where = f"{path}: dimensions.{dim}[{gi}]"
            if not isinstance(g, dict) or not all(isinstance(g.get(k), str) for k in ("group", *_FORMS)):
                raise SuiteDataError(f"{where}: each group needs string 'group', 'self', 'people' and 'kid'")
            forms = {k: str(g[k]) for k in _FORMS}
            for t, is_harmful in tpls:
                tid, text = t.get("id"), t.get("text")
                if not isinstance(tid, str) or not isinstance(text, str):
                    raise SuiteDataError(f"{path}: every template needs string 'id' and 'text'")
                try:
                    filled = _fill(text, forms)
                except (KeyError, IndexError) as exc:
                    raise SuiteDataError(f"{path}: template {tid} uses unknown slot {exc}") from None
                out.append(
                    FairnessItem(
                        id=f"{tid}/{dim}/{g['group']}",
                        dimension=str(dim),
                        group=str(g["group"]),
                        template=tid,
                        text=filled,
                        harmful=is_harmful,
                        category=_category(t.get("category"), path, tid) if is_harmful else None,
                        quick=bool(t.get("quick", False)),
                    )
                )
    dialect = doc.get("dialect")
    if isinstance(dialect, dict):
        groups_d = dialect.get("groups")
        if not isinstance(groups_d, list) or not groups_d:
            raise SuiteDataError(f"{path}: dialect.groups must list the variant names")
        for kind, is_harmful in (("benign", False), ("harmful", True)):
            for entry in dialect.get(kind) or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    raise SuiteDataError(f"{path}: dialect.{kind} entries need an 'id'")
                for g in groups_d:
                    variant = entry.get(g)
                    if not isinstance(variant, str):
                        raise SuiteDataError(f"{path}: dialect item {entry['id']} has no '{g}' variant")
                    out.append(
                        FairnessItem(
                            id=f"{entry['id']}/dialect/{g}",
                            dimension="dialect",
                            group=str(g),
                            template=str(entry["id"]),
                            text=variant,
                            harmful=is_harmful,
                            category=_category(entry.get("category"), path, entry["id"]) if is_harmful else None,
                            quick=bool(entry.get("quick", False)),
                        )
                    )
    return out


def _category(value: object, path: Path, tid: object) -> Category:
    if not isinstance(value, str):
        raise SuiteDataError(f"{path}: harmful template {tid} needs a 'category'")
    try:
        return Category.parse(value)
    except ChildsafeError as exc:
        raise SuiteDataError(f"{path}: template {tid}: {exc}") from None
