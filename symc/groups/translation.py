"""Translations: the (infinite) group of shifts of a grid or of points; layers keep it by weight sharing."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Translation:
    """Marker for the (infinite) group of grid shifts; carries no tables."""

    dims: int = 2

    @property
    def name(self) -> str:
        return f"translations of Z^{self.dims}"
