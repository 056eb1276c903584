"""Symmetry analysis: which group acts on the data, how exactly, and whether this version can lower it."""
from __future__ import annotations

from dataclasses import dataclass

from ..groups import has_hue, image_group, is_exact, point_group
from ..groups.finite import FiniteGroup, PlanarGroup
from ..spec.model import Spec
from ..spec.normalize import factor_text

# What the image lowering handles today; everything else in the language parses but is refused with a clear message.
IMAGE_FACTORS = {"translation", "rotation", "dihedral", "flip", "hue", "scale"}
IMAGE_OUTPUTS = {"invariant", "equivariant", "fields", "orientation"}
SUPPORTED_HINT_VALUES = {
    "backbone": {"conv"},
    "position_encoding": {"auto", "none", "radial"},
    "conv": {"auto", "direct", "fft"},
    "boundary": {"zero"},
}
UNSUPPORTED_HINTS: dict[str, str] = {}
# Every layer keeps one channel per group element and the generated file holds an order x order table, so very large
# orders would only give huge, slow files; escnn-style models use up to C16/D16.
MAX_GROUP_ORDER = 128


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
        if not isinstance(self.group, PlanarGroup):
            return True
        return all(4 * r % n == 0 for _, r, n in (self.group.spatial(i) for i in range(self.order)))

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
    domain = spec.domain.kind
    if domain != "image":
        from .domains import analyze_domain  # sequences, sets, graphs, point clouds and volumes
        return analyze_domain(spec)
    for index, factor in enumerate(spec.symmetry):
        if factor.kind not in IMAGE_FACTORS:
            raise spec.error(f"symmetry.{index}", f"'{factor.kind}' symmetry on images is not supported yet; "
                             "supported: translation, rotation N, D<N>/E(2) discretized N, p4, p4m, flip, hue N, scale N")
    for index, output in enumerate(spec.outputs):
        if output.kind not in IMAGE_OUTPUTS:
            raise spec.error(f"output.{index}", f"'{output.kind}' output is not supported on images; supported: "
                             "invariant, equivariant, equivariant K fields and orientation outputs")
    for name, allowed in SUPPORTED_HINT_VALUES.items():
        value = getattr(spec.hints, name)
        if value is not None and value not in allowed:
            raise spec.error(f"hint.{name}", f"{name.replace('_', ' ')} '{value}' is not supported yet for images; "
                             f"supported: {', '.join(sorted(allowed))}")
    for name, words in UNSUPPORTED_HINTS.items():
        if getattr(spec.hints, name) is not None:
            raise spec.error(f"hint.{name}", f"the '{words}' hint is not supported yet for images; leave it out "
                             "(every layer holds regular fields)")
    _check_group_order(spec)
    group = image_group(spec.symmetry)
    for index, output in enumerate(spec.outputs):
        if output.kind == "orientation" and group.order == 1:
            raise spec.error(f"output.{index}", "orientation output needs a rotation, mirror or hue group with "
                             "more than one element, but this spec's group is trivial; supported with 'rotation N' "
                             "(N at least 2), 'D<N>', 'flip' or 'hue N' (N at least 2)")
    exactness = ""
    if has_hue(group):  # the plain rotation/mirror wording stays as it was for groups without hue
        exactness = HUE_EXACTNESS[all(is_exact(group, i) for i in group.elements())]
    return Symmetry(domain=domain, group=group, translation=spec.translation, exactness=exactness,
                    scales=_scales(spec))


HUE_EXACTNESS = {
    True: "exact for every group element (rotations by multiples of 90 degrees, mirrors and hue rotations) "
          "at every size",
    False: "exact for the right-angle subgroup and hue rotations; other rotations steer band-limited filters "
           "and are approximate",
}


def _scales(spec: Spec) -> int:
    """N of the spec's `scale N` (1 without one), after refusing what the scale layers do not lower."""
    from .scale import check_scale  # the scale axis keeps its rules in its own module
    return check_scale(spec)


def _check_group_order(spec: Spec) -> None:
    """Refuse rotation groups above MAX_GROUP_ORDER elements, at the clause that asks for one."""
    mirrored = any(factor.kind in ("flip", "dihedral") for factor in spec.symmetry)
    for index, factor in enumerate(spec.symmetry):
        if factor.kind in ("rotation", "dihedral"):
            order = factor.n * (2 if mirrored else 1)
            if order > MAX_GROUP_ORDER:
                with_mirror = " with the mirror" if mirrored and factor.kind == "rotation" else ""
                raise spec.error(f"symmetry.{index}", f"'{factor_text(factor)}'{with_mirror} is a group of {order:,} "
                                 f"elements, which is not supported; supported: up to {MAX_GROUP_ORDER} elements "
                                 f"('C{MAX_GROUP_ORDER}', 'D{MAX_GROUP_ORDER // 2}'), since every layer keeps one "
                                 "channel per element")
    _check_hue_order(spec)


def _check_hue_order(spec: Spec) -> None:
    """Refuse a hue group that takes the whole group above MAX_GROUP_ORDER elements, at the hue clause."""
    hues = [(index, factor) for index, factor in enumerate(spec.symmetry) if factor.kind == "hue"]
    if not hues:
        return
    index, hue = hues[0]
    planar = point_group(spec.symmetry)
    order = planar.order * hue.n
    if order > MAX_GROUP_ORDER:
        times = f" times the {planar.order} elements of '{planar.name}'" if planar.order > 1 else ""
        raise spec.error(f"symmetry.{index}", f"'{factor_text(hue)}'{times} is a group of {order:,} elements, "
                         f"which is not supported; supported: up to {MAX_GROUP_ORDER} elements (such as "
                         "'D4 x hue 16' or 'C8 x hue 16'), since every layer keeps one channel per element")
