"""Red-team and over-blocking suites (``childsafe redteam``): probes, transforms, targets, runner, reports."""

from childsafe.eval.redteam.data import BenignItem, Probe, SuiteDataError, load_benign, load_probes
from childsafe.eval.redteam.runner import run_overblocking, run_redteam, summarise_overblocking, summarise_redteam
from childsafe.eval.redteam.suite import SuiteOptions, run_suites, write_reports
from childsafe.eval.redteam.targets import GuardTarget, HttpTarget, Target, TargetError, Verdict
from childsafe.eval.redteam.transforms import TRANSFORMS, Transform, get_transforms

__all__ = [
    "TRANSFORMS",
    "BenignItem",
    "GuardTarget",
    "HttpTarget",
    "Probe",
    "SuiteDataError",
    "SuiteOptions",
    "Target",
    "TargetError",
    "Transform",
    "Verdict",
    "get_transforms",
    "load_benign",
    "load_probes",
    "run_overblocking",
    "run_redteam",
    "run_suites",
    "summarise_overblocking",
    "summarise_redteam",
    "write_reports",
]
