"""Hue rotations of RGB images and their products with the planar rotation/mirror groups.

A hue rotation by t turns each pixel's RGB vector by t about the grey axis (1, 1, 1)/sqrt(3), counter-clockwise seen
from the white end (right-handed): 120 degrees sends red to green, green to blue and blue to red, which is
`torch.roll(x, 1, dims=-3)` on an image (B, 3, H, W), and raises the HSV hue by 120 degrees.

An image group with hue is `HueProduct(planar, HueGroup(k))`: element index = spatial_index * k + hue_index, where
spatial_index numbers the planar group's elements as that group does (m*N + r) and hue_index counts steps of
360/k degrees. It is a `PlanarGroup`: `spatial(i)` is the planar part, so everything that moves pixels (filter
copies, the tester's image actions, blob scenes) ignores the hue, and `hue(i)` is the colour part.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import cos, lcm, pi, sin, sqrt
from typing import Iterable

from .finite import FiniteGroup, PlanarGroup, _angle_text, _check_order
from .planar import point_group

Matrix = tuple[tuple[float, float, float], ...]


def hue_matrix(step: int, n: int) -> Matrix:
    """The 3x3 rotation by 360*step/n degrees about (1, 1, 1)/sqrt(3) (Rodrigues' formula), as nested tuples.

    Acting on a pixel as rgb -> M @ rgb. For step/n a multiple of 1/3 it is a permutation up to 1e-16.
    """
    t = 2 * pi * step / n
    c, s = cos(t), sin(t)
    a, b = (1 - c) / 3, s / sqrt(3)
    return ((c + a, a - b, a + b),
            (a + b, c + a, a - b),
            (a - b, a + b, c + a))


@dataclass(frozen=True)
class HueGroup(FiniteGroup):
    """The n hue rotations by multiples of 360/n degrees; element k rotates by k steps (a cyclic group)."""

    n: int

    def __post_init__(self):
        _check_order(self.n, "HueGroup")

    @property
    def order(self) -> int:
        return self.n

    @property
    def name(self) -> str:
        return f"hue {self.n}"

    def compose(self, i: int, j: int) -> int:
        return (i + j) % self.n

    def inverse(self, i: int) -> int:
        return (-i) % self.n

    def element_name(self, i: int) -> str:
        return f"hue {_angle_text(i, self.n)}" if i else "identity"


@dataclass(frozen=True)
class HueProduct(PlanarGroup):
    """planar x hue: element i = spatial_index * hue.n + hue_index; the two parts commute and compose separately."""

    planar: PlanarGroup
    hue_group: HueGroup

    @property
    def n(self) -> int:  # the rotation order N of the planar part, as PlanarGroup promises
        return self.planar.n

    @property
    def order(self) -> int:
        return self.planar.order * self.hue_group.order

    @property
    def name(self) -> str:
        if self.planar.order == 1:
            return self.hue_group.name
        return f"{self.planar.name} x {self.hue_group.name}"

    def split(self, i: int) -> tuple[int, int]:
        """(spatial index, hue index) of element i."""
        return divmod(i, self.hue_group.order)

    def compose(self, i: int, j: int) -> int:
        s1, h1 = self.split(i)
        s2, h2 = self.split(j)
        return self.planar.compose(s1, s2) * self.hue_group.order + self.hue_group.compose(h1, h2)

    def inverse(self, i: int) -> int:
        s, h = self.split(i)
        return self.planar.inverse(s) * self.hue_group.order + self.hue_group.inverse(h)

    def spatial(self, i: int) -> tuple[int, int, int]:
        return self.planar.spatial(self.split(i)[0])

    def channel_action(self, i: int):
        step, n = self.hue(i)
        return hue_matrix(step, n) if step else None

    def hue(self, i: int) -> tuple[int, int]:
        """(step, n): element i rotates the hue by 360*step/n degrees."""
        return self.split(i)[1], self.hue_group.order

    def element_name(self, i: int) -> str:
        s, h = self.split(i)
        parts = [name for name in (self.planar.element_name(s), self.hue_group.element_name(h))
                 if name != "identity"]
        return ", ".join(parts) or "identity"


def hue_order(factors: Iterable) -> int:
    """Number of hue rotations the factors declare (1 for none); several hue orders combine by lcm."""
    order = 1
    for factor in factors:
        if factor.kind == "hue":
            if not factor.n or factor.n < 1:
                raise ValueError(f"hue factor needs an order n >= 1, got {factor.n!r}")
            order = lcm(order, factor.n)
    return order


def image_group(factors) -> PlanarGroup:
    """The group acting on images: the planar point group, times the hue rotations when the factors have any.

    Without hue (or with 'hue 1') this is exactly `point_group(factors)`, so such models do not change.
    """
    factors = tuple(factors)
    planar = point_group(factors)
    hues = hue_order(factors)
    return HueProduct(planar, HueGroup(hues)) if hues > 1 else planar


def hue_of(group: FiniteGroup, i: int) -> tuple[int, int]:
    """(step, n) of element i's hue rotation; (0, 1) for groups without hue."""
    return group.hue(i) if isinstance(group, HueProduct) else (0, 1)


def has_hue(group: FiniteGroup) -> bool:
    return isinstance(group, HueProduct)
