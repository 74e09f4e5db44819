"""The CI stress gate: the fast subset against the default guard must meet config/stress-gate.yaml.

This test fails when a change makes the guard detect fewer red-team probes, block more benign messages or
widen a gap between identity groups than the thresholds allow. When the engine improves, raise the bounds:
``python -m childsafe.eval.redteam.gate config/stress-gate.yaml --write``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from childsafe.config import ConfigError
from childsafe.engine import Engine
from childsafe.eval.redteam.gate import GateConfig, GateResult, checks_for, load_gate, run_gate, thresholds_from
from childsafe.eval.redteam.targets import GuardTarget

from .conftest import REPO

GATE_FILE = REPO / "config" / "stress-gate.yaml"


@pytest.fixture(scope="module")
def gate_cfg() -> GateConfig:
    return load_gate(GATE_FILE)


@pytest.fixture(scope="module")
def result(gate_cfg: GateConfig) -> GateResult:
    return run_gate(GuardTarget(Engine.from_config()), gate_cfg)


def test_stress_gate(gate_cfg: GateConfig, result: GateResult) -> None:
    print("\n" + result.text())
    measured_with = gate_cfg.measured.get("target", {}).get("detectors")
    running = result.redteam["target"]["detectors"]
    hint = ""
    if measured_with != running:
        hint = (
            f"\nnote: the bounds were measured with detectors {measured_with}, the engine now runs {running}. "
            "If the change is intended, re-measure: python -m childsafe.eval.redteam.gate config/stress-gate.yaml "
            "--write (and review the diff)."
        )
    assert result.passed, "stress gate failed:\n" + "\n".join(c.line() for c in result.failures) + hint


def test_gate_covers_every_transform_category_and_band(gate_cfg: GateConfig, result: GateResult) -> None:
    assert set(gate_cfg.redteam.min_transform_rate) == set(result.redteam["by_transform"])
    assert set(gate_cfg.redteam.min_category_rate) == set(result.redteam["by_category"])
    assert {c.name for c in result.checks} >= {
        f"overblocking false-block rate {b}" for b in ("0-5", "6-9", "10-12", "13-15", "16-17", "adult")
    }


def test_gate_fails_on_a_regression(gate_cfg: GateConfig, result: GateResult) -> None:
    # the same figures against bounds just above them: every red-team bound below 100% must now fail
    stricter = gate_cfg.model_copy(deep=True)
    stricter.redteam.min_transform_rate = {
        t: min(1.0, (r["rate"] or 0.0) + 0.01) for t, r in result.redteam["by_transform"].items()
    }
    stricter.fairness.max_fnr_disparity = max(0.0, result.fairness["summary"]["largest_fnr_disparity"] - 0.01)
    failed = {c.name for c in checks_for(stricter, result) if not c.passed}
    below_perfect = {f"redteam transform {t}" for t, r in result.redteam["by_transform"].items() if r["rate"] < 1.0}
    assert below_perfect <= failed
    if result.fairness["summary"]["largest_fnr_disparity"] > 0:
        assert "fairness FNR disparity" in failed
    # a regression: one transform detected less often than its bound allows
    name, measured = next(iter(result.redteam["by_transform"].items()))
    worse = copy.deepcopy(result)
    worse.redteam["by_transform"][name]["rate"] = gate_cfg.redteam.min_transform_rate[name] - 0.05
    failed = {c.name for c in checks_for(gate_cfg, worse) if not c.passed}
    assert f"redteam transform {name}" in failed
    assert all(c.passed for c in checks_for(gate_cfg, result) if c.name == f"redteam transform {name}")
    assert measured["rate"] >= gate_cfg.redteam.min_transform_rate[name]


def test_thresholds_from_measurement_pass_on_that_measurement(gate_cfg: GateConfig, result: GateResult) -> None:
    suggested = thresholds_from(result, gate_cfg, slack=0.02)
    assert all(c.passed for c in checks_for(suggested, result))
    assert suggested.fairness.max_fpr_disparity >= 0.02


def test_bad_gate_file_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "gate.yaml"
    f.write_text("redteam:\n  min_readable_rate: 2\n")
    with pytest.raises(ConfigError, match=r"redteam\.min_readable_rate"):
        load_gate(f)
    f.write_text("redteam:\n  min_readble_rate: 0.5\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_gate(f)
    with pytest.raises(ConfigError, match="not found"):
        load_gate(tmp_path / "missing.yaml")
