"""Fairness audit: the same benign and harmful sentences across identity groups (``childsafe audit-fairness``)."""

from childsafe.eval.fairness.audit import run_audit, write_fairness_report
from childsafe.eval.fairness.templates import FairnessItem, load_items

__all__ = ["FairnessItem", "load_items", "run_audit", "write_fairness_report"]
