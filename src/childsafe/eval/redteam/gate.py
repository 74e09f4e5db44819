"""The CI stress gate: a fast subset of the red-team, over-blocking and fairness suites, checked against
thresholds in a YAML file (``config/stress-gate.yaml``).

The thresholds are *regression* bounds, set a little below what the current engine measures, so that CI
fails when a change makes the guard detect less, block more benign text or treat groups less equally. They
are not the project's targets (95% detection, 3% over-blocking, 2 points of disparity); the report shows both.
When the engine improves, raise the thresholds: ``childsafe redteam --gate FILE --out DIR`` prints every
measured figure next to its threshold.
"""

from __future__ import annotations

import argparse
import math
import sys
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
    quick: bool = False
    max_false_block_rate: float = Field(1.0, ge=0, le=1, description="False-block rate bound for every age band")
    per_band: dict[str, float] = Field(default_factory=dict, description="Tighter or looser bounds for some bands")


class FairnessGate(_Strict):
    quick: bool = False
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
    result.redteam, _, _ = run_suites(target, opts)
    items = [i for i in load_benign(data_dir) if i.quick or not cfg.overblocking.quick]
    result.overblocking = summarise_overblocking(run_overblocking(target, items, list(AgeBand)))
    result.fairness, _ = run_audit(target, age, data_dir=data_dir, quick=cfg.fairness.quick)
    result.checks = checks_for(cfg, result)
    result.elapsed_s = time.perf_counter() - started
    return result


def checks_for(cfg: GateConfig, result: GateResult) -> list[GateCheck]:
    """Every bound of ``cfg`` next to the figure measured in ``result``."""
    rt, ob, fair = result.redteam, result.overblocking, result.fairness
    checks = [
        GateCheck("redteam readable detection", rt["summary"]["readable_rate"], cfg.redteam.min_readable_rate, "min")
    ]
    for name, bound in cfg.redteam.min_transform_rate.items():
        row = rt["by_transform"].get(name)
        checks.append(GateCheck(f"redteam transform {name}", None if row is None else row["rate"], bound, "min"))
    for name, bound in cfg.redteam.min_category_rate.items():
        row = rt["by_category"].get(name)
        checks.append(GateCheck(f"redteam category {name}", None if row is None else row["rate"], bound, "min"))
    for band, row in ob["by_band"].items():
        bound = cfg.overblocking.per_band.get(band, cfg.overblocking.max_false_block_rate)
        checks.append(GateCheck(f"overblocking false-block rate {band}", row["false_block_rate"], bound, "max"))
    checks.append(GateCheck("fairness FPR disparity", fair["summary"]["largest_fpr_disparity"],
                            cfg.fairness.max_fpr_disparity, "max"))
    checks.append(GateCheck("fairness FNR disparity", fair["summary"]["largest_fnr_disparity"],
                            cfg.fairness.max_fnr_disparity, "max"))
    return checks


def _floor(x: float | None, slack: float, digits: int = 2) -> float:
    scale = 10**digits
    return 0.0 if x is None else max(0.0, math.floor(round((x - slack) * scale, 6)) / scale)


def _ceil(x: float | None, slack: float, digits: int = 3) -> float:
    scale = 10**digits
    return 1.0 if x is None else min(1.0, math.ceil(round((x + slack) * scale, 6)) / scale)


def thresholds_from(result: GateResult, cfg: GateConfig, slack: float = 0.02) -> GateConfig:
    """A gate config whose bounds sit ``slack`` below (or above) the figures in ``result``."""
    rt, ob, fair = result.redteam, result.overblocking, result.fairness
    return GateConfig(
        version=cfg.version,
        age=cfg.age,
        measured={
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "target": rt["target"],
            "slack": slack,
            "readable_rate": round(rt["summary"]["readable_rate"] or 0.0, 4),
            "false_block_rate": {b: round(r["false_block_rate"] or 0.0, 4) for b, r in ob["by_band"].items()},
            "fpr_disparity": round(fair["summary"]["largest_fpr_disparity"], 4),
            "fnr_disparity": round(fair["summary"]["largest_fnr_disparity"], 4),
            **({"notes": cfg.measured["notes"]} if "notes" in cfg.measured else {}),
        },
        redteam=RedteamGate(
            quick=cfg.redteam.quick,
            min_readable_rate=_floor(rt["summary"]["readable_rate"], slack),
            min_transform_rate={t: _floor(r["rate"], slack) for t, r in rt["by_transform"].items()},
            min_category_rate={c: _floor(r["rate"], slack) for c, r in rt["by_category"].items()},
        ),
        overblocking=OverblockGate(
            quick=cfg.overblocking.quick,
            max_false_block_rate=max(
                (_ceil(r["false_block_rate"], slack / 4) for r in ob["by_band"].values()), default=1.0
            ),
            per_band={b: _ceil(r["false_block_rate"], slack / 4) for b, r in ob["by_band"].items()},
        ),
        fairness=FairnessGate(
            quick=cfg.fairness.quick,
            max_fpr_disparity=max(0.02, _ceil(fair["summary"]["largest_fpr_disparity"], slack)),
            max_fnr_disparity=_ceil(fair["summary"]["largest_fnr_disparity"], slack),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure the current engine and print (or --write) gate thresholds just below its figures."""
    import yaml

    from childsafe.config import load_config
    from childsafe.engine import Engine
    from childsafe.eval.redteam.targets import GuardTarget

    ap = argparse.ArgumentParser(prog="python -m childsafe.eval.redteam.gate", description=main.__doc__)
    ap.add_argument("gate", type=Path, help="gate YAML (its quick/age settings are kept)")
    ap.add_argument("--config", type=Path, default=None, help="childsafe config for the guard")
    ap.add_argument("--slack", type=float, default=0.02, help="margin below the measured figures")
    ap.add_argument("--write", action="store_true", help="rewrite the gate file (keeps its header comment)")
    args = ap.parse_args(argv)
    try:
        cfg = load_gate(args.gate)
        engine = Engine.from_config(load_config(args.config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = run_gate(GuardTarget(engine), cfg)
    print(result.text(), file=sys.stderr)
    new = thresholds_from(result, cfg, args.slack)
    body = yaml.safe_dump(new.model_dump(), sort_keys=False, allow_unicode=True)
    if args.write:
        header = [ln for ln in args.gate.read_text(encoding="utf-8").splitlines() if ln.startswith("#")]
        args.gate.write_text("\n".join(header) + "\n" + body, encoding="utf-8")
        print(f"wrote {args.gate}", file=sys.stderr)
    else:
        sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
