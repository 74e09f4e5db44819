"""Discovery of detectors through the ``childsafe.detectors`` entry point group."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint, entry_points

from childsafe.detectors.base import Detector, DetectorUnavailable
from childsafe.types import ChildsafeError

GROUP = "childsafe.detectors"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class PluginError(ChildsafeError):
    """A plugin is missing, misnamed or does not follow the detector contract."""


def _builtin() -> dict[str, str]:
    # Built-ins are listed here too so a source checkout without installed metadata still runs.
    return {
        "lexicon": "childsafe.detectors.lexicon:LexiconDetector",
        "classifier": "childsafe.detectors.classifier:ClassifierDetector",
        "grooming_stages": "childsafe.detectors.grooming:GroomingStageDetector",
        "personal_info": "childsafe.detectors.personal_info:PersonalInfoDetector",
    }


def available_detectors() -> dict[str, EntryPoint]:
    """Name -> entry point for every installed detector (built-ins first, plugins may not shadow them)."""
    found: dict[str, EntryPoint] = {
        name: EntryPoint(name=name, value=value, group=GROUP) for name, value in _builtin().items()
    }
    for ep in entry_points(group=GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise PluginError(f"detector name {ep.name!r} is used by both {found[ep.name].value} and {ep.value}")
        found[ep.name] = ep
    return found


def detector_class(name: str) -> type[Detector]:
    eps = available_detectors()
    if name not in eps:
        known = ", ".join(sorted(eps))
        raise PluginError(f"unknown detector {name!r}; installed detectors: {known}")
    try:
        cls = eps[name].load()
    except Exception as exc:
        raise DetectorUnavailable(f"detector {name!r} cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise PluginError(f"detector {name!r} ({eps[name].value}) is not a childsafe Detector subclass")
    if getattr(cls, "name", None) != name or not _NAME.match(name):
        raise PluginError(f"detector {eps[name].value} declares name {getattr(cls, 'name', None)!r}, expected {name!r}")
    return cls
