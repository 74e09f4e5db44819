from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from childsafe.conversation.model import (
    FEATURES,
    N_BUCKETS,
    GroomingModel,
    ModelUnavailable,
    default_model,
    hashed_features,
    tokens,
)


def test_packaged_model_loads_with_card() -> None:
    m = default_model()
    assert m.msg_w.shape == (N_BUCKETS,)
    assert m.conv_w.shape == (len(FEATURES),)
    assert m.card["features"] == list(FEATURES)
    assert m.threshold == 0.5
    # every conversation weight is >= 0: more evidence never lowers the risk
    assert float(m.conv_w.min()) >= 0.0


def test_hashing_is_stable_and_masks_stage_phrases() -> None:
    assert hashed_features("lol that was fun") == hashed_features("lol that was fun")
    assert tokens("i'm here, it's 2024") == ["im", "here", "its", "<num>"]
    # the age question is carried by the stage feature, not by the surface model
    assert hashed_features("how old are you") == []
    assert hashed_features("hey how old are you") == hashed_features("hey")


def test_save_load_round_trip(tmp_path: Path) -> None:
    m = default_model()
    m.save(tmp_path)
    again = GroomingModel.load(tmp_path)
    assert again.card == m.card
    assert again.message_logit("wanna play later") == pytest.approx(m.message_logit("wanna play later"), abs=1e-3)
    f = np.linspace(0, 1, len(FEATURES))
    assert again.conversation_risk(f) == pytest.approx(m.conversation_risk(f))


def test_missing_or_damaged_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        GroomingModel.load(tmp_path)
    np.savez(tmp_path / "grooming.npz", msg_w=np.zeros(3), msg_b=np.zeros(1), conv_w=np.zeros(2), conv_b=np.zeros(1))
    digest = hashlib.sha256((tmp_path / "grooming.npz").read_bytes()).hexdigest()
    (tmp_path / "card.json").write_text(json.dumps({"sha256": digest}), encoding="utf-8")
    with pytest.raises(ModelUnavailable, match="wrong shape"):
        GroomingModel.load(tmp_path)


def test_a_model_file_that_does_not_match_its_card_is_refused(tmp_path: Path) -> None:
    default_model().save(tmp_path)
    with (tmp_path / "grooming.npz").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelUnavailable, match="checksum"):
        GroomingModel.load(tmp_path)
