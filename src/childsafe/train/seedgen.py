"""Generate the seed corpus (``data/seed/seed.jsonl``): templates x slot fillers plus hand-written lines.

The shared data sets teach "sensitive topic = unsafe" (see shared/datasets/FINDINGS.md). The seed corpus is
written for this project to fix that: short, non-graphic, intent-described positives for the categories the
shared sets lack, and many hard negatives right next to the decision boundary (near-identical safe/unsafe
pairs). Generation is deterministic, so ``childsafe train`` reproduces the same file.

The words live in data files under ``seed_templates/`` so a person can add a template without touching code:
``families/*.yaml`` (template families, one file per category or theme), ``order.yaml`` (the order the random
generator runs through the families), ``slots.yaml`` (shared fillers), ``framing.yaml`` (chat prefixes,
suffixes and surface styles) and ``hand.yaml`` (hand-written boundary pairs). :func:`load` validates them and
names the file and key of any mistake.

Labelling rules (also in docs/model-card.md):
* a child disclosing self-harm or suicidal thoughts IS ``self_harm`` (it needs help and escalation); asking how
  to help a friend, asking for a helpline, or talking about recovery is safe;
* identity statements, counter-speech, reclaimed terms, history and news are safe;
* a child giving out, or being asked for, contact/location details is ``personal_info``;
* an adult asking a child for photos or sexualising a minor is ``sexual_minors`` (plus ``grooming`` when it
  adds secrecy, gifts or meeting up).

The split is by template: every fourth template of a family (and every fourth hand-written line) goes to the
``dev`` split, so the dev set measures generalisation to phrasings the model has not seen.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import string
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

import yaml

from childsafe.train.data import CATEGORIES, text_key

LABELS = frozenset(CATEGORIES) | {"safe"}
FAMILY_KEYS = frozenset({"name", "labels", "per_template", "templates", "slots"})


class SeedDataError(ValueError):
    """A seed template data file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Family:
    """Templates sharing labels; ``slots`` adds or overrides fillers for this family only."""

    name: str
    labels: list[str]
    templates: list[str]
    per_template: int
    slots: dict[str, list[str]]


@dataclass(frozen=True)
class Style:
    """Surface variation tables (see :func:`_style`)."""

    endings: list[str]
    tags: list[str]
    shorthand: list[tuple[str, str]]


@dataclass(frozen=True)
class SeedData:
    """Everything the generator reads from ``seed_templates/``, families in generation order."""

    slots: dict[str, list[str]]
    families: list[Family]
    hand: list[tuple[list[str], str]]
    prefixes: list[str]
    suffixes: list[str]
    style: Style


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a repeated mapping key, which PyYAML would silently resolve to the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _fail(where: str, key: str, problem: str) -> NoReturn:
    raise SeedDataError(f"{where}: {key}: {problem}")


def _read(root: Traversable, rel: str) -> tuple[str, Any]:
    where = f"{root.name}/{rel}"
    node = root.joinpath(*rel.split("/"))
    if not node.is_file():
        raise SeedDataError(f"{where}: file not found")
    try:
        return where, yaml.load(node.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise SeedDataError(f"{where}: not valid YAML ({exc})") from None


def _mapping(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        _fail(where, key, "expected a mapping with text keys")
    return value


def _strings(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        _fail(where, key, 'expected a non-empty list of quoted strings (write "9", not 9)')
    return list(value)


def _slot_table(value: Any, where: str, key: str) -> dict[str, list[str]]:
    table = _mapping(value, where, key)
    return {name: _strings(fillers, where, f"{key}.{name}" if key else name) for name, fillers in table.items()}


def _labels(value: Any, where: str, key: str) -> list[str]:
    labels = _strings(value, where, key)
    unknown = [lab for lab in labels if lab not in LABELS]
    if unknown:
        _fail(where, key, f"unknown label(s) {unknown}; use one of {sorted(LABELS)}")
    return labels


def _check_fields(text: str, allowed: set[str], where: str, key: str) -> None:
    """Every ``{field}`` in ``text`` is a plain slot name the generator can fill."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        _fail(where, key, f"bad braces in {text!r} ({exc})")
    for name, spec, conv in fields:
        if spec or conv or not name.isidentifier():
            _fail(where, key, f"{{{name}}} in {text!r} must be a plain slot name like {{age}}")
        if name not in allowed:
            _fail(where, key, f"unknown slot {{{name}}} in {text!r}")


def _family(raw: Any, where: str, index: int, shared: dict[str, list[str]]) -> Family:
    fam = _mapping(raw, where, f"[{index}]")
    name = fam.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        _fail(where, f"[{index}].name", "expected a family name like hate_requests")
    extra = sorted(set(fam) - FAMILY_KEYS)
    missing = sorted(FAMILY_KEYS - {"slots"} - set(fam))
    if extra or missing:
        _fail(where, name, f"unknown keys {extra}, missing keys {missing}")
    per_template = fam["per_template"]
    if not isinstance(per_template, int) or isinstance(per_template, bool) or per_template < 1:
        _fail(where, f"{name}.per_template", "expected a positive whole number")
    slots = _slot_table(fam["slots"], where, f"{name}.slots") if "slots" in fam else {}
    templates = _strings(fam["templates"], where, f"{name}.templates")
    for ti, tpl in enumerate(templates):
        _check_fields(tpl, set(shared) | set(slots), where, f"{name}.templates[{ti}]")
    return Family(name, _labels(fam["labels"], where, f"{name}.labels"), templates, per_template, slots)


def _families(root: Traversable, shared: dict[str, list[str]]) -> list[Family]:
    """Every family under ``families/``, in the order ``order.yaml`` gives."""
    defined: dict[str, Family] = {}
    files = sorted(f.name for f in root.joinpath("families").iterdir() if f.name.endswith(".yaml"))
    for fname in files:
        where, doc = _read(root, f"families/{fname}")
        if not isinstance(doc, list) or not doc:
            _fail(where, "(top level)", "expected a list of families")
        for i, raw in enumerate(doc):
            fam = _family(raw, where, i, shared)
            if fam.name in defined:
                _fail(where, fam.name, "family defined twice")
            defined[fam.name] = fam
    where, doc = _read(root, "order.yaml")
    order = _strings(_mapping(doc, where, "(top level)").get("families"), where, "families")
    unknown = [n for n in order if n not in defined]
    repeated = sorted({n for n in order if order.count(n) > 1})
    unlisted = sorted(set(defined) - set(order))
    if unknown or repeated or unlisted:
        _fail(where, "families", f"not defined {unknown}, listed twice {repeated}, defined but not listed {unlisted}")
    return [defined[n] for n in order]


def _hand(root: Traversable) -> list[tuple[list[str], str]]:
    where, doc = _read(root, "hand.yaml")
    if not isinstance(doc, list) or not doc:
        _fail(where, "(top level)", "expected a list of {labels: [...], text: ...} lines")
    hand: list[tuple[list[str], str]] = []
    for i, raw in enumerate(doc):
        line = _mapping(raw, where, f"[{i}]")
        if set(line) != {"labels", "text"} or not isinstance(line["text"], str) or not line["text"]:
            _fail(where, f"[{i}]", "expected exactly labels (a list) and text (a quoted string)")
        hand.append((_labels(line["labels"], where, f"[{i}].labels"), line["text"]))
    return hand


def _framing(root: Traversable) -> tuple[list[str], list[str], Style]:
    where, doc = _read(root, "framing.yaml")
    framing = _mapping(doc, where, "(top level)")
    prefixes = _strings(framing.get("prefixes"), where, "prefixes")
    for i, prefix in enumerate(prefixes):
        _check_fields(prefix, {"name"}, where, f"prefixes[{i}]")
    suffixes = _strings(framing.get("suffixes"), where, "suffixes")
    raw_style = _mapping(framing.get("style"), where, "style")
    pairs = raw_style.get("shorthand")
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(w, str) and w for w in p) for p in pairs
    ):
        _fail(where, "style.shorthand", 'expected a list of ["from", "to"] pairs')
    style = Style(
        _strings(raw_style.get("endings"), where, "style.endings"),
        _strings(raw_style.get("tags"), where, "style.tags"),
        [(a, b) for a, b in pairs],
    )
    return prefixes, suffixes, style


def load(root: Traversable | None = None) -> SeedData:
    """Read and validate the seed template data files (default: the ``seed_templates`` folder of this package)."""
    root = root or resources.files("childsafe.train").joinpath("seed_templates")
    where, doc = _read(root, "slots.yaml")
    slots = _slot_table(doc, where, "")
    if "name" not in slots:
        _fail(where, "name", "missing (the framing prefixes are filled from it)")
    prefixes, suffixes, style = _framing(root)
    return SeedData(slots, _families(root, slots), _hand(root), prefixes, suffixes, style)


def _expand(family: Family, rng: random.Random, data: SeedData) -> list[tuple[int, str]]:
    """All (template index, text) pairs of a family, up to ``per_template`` distinct fillings each."""
    slots = {**data.slots, **family.slots}
    out: list[tuple[int, str]] = []
    for ti, tpl in enumerate(family.templates):
        names = sorted({part.split("}")[0] for part in tpl.split("{")[1:]})
        combos = list(itertools.product(*(slots[n] for n in names))) if names else [()]
        rng.shuffle(combos)
        seen: set[str] = set()
        for attempt in range(family.per_template * 6):
            combo = combos[attempt % len(combos)]
            core = tpl.format(**dict(zip(names, combo, strict=True)))
            if attempt == 0:
                text = core
            else:
                pre = rng.choice(data.prefixes).format(name=rng.choice(data.slots["name"]))
                text = pre + core + rng.choice(data.suffixes)
            if text not in seen:
                seen.add(text)
                out.append((ti, text))
            if len(seen) >= family.per_template:
                break
    return out


def _style(text: str, rng: random.Random, style: Style) -> str:
    """Vary surface form (case, punctuation, chat style) so the model does not learn one writing style."""
    r = rng.random()
    if r < 0.25:
        text = text.capitalize() + rng.choice(style.endings)
    elif r < 0.35:
        text = text.upper() if len(text) < 60 else text
    elif r < 0.5:
        for old, new in style.shorthand:
            text = text.replace(old, new)
    elif r < 0.6:
        text = text + rng.choice(style.tags)
    return text


# Evaluation sets (relative to the repository root): a seed text equal to one of theirs would leak it into training.
EVAL_FILES = [
    "data/seed/probes.jsonl",
    "data/redteam/probes.yaml",
    "data/redteam/overblocking.yaml",
    "data/redteam/fairness.yaml",
]


def _texts(node: Any) -> Iterator[str]:
    """Every ``text`` value anywhere in a parsed YAML/JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "text" and isinstance(v, str):
                yield v
            else:
                yield from _texts(v)
    elif isinstance(node, list):
        for v in node:
            yield from _texts(v)


def eval_keys(root: Path | None = None) -> set[str]:
    """Dedup keys of every evaluation text (probes and red-team suites); missing files are skipped."""
    root = root or Path(__file__).resolve().parents[3]
    keys: set[str] = set()
    for rel in EVAL_FILES:
        path = root / rel
        if not path.is_file():
            continue
        if path.suffix == ".jsonl":
            docs: list[Any] = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        else:
            docs = [yaml.safe_load(path.read_text(encoding="utf-8"))]
        keys.update(text_key(t) for t in _texts(docs))
    return keys


def generate(seed: int = 13, data: SeedData | None = None) -> list[dict[str, Any]]:
    """All seed records; texts equal (case/punctuation-insensitively) to an evaluation text are dropped."""
    records = _generate(seed, data or load())
    held = eval_keys()
    return [r for r in records if text_key(r["text"]) not in held]


def _generate(seed: int, data: SeedData) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for fam in data.families:
        for k, (ti, text) in enumerate(_expand(fam, rng, data)):
            split = "dev" if ti % 4 == 3 else "train"
            records.append(
                {
                    "id": f"seed_{fam.name}_{k}",
                    "text": _style(text, rng, data.style),
                    "labels": fam.labels,
                    "source": "childsafe-seed",
                    "split": split,
                    "family": fam.name,
                    "template": ti,
                    "label_derivation": "written for childsafe (templates x slots)",
                }
            )
    for k, (labels, text) in enumerate(data.hand):
        h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
        records.append(
            {
                "id": f"seed_hand_{k}",
                "text": text,
                "labels": labels,
                "source": "childsafe-seed",
                "split": "dev" if h % 4 == 0 else "train",
                "family": "hand",
                "label_derivation": "written for childsafe (hand-written boundary pair)",
            }
        )
    return records


def write(path: Path, seed: int = 13) -> int:
    records = generate(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)


if __name__ == "__main__":  # pragma: no cover
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data/seed/seed.jsonl")
    print(f"wrote {write(target)} records to {target}")
