"""Text normalisation and obfuscation folding shared by all detectors."""

from childsafe.text.context import DecodedView, TextContext
from childsafe.text.normalize import Normalized, normalize

__all__ = ["DecodedView", "Normalized", "TextContext", "normalize"]
