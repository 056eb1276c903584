"""The protocol every domain plug-in implements: the facts the spec language needs, and one hook per stage.

A domain is one module in this package holding a `Domain` value. Its facts (which symmetry factors act on it, which
outputs and backbones it has, its grid's dimension) are plain data that the spec checks read. Its hooks name, as
'module:function', the domain's code in each later stage: symmetry analysis (Spec -> Symmetry), the architecture
chooser, the IR builder, the emitter and the tester. Stages reach their hook through `symc.domains.hook`, so no stage
imports a later one and nothing outside the plug-ins dispatches on a domain's name.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

STAGES = ("symmetry", "architecture", "ir", "emit", "tester")


@dataclass(frozen=True)
class Domain:
    kind: str
    """The domain's word in the spec language ('image', 'point cloud', ...)."""
    factors: frozenset[str]
    """Kinds of symmetry factor that act on this domain (the spec language's rule)."""
    instead: str
    """What to write instead when a factor does not act on this domain."""
    outputs: frozenset[str]
    """Kinds of output this domain has."""
    hooks: dict[str, str] = field(compare=False, hash=False)
    lowered: frozenset[str] = frozenset()
    """Factor kinds this version lowers to a model (the others parse but are refused at the symmetry stage)."""
    backbones: frozenset[str] = frozenset({"conv"})
    """'module:function' per stage in STAGES."""
    grid_dims: int = 0
    """Dimension of the domain's grid (sequences 1, images 2, volumes 3); 0 for sets, graphs and point clouds."""
    point_dims: tuple[int, ...] = ()
    """Coordinates per point the domain takes (point clouds: 2 or 3); empty for domains without points."""
    size_layout: str = ""
    """How the domain clause writes sizes, e.g. 'CxHxW' (named in size errors)."""
    hints: frozenset[str] = frozenset()
    """Hints (Hints fields, or 'pooling sum') that only some domains take, and this one does: 'cutoff', 'sparse'."""
    positions: bool = True
    """Whether the data has positions that 'no translation' could refer to."""
    approximate: frozenset[str] = frozenset()
    """Factor kinds that may be written `approximate`; a spec with one may hold only these and 'permutation'."""
    clause_text: Callable = field(default=None, compare=False, hash=False)
    """The canonical text of a spec's domain clause (a `symc.spec.Domain`); a grid's by default."""

    def __post_init__(self):
        if self.clause_text is None:
            object.__setattr__(self, "clause_text", grid_clause)

    def hook(self, stage: str) -> Callable:
        """The function this domain registers for `stage` (imported on first use)."""
        module, _, name = self.hooks[stage].partition(":")
        return getattr(importlib.import_module(module), name)

    @property
    def plural(self) -> str:
        return self.kind + "s"


def grid_clause(domain) -> str:
    """'image', or 'image 3x32x32': the kind, then channels and sizes when given."""
    if domain.shape is None:
        return domain.kind
    return f"{domain.kind} " + "x".join(map(str, (domain.channels, *domain.shape)))


def count_text(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
