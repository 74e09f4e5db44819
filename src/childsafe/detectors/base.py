"""The detector contract.

A detector turns one message (a :class:`~childsafe.text.TextContext`) into typed
:class:`~childsafe.types.Detection` objects. It is the only place where "is this unsafe?" is answered;
what to *do* about it is the policy's job, and what happens next is the engine's.

Why the contract looks like this:

* **A small class with a stable name.** ``name`` is lower_snake and unique across all installed
  detectors (built-in and plugins found through the ``childsafe.detectors`` entry point group); it is
  written into every Detection, decision, audit event and metric, so renaming a detector is a breaking
  change. ``version`` changes whenever the detector's behaviour changes (new phrase list, new model), so
  a decision can always be traced to the exact logic that produced it.
* **Declared scope.** ``categories`` lists the categories it can emit; ``kinds`` the content kinds it
  reads (``"text"`` for now). The engine uses them for reporting and to check plugins at start-up.
* **Typed configuration.** ``Config`` is a pydantic model; the engine validates the user's YAML against
  it, so a typo in a detector option is a clear start-up error, not a silent default.
* **Lazy loading.** Construction must be cheap and do no I/O. Heavy artefacts (models, automata) load
  in :meth:`load`, which the engine calls once before the first check (``Engine.warmup``) and which must
  be idempotent. A detector that cannot load raises :class:`DetectorUnavailable`; the engine then fails
  closed (blocks with reason "safety check unavailable") instead of letting content through.
* **Pure and side-effect free.** ``detect`` does no network or disk I/O and never imports the engine,
  the store or a face. It may be called from several threads at once.
* **Scores are probabilities-ish.** A score in [0, 1] where higher means more likely unsafe. Learned
  detectors return calibrated probabilities; rule detectors return fixed, documented confidences.
  Evidence is written for a reviewer (the matched phrase or rule), never shown to a child.
* **Spans point into the original text**: use ``ctx.to_original(start, end)`` for matches made on the
  normalised text.

``detect_batch`` exists for detectors (like the ONNX classifier) that are much faster on batches; the
default just loops.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from childsafe.text.context import TextContext
from childsafe.types import Category, ChildsafeError, Detection


class DetectorUnavailable(ChildsafeError):
    """A detector could not load or run (missing model, checksum mismatch...). The engine fails closed."""


class DetectorConfig(BaseModel):
    """Base for each detector's options. Unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


class Detector(ABC):
    """Base class of every detector. See the module docstring for the contract."""

    name: ClassVar[str]
    version: ClassVar[str]
    categories: ClassVar[frozenset[Category]]
    kinds: ClassVar[frozenset[str]] = frozenset({"text"})
    Config: ClassVar[type[DetectorConfig]] = DetectorConfig
    languages: ClassVar[frozenset[str] | None] = None
    """The languages the detector was built for (ISO 639-1), or None for any. The engine does not run it on a
    message identified as another language: an English model reading Spanish guesses (it read "q peli vemos el
    viernes? yo voto la de terror" as violence); the multilingual detector reads those."""
    joins_messages: ClassVar[bool] = False
    """Also run on a message joined to the same speaker's previous one, so a request split across two messages
    ("how do i make a" / "bomb") is seen whole. Meant for cheap phrase detectors; the conversation supplies the
    previous text, nothing extra is stored."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        """Load heavy resources. Idempotent. Subclasses override :meth:`_load`."""
        if not self._loaded:
            self._load()
            self._loaded = True

    def _load(self) -> None:  # noqa: B027 - optional hook
        """Override to load models or build automata."""

    @abstractmethod
    def detect(self, ctx: TextContext) -> list[Detection]:
        """Return detections for one message (empty list when nothing is found)."""

    def detect_batch(self, ctxs: Sequence[TextContext]) -> list[list[Detection]]:
        """Detect on many messages; override when batching is faster."""
        return [self.detect(c) for c in ctxs]

    def detection(
        self,
        category: Category,
        score: float,
        ctx: TextContext | None = None,
        start: int | None = None,
        end: int | None = None,
        evidence: str = "",
        signal: str | None = None,
    ) -> Detection:
        """Build a Detection stamped with this detector's name and version (span mapped to the original)."""
        span = ctx.to_original(start, end) if ctx is not None and start is not None and end is not None else None
        return Detection(
            category=category,
            score=float(min(1.0, max(0.0, score))),
            detector=self.name,
            detector_version=self.version,
            span=span,
            evidence=evidence,
            signal=signal,
        )
