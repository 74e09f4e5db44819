"""Loading the red-team probe library and the over-blocking set (YAML files in ``data/redteam``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from childsafe.types import AgeBand, Category, ChildsafeError, Message, Role

DATA_ENV = "CHILDSAFE_REDTEAM_DATA"


class SuiteDataError(ChildsafeError):
    """A suite data file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One harmful probe: a single message or a multi-turn script, with the category it must be caught as.

    ``expect_from`` is the index of the first message at which a guard should flag the conversation
    (0 for a single message).
    """

    id: str
    category: Category
    intent: str
    messages: tuple[Message, ...]
    expect_from: int = 0
    quick: bool = False

    @property
    def is_script(self) -> bool:
        return len(self.messages) > 1

    @property
    def role(self) -> Role:
        return self.messages[self.expect_from].role


@dataclass(frozen=True, slots=True)
class BenignItem:
    """One benign message that must not be blocked at any of ``bands``."""

    id: str
    topic: str
    text: str
    bands: tuple[AgeBand, ...]
    role: Role = Role.CHILD
    quick: bool = False


def default_data_dir() -> Path:
    """``$CHILDSAFE_REDTEAM_DATA``; else the copy shipped inside a wheel (``childsafe/eval/redteam/data``);
    else ``data/redteam`` of the source checkout this package runs from."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    if (here.parent / "data" / "probes.yaml").is_file():
        return here.parent / "data"
    for parent in here.parents:
        candidate = parent / "data" / "redteam"
        if (candidate / "probes.yaml").is_file():
            return candidate
    return Path.cwd() / "data" / "redteam"


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SuiteDataError(f"suite data file not found: {path} (set ${DATA_ENV} or pass --data DIR)")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SuiteDataError(f"{path}: not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteDataError(f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise SuiteDataError(f"{path}: the top level must be a mapping")
    return loaded


def _str(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SuiteDataError(f"{where}: '{key}' must be a non-empty string")
    return value


def load_probes(data_dir: Path | None = None) -> list[Probe]:
    """All probes and scripts of ``probes.yaml``; ids are unique."""
    path = (data_dir or default_data_dir()) / "probes.yaml"
    doc = read_yaml(path)
    out: list[Probe] = []
    probes = doc.get("probes")
    if not isinstance(probes, dict):
        raise SuiteDataError(f"{path}: 'probes' must map categories to lists of probes")
    for cat_name, entries in probes.items():
        try:
            cat = Category.parse(str(cat_name))
        except ChildsafeError as exc:
            raise SuiteDataError(f"{path}: {exc}") from None
        if not isinstance(entries, list):
            raise SuiteDataError(f"{path}: probes.{cat_name} must be a list")
        for i, entry in enumerate(entries):
            where = f"{path}: probes.{cat_name}[{i}]"
            if not isinstance(entry, dict):
                raise SuiteDataError(f"{where}: must be a mapping")
            try:
                role = Role.parse(str(entry.get("role", "child")))
            except ChildsafeError as exc:
                raise SuiteDataError(f"{where}: {exc}") from None
            out.append(
                Probe(
                    id=_str(entry, "id", where),
                    category=cat,
                    intent=_str(entry, "intent", where),
                    messages=(Message(role, _str(entry, "text", where)),),
                    quick=bool(entry.get("quick", False)),
                )
            )
    for i, entry in enumerate(doc.get("scripts") or []):
        where = f"{path}: scripts[{i}]"
        if not isinstance(entry, dict):
            raise SuiteDataError(f"{where}: must be a mapping")
        raw_msgs = entry.get("messages")
        if not isinstance(raw_msgs, list) or len(raw_msgs) < 2:
            raise SuiteDataError(f"{where}: 'messages' must list at least two messages")
        try:
            msgs = tuple(Message.parse(m) for m in raw_msgs)
            cat = Category.parse(_str(entry, "category", where))
        except ChildsafeError as exc:
            raise SuiteDataError(f"{where}: {exc}") from None
        expect = entry.get("expect_from", 0)
        if not isinstance(expect, int) or not 0 <= expect < len(msgs):
            raise SuiteDataError(f"{where}: 'expect_from' must be a message index below {len(msgs)}")
        out.append(
            Probe(
                id=_str(entry, "id", where),
                category=cat,
                intent=_str(entry, "intent", where),
                messages=msgs,
                expect_from=expect,
                quick=bool(entry.get("quick", False)),
            )
        )
    _unique([p.id for p in out], path)
    return out


def load_benign(data_dir: Path | None = None) -> list[BenignItem]:
    """All items of ``overblocking.yaml``."""
    path = (data_dir or default_data_dir()) / "overblocking.yaml"
    doc = read_yaml(path)
    topics = doc.get("topics")
    if not isinstance(topics, dict):
        raise SuiteDataError(f"{path}: 'topics' must map topic names to lists of items")
    out: list[BenignItem] = []
    for topic, entries in topics.items():
        if not isinstance(entries, list):
            raise SuiteDataError(f"{path}: topics.{topic} must be a list")
        for i, entry in enumerate(entries):
            where = f"{path}: topics.{topic}[{i}]"
            if not isinstance(entry, dict):
                raise SuiteDataError(f"{where}: must be a mapping")
            try:
                bands = tuple(AgeBand.parse(b) for b in entry.get("bands", [b.value for b in AgeBand]))
                role = Role.parse(str(entry.get("role", "child")))
            except ChildsafeError as exc:
                raise SuiteDataError(f"{where}: {exc}") from None
            out.append(
                BenignItem(
                    id=_str(entry, "id", where),
                    topic=str(topic),
                    text=_str(entry, "text", where),
                    bands=bands,
                    role=role,
                    quick=bool(entry.get("quick", False)),
                )
            )
    _unique([b.id for b in out], path)
    return out


def _unique(ids: list[str], path: Path) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise SuiteDataError(f"{path}: duplicate id {i!r}")
        seen.add(i)
