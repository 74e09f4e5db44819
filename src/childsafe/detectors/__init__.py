"""Detectors: the contract (base.py) and the built-in implementations."""

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable

__all__ = ["Detector", "DetectorConfig", "DetectorUnavailable"]
