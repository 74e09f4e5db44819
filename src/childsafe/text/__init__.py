"""Text normalisation and obfuscation folding shared by all detectors."""

from childsafe.text.context import TextContext
from childsafe.text.normalize import Normalized, normalize

__all__ = ["Normalized", "TextContext", "normalize"]
