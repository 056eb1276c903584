"""The spec language: text in, a validated `Spec` out (torch-free, so parsing stays fast)."""
from .errors import SpecError
from .model import Domain, Factor, Hints, Output, Spec
from .normalize import normalized_text
from .parser import parse

__all__ = ["parse", "Spec", "SpecError", "Domain", "Factor", "Output", "Hints", "normalized_text"]
