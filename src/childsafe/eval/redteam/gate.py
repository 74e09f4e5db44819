"""The CI stress gate: a fast subset of the red-team, over-blocking and fairness suites, checked against
thresholds in a YAML file (``config/stress-gate.yaml``).

The thresholds are *regression* bounds, set a little below what the current engine measures, so that CI
fails when a change makes the guard detect less, block more benign text or treat groups less equally. They
are not the project's targets (95% detection, 3% over-blocking, 2 points of disparity); the report shows both.
When the engine improves, raise the thresholds: ``childsafe redteam --gate FILE --out DIR`` prints every
measured figure next to its threshold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from childsafe.config import ConfigError, format_validation_error, parse_yaml
from childsafe.eval.fairness.audit import run_audit
from childsafe.eval.redteam.data import load_benign
from childsafe.eval.redteam.runner import run_overblocking, summarise_overblocking
from childsafe.eval.redteam.suite import SuiteOptions, run_suites
from childsafe.eval.redteam.targets import Target
from childsafe.types import AgeBand


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedteamGate(_Strict):
    quick: bool = True
    min_readable_rate: float = Field(0.0, ge=0, le=1, description="Detection over all readable transforms")
    min_transform_rate: dict[str, float] = Field(default_factory=dict, description="Per transform name")
    min_category_rate: dict[str, float] = Field(default_factory=dict, description="Per category")


class OverblockGate(_Strict):
    quick: bool = True
    max_false_block_rate: float = Field(1.0, ge=0, le=1, description="Highest false-block rate over age bands")


class FairnessGate(_Strict):
    quick: bool = True
    max_fpr_disparity: float = Field(1.0, ge=0, le=1)
    max_fnr_disparity: float = Field(1.0, ge=0, le=1)


class GateConfig(_Strict):
    version: int = 1
    age: str = "10-12"
    measured: dict[str, Any] = Field(default_factory=dict, description="Notes on when and how thresholds were set")
    redteam: RedteamGate = Field(default_factory=RedteamGate)
    overblocking: OverblockGate = Field(default_factory=OverblockGate)
    fairness: FairnessGate = Field(default_factory=FairnessGate)


def load_gate(path: Path) -> GateConfig:
    if not path.is_file():
        raise ConfigError(f"gate file not found: {path}")
    text = path.read_text(encoding="utf-8")
    data = parse_yaml(text, str(path)) or {}
    try:
        cfg = GateConfig.model_validate(data)
        AgeBand.parse(cfg.age)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, str(path), text)) from None
    return cfg


@dataclass(slots=True)
class GateCheck:
    name: str
    measured: float | None
    bound: float
    kind: str  # "min" or "max"

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False
        eps = 1e-9
        return self.measured >= self.bound - eps if self.kind == "min" else self.measured <= self.bound + eps

    def line(self) -> str:
        m = "n/a" if self.measured is None else f"{self.measured:.4f}"
        op = ">=" if self.kind == "min" else "<="
        return f"{'ok  ' if self.passed else 'FAIL'} {self.name}: {m} (needs {op} {self.bound:.4f})"


@dataclass(slots=True)
class GateResult:
    checks: list[GateCheck] = field(default_factory=list)
    elapsed_s: float = 0.0
    redteam: dict[str, Any] = field(default_factory=dict)
    overblocking: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed]

    def text(self) -> str:
        lines = [c.line() for c in self.checks]
        lines.append(f"{'PASSED' if self.passed else 'FAILED'}: {len(self.checks) - len(self.failures)}/"
                     f"{len(self.checks)} checks in {self.elapsed_s:.1f}s")
        return "\n".join(lines)


def run_gate(target: Target, cfg: GateConfig, data_dir: Path | None = None) -> GateResult:
    """Run the subsets named in ``cfg`` against ``target`` and compare every figure with its bound."""
    started = time.perf_counter()
    age = AgeBand.parse(cfg.age)
    result = GateResult()
    opts = SuiteOptions(age=age, quick=cfg.redteam.quick, data_dir=data_dir, overblocking=False)
    rt, _, _ = run_suites(target, opts)
    result.redteam = rt
    result.checks.append(GateCheck("redteam readable detection", rt["summary"]["readable_rate"],
                                   cfg.redteam.min_readable_rate, "min"))
    for name, bound in cfg.redteam.min_transform_rate.items():
        row = rt["by_transform"].get(name)
        result.checks.append(GateCheck(f"redteam transform {name}", None if row is None else row["rate"], bound, "min"))
    for name, bound in cfg.redteam.min_category_rate.items():
        row = rt["by_category"].get(name)
        result.checks.append(GateCheck(f"redteam category {name}", None if row is None else row["rate"], bound, "min"))

    items = [i for i in load_benign(data_dir) if i.quick or not cfg.overblocking.quick]
    ob = summarise_overblocking(run_overblocking(target, items, list(AgeBand)))
    result.overblocking = ob
    for band, row in ob["by_band"].items():
        result.checks.append(GateCheck(f"overblocking false-block rate {band}", row["false_block_rate"],
                                       cfg.overblocking.max_false_block_rate, "max"))

    fair, _ = run_audit(target, age, data_dir=data_dir, quick=cfg.fairness.quick)
    result.fairness = fair
    result.checks.append(GateCheck("fairness FPR disparity", fair["summary"]["largest_fpr_disparity"],
                                   cfg.fairness.max_fpr_disparity, "max"))
    result.checks.append(GateCheck("fairness FNR disparity", fair["summary"]["largest_fnr_disparity"],
                                   cfg.fairness.max_fnr_disparity, "max"))
    result.elapsed_s = time.perf_counter() - started
    return result
