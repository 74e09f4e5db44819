import importlib.util
import json
from pathlib import Path

import pytest

from childsafe.hashing import load_hash_list
from childsafe.scan import ScanSettings, run_scan

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install 'childsafe[distributed]')"
    ),
]


def test_ray_engine_matches_local_engine(dataset: dict[str, Path]) -> None:
    import ray

    settings = ScanSettings(
        lists=[load_hash_list(dataset["pdq_list"]), load_hash_list(dataset["md5_list"])], text=False, nudity=False
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = run_scan([dataset["data"]], dataset["root"] / "ray", settings, engine="ray", workers=2, progress=False)
    finally:
        ray.shutdown()
    run_scan([dataset["data"]], dataset["root"] / "local", settings, workers=1, progress=False)

    def rows(out: str) -> dict[str, dict[str, object]]:
        lines = (dataset["root"] / out / "manifest.jsonl").read_text().splitlines()
        return {json.loads(x)["path"]: json.loads(x) for x in lines}

    assert rows("ray") == rows("local")
    assert res.total == 13 and res.actions["remove"] == 3 and res.exit_code == 1
