"""The group a spec's symmetry factors generate on each grid: one direct product of the factors' own groups."""
from __future__ import annotations

from .cube import CubeGroup
from .finite import DirectProduct, FiniteGroup
from .hue import HueGroup, hue_order
from .planar import DihedralGroup, TrivialGroup, point_group


def image_group(factors) -> FiniteGroup:
    """The group acting on images: the planar point group, times the hue rotations when the factors have any.

    Without hue (or with 'hue 1') this is exactly `point_group(factors)`, so such models do not change.
    """
    factors = tuple(factors)
    planar = point_group(factors)
    hues = hue_order(factors)
    return DirectProduct(planar, HueGroup(hues)) if hues > 1 else planar




def volume_group(factors) -> FiniteGroup:
    """The cube group the factors name on a volume: O, O_h (with mirrors, also octahedral with flip), the lone
    left-right flip D_1, or the trivial group."""
    kinds = {factor.kind for factor in factors}
    if "full octahedral" in kinds or {"octahedral", "flip"} <= kinds:
        return CubeGroup(mirrors=True)
    if "octahedral" in kinds:
        return CubeGroup(mirrors=False)
    return DihedralGroup(1) if "flip" in kinds else TrivialGroup()


def sequence_group(factors) -> FiniteGroup:
    """Time reversal (D_1 reversing the time axis) or the trivial group."""
    return DihedralGroup(1) if any(factor.kind == "time reversal" for factor in factors) else TrivialGroup()
