"""Dataset scanner: known-abuse hash matching, nudity and text checks, removal manifests.

``run_scan(sources, out_dir, ScanSettings(...))`` is the library entry point; ``childsafe scan`` is its CLI.
Local runs use a process pool; ``engine="ray"`` runs the same per-item function on Ray Data.
"""

from childsafe.scan.runner import ScanResult, ScanUsageError, run_scan
from childsafe.scan.sources import Item, SourceError, SourceOptions, iter_items
from childsafe.scan.worker import ItemScanner, ScanSettings, decide_action

__all__ = [
    "Item",
    "ItemScanner",
    "ScanResult",
    "ScanSettings",
    "ScanUsageError",
    "SourceError",
    "SourceOptions",
    "decide_action",
    "iter_items",
    "run_scan",
]
