"""Seed template data files: every file is read, and a mistake names the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from childsafe.train import seedgen

SHIPPED = Path(seedgen.__file__).resolve().parent / "seed_templates"
DATA_FILES = sorted(p.relative_to(SHIPPED).as_posix() for p in SHIPPED.rglob("*.yaml"))


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "seed_templates"
    shutil.copytree(SHIPPED, root)
    return root


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_data_loads_and_a_copy_loads_the_same(copy: Path) -> None:
    data = seedgen.load()
    assert data == seedgen.load(copy)
    assert len(data.families) > 40 and len(data.hand) > 100 and "name" in data.slots
    assert {"families/hate.yaml", "order.yaml", "slots.yaml", "framing.yaml", "hand.yaml"} <= set(DATA_FILES)


@pytest.mark.parametrize("rel", DATA_FILES)
def test_every_data_file_is_read(copy: Path, rel: str) -> None:
    (copy / rel).write_text("[unclosed\n", encoding="utf-8")
    with pytest.raises(seedgen.SeedDataError, match=f"seed_templates/{rel}: not valid YAML"):
        seedgen.load(copy)


@pytest.mark.parametrize(
    ("rel", "old", "new", "message"),
    [
        (
            "families/hate.yaml",
            '"{group} are ruining this country"',
            '"{groop} are ruining this country"',
            r"families/hate\.yaml: hate\.templates\[1\]: unknown slot \{groop\}",
        ),
        (
            "families/hate.yaml",
            '"{group} are ruining this country"',
            '"{group are ruining this country"',
            r"families/hate\.yaml: hate\.templates\[1\]: bad braces",
        ),
        ("families/hate.yaml", "labels: [hate]", "labels: [hatred]", r"hate\.yaml: hate\.labels: unknown label"),
        ("families/hate.yaml", "per_template: 12", "per_template: 0", r"hate\.yaml: hate\.per_template: expected"),
        ("families/hate.yaml", "  templates:", "  template:", r"hate\.yaml: hate: unknown keys \['template'\]"),
        ("families/hate.yaml", "  per_template: 12", "  per_template: 12\n  per_template: 9", "repeated key"),
        ("slots.yaml", 'age: ["9", "10",', 'age: [9, "10",', r"slots\.yaml: age: expected a non-empty list"),
        (
            "order.yaml",
            "  - hate_requests\n",
            "",
            r"order\.yaml: families: .*defined but not listed \['hate_requests'\]",
        ),
        ("order.yaml", "  - hate_requests\n", "  - hate_requests\n  - hate\n", r"listed twice \['hate'\]"),
        ("hand.yaml", "{labels: [safe], text:", "{labels: [safe], txt:", r"hand\.yaml: \[0\]: expected exactly"),
        ("framing.yaml", '"{name}, "', '"{nick}, "', r"framing\.yaml: prefixes\[6\]: unknown slot \{nick\}"),
        ("framing.yaml", '["you", "u"]', '["you"]', r"framing\.yaml: style\.shorthand"),
    ],
)
def test_malformed_data_names_file_and_key(copy: Path, rel: str, old: str, new: str, message: str) -> None:
    _edit(copy, rel, old, new)
    with pytest.raises(seedgen.SeedDataError, match=message):
        seedgen.load(copy)


def test_family_defined_twice_is_an_error(copy: Path) -> None:
    (copy / "families" / "zz_copy.yaml").write_text((copy / "families" / "sexual.yaml").read_text("utf-8"), "utf-8")
    with pytest.raises(seedgen.SeedDataError, match=r"families/zz_copy\.yaml: sexual: family defined twice"):
        seedgen.load(copy)
