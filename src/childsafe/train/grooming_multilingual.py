"""Fit the map that puts the multilingual model's grooming reading on the conversation message model's scale.

    python -m childsafe.train.grooming_multilingual [--model-dir src/childsafe/models/grooming]

The conversation model was fitted on the English message model's logits. For a non-English message the tracker
reads the multilingual model instead (``childsafe.conversation.multilingual``), so it needs the message-model logit
to expect for a given multilingual reading. Both models read English, so the map is fitted on English: every
message of the other party in the written development conversations (``data/conversations/v2``, split dev: the
register children's apps see, and never trained on by either model), the multilingual reading against the
message-model logit clipped as the tracker clips it (the reading on the text with the English stage phrases
masked, as the message model reads it and as the tracker reads other languages), by isotonic regression (the
expected logit, rising with the reading). The curve is kept at 41 points.

(The grooming model's validation split was tried first: 83% of its messages are from Perverted-Justice
transcripts, whose every message the message model reads as grooming-like whatever it says, so the fitted curve
gave an ordinary non-English message the logit of a grooming chat.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from childsafe.conversation.model import GroomingModel, packaged_model_dir
from childsafe.conversation.multilingual import MAP_FILE, GroomingReading, grooming_digest, ngram_digest
from childsafe.detectors.grooming import mask_stage_phrases
from childsafe.detectors.multilingual import MODEL_DIR
from childsafe.text.context import TextContext
from childsafe.types import Role

CLIP = 4.0
POINTS = 41


def fit_map(reading: np.ndarray[Any, Any], logit: np.ndarray[Any, Any]) -> tuple[list[float], list[float]]:
    """The isotonic curve of ``logit`` on ``reading``, sampled at ``POINTS`` quantiles of the reading."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip").fit(reading, logit)
    xs = np.unique(np.round(np.quantile(reading, np.linspace(0.0, 1.0, POINTS)), 4))
    ys = np.maximum.accumulate(np.round(iso.predict(xs), 4))
    return [float(v) for v in xs], [float(v) for v in ys]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", type=Path, default=packaged_model_dir(),
                    help="the grooming model to fit for; the map is written beside it (multilingual.json)")
    args = ap.parse_args(argv)
    from childsafe.train.grooming import load_written_v2

    t0 = time.perf_counter()
    convs = load_written_v2("dev")
    texts = [t for c in convs for role, t in c.messages if role is not Role.CHILD and t.strip()]
    gm = GroomingModel.load(args.model_dir)
    normalized = [TextContext.from_text(t, Role.CONTACT).normalized for t in texts]
    logit = np.clip([gm.message_logit(n) for n in normalized], -CLIP, CLIP)
    # Read as the tracker reads: the phrases of the stages children also use among themselves masked.
    reading = GroomingReading(MODEL_DIR)([mask_stage_phrases(n) for n in normalized], ["en"] * len(texts))
    xs, ys = fit_map(reading, np.asarray(logit))
    mapped = np.interp(reading, xs, ys)
    corr = float(np.corrcoef(reading, logit)[0, 1])
    spec = {
        "x": xs,
        "y": ys,
        "multilingual_ngram_sha256": ngram_digest(MODEL_DIR),
        "grooming_model_sha256": grooming_digest(args.model_dir),
        "fitted_on": f"{len(texts)} messages of the other party in {len(convs)} English written development "
        "conversations (data/conversations/v2, split dev)",
        "pearson_reading_logit": round(corr, 4),
        "mean_abs_error": round(float(np.mean(np.abs(mapped - logit))), 4),
        "command": "python -m childsafe.train.grooming_multilingual",
    }
    out = args.model_dir / MAP_FILE
    out.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(xs)} points, {len(texts)} messages, pearson {corr:.3f} "
          f"({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
