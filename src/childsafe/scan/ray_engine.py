"""Ray Data engine: the same per-item function (:class:`ItemScanner`) on a Ray cluster (extra ``[distributed]``).

Items are fed in windows, so a cluster streams a source of any size, and results come back to the driver,
which checkpoints them exactly as the local engine does (``--resume`` works the same). Without a running
cluster (``RAY_ADDRESS`` unset) a local Ray instance with ``workers`` CPUs is started.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from childsafe.scan.worker import ItemScanner, ScanSettings
from childsafe.types import ChildsafeError

WINDOW_BATCHES = 256


class RayUnavailable(ChildsafeError):
    """Ray is not installed: pip install 'childsafe[distributed]'."""


class _RayScanner:
    """Ray Data actor: builds the scanner once, then maps batches of JSON items to JSON records."""

    def __init__(self, settings: ScanSettings) -> None:
        self._scanner = ItemScanner(settings)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        items = [json.loads(s) for s in batch["item"]]
        records = self._scanner.scan_batch(items)
        return {"record": [json.dumps(r, ensure_ascii=False) for r in records]}


def run_ray(
    batches: Iterator[list[dict[str, Any]]],
    settings: ScanSettings,
    workers: int,
    sink: Callable[[list[dict[str, Any]]], None],
) -> None:
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable("--engine ray needs Ray: pip install 'childsafe[distributed]'") from None
    started_here = False
    if not ray.is_initialized():
        if os.environ.get("RAY_ADDRESS"):
            ray.init(log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started_here = True
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        window: list[dict[str, Any]] = []
        for b in batches:
            window.extend(b)
            if len(window) >= WINDOW_BATCHES * len(b):
                _run_window(ray, window, settings, workers, sink)
                window = []
        if window:
            _run_window(ray, window, settings, workers, sink)
    finally:
        if started_here:
            ray.shutdown()


def _run_window(
    ray: Any,
    items: list[dict[str, Any]],
    settings: ScanSettings,
    workers: int,
    sink: Callable[[list[dict[str, Any]]], None],
) -> None:
    ds = ray.data.from_items([{"item": json.dumps(it)} for it in items])
    out = ds.map_batches(
        _RayScanner,
        fn_constructor_kwargs={"settings": settings},
        batch_size=32,
        concurrency=workers,
        num_cpus=1,
        batch_format="numpy",
    )
    records: list[dict[str, Any]] = []
    for row in out.iter_rows():
        records.append(json.loads(row["record"]))
        if len(records) >= 256:
            sink(records)
            records = []
    if records:
        sink(records)
