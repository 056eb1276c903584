"""The Symmetry a spec declares: which group acts on the data, how exactly, and whether this version lowers it.

Each domain's analysis lives beside its IR builder and is reached through the domain's 'symmetry' hook
(symc.domains); `check_lowering` holds the rules every domain without its own wording shares.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..domains import domain as domain_plugin, hook
from ..groups.finite import FiniteGroup
from ..spec.model import Spec

@dataclass(frozen=True)
class Symmetry:
    """The group a model must respect, as the planner and emitter need it."""

    domain: str
    group: FiniteGroup
    translation: bool
    permutation: bool = False
    """Reordering of set elements, points or graph nodes (sets and graphs always have it)."""
    rigid: str = ""
    """The continuous point-cloud group as written canonically ('E(3)', 'SO(2)', ...), or ''."""
    summary: str = ""
    """What `describe` says for domains other than images."""
    exactness: str = ""
    """How exactly the model respects the group, for domains other than images."""
    scales: int = 1
    """Discrete scales of images (`scale N`): features are kept at every scale, each with the finite group."""

    @property
    def order(self) -> int:
        return self.group.order

    @property
    def right_angles_only(self) -> bool:
        """True when every element maps the pixel grid onto itself (multiples of 90 degrees, mirrors)."""
        return all(self.group.is_exact(i) for i in range(self.order))

    def describe(self) -> str:
        if self.summary:
            return self.summary
        words = {1: "no point symmetry"}
        base = words.get(self.order, f"{self.group.name} ({self.order} elements)")
        shifts = "translations" if self.translation else "no translations"
        scales = f" and {self.scales} scales" if self.scales > 1 else ""
        return f"{base} with {shifts}{scales}"




def analyze(spec: Spec) -> Symmetry:
    """The symmetry the spec declares, or a SpecError naming the first clause this version cannot lower."""
    return hook(spec.domain.kind, "symmetry")(spec)


def check_lowering(spec: Spec) -> None:
    """Refuse, at its clause, a factor, output or hint the spec's domain parses but this version does not lower."""
    plugin = domain_plugin(spec.domain.kind)
    domain = plugin.kind
    for index, factor in enumerate(spec.symmetry):
        if factor.kind not in plugin.lowered:
            raise spec.error(f"symmetry.{index}", f"'{factor.kind}' symmetry on {domain}s is not supported yet; "
                             f"supported: {', '.join(sorted(plugin.lowered))}")
    for index, output in enumerate(spec.outputs):
        if output.kind not in plugin.outputs:
            raise spec.error(f"output.{index}", f"'{output.kind}' output is not supported on {domain}s")
    hints = spec.hints
    if hints.invariant_fraction is not None:
        raise spec.error("hint.invariant_fraction", "the 'invariant fraction' hint is not supported yet")
    if hints.backbone is not None and hints.backbone not in plugin.backbones:
        raise spec.error("hint.backbone", f"backbone '{hints.backbone}' does not fit {domain}s; "
                         f"supported: {', '.join(sorted(plugin.backbones))}")
    if not plugin.grid_dims:
        for name in ("kernel", "conv", "boundary"):
            if getattr(hints, name) is not None:
                raise spec.error(f"hint.{name}", f"the '{name}' hint is for grids (images, volumes, sequences); "
                                 f"{domain}s have no grid to convolve over")
