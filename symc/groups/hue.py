"""Hue rotations of RGB images: a cyclic factor that turns colours and moves no pixel.

A hue rotation by t turns each pixel's RGB vector by t about the grey axis (1, 1, 1)/sqrt(3), counter-clockwise seen
from the white end (right-handed): 120 degrees sends red to green, green to blue and blue to red, which is
`torch.roll(x, 1, dims=-3)` on an image (B, 3, H, W), and raises the HSV hue by 120 degrees.

An image group with hue is the direct product of the planar group and `HueGroup(k)` (symc.groups.build).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import cos, lcm, pi, sin, sqrt
from typing import Iterable

from .finite import Cyclic, FiniteGroup, _angle_text, _check_order

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
class HueGroup(Cyclic):
    """The n hue rotations by multiples of 360/n degrees; element k rotates by k steps (a cyclic group)."""

    n: int

    def __post_init__(self):
        _check_order(self.n, "HueGroup")

    @property
    def name(self) -> str:
        return f"hue {self.n}"

    def element_name(self, i: int) -> str:
        return f"hue {_angle_text(i, self.n)}" if i else "identity"

    def channel_action(self, i: int):
        """Turns the RGB vector of every pixel (rgb -> M @ rgb); moves no grid."""
        return hue_matrix(i, self.n) if i else None


def hue_order(factors: Iterable) -> int:
    """Number of hue rotations the factors declare (1 for none); several hue orders combine by lcm."""
    order = 1
    for factor in factors:
        if factor.kind == "hue":
            if not factor.n or factor.n < 1:
                raise ValueError(f"hue factor needs an order n >= 1, got {factor.n!r}")
            order = lcm(order, factor.n)
    return order


def hue_factor(group: FiniteGroup) -> tuple[int, "HueGroup"] | None:
    """(position, factor) of the hue factor of a product (or of a lone hue group, position -1), or None."""
    if isinstance(group, HueGroup):
        return -1, group
    for k, factor in enumerate(getattr(group, "factors", ())):
        if isinstance(factor, HueGroup):
            return k, factor
    return None


def hue_of(group: FiniteGroup, i: int) -> tuple[int, int]:
    """(step, n) of element i's hue rotation; (0, 1) for groups without hue."""
    found = hue_factor(group)
    if found is None:
        return 0, 1
    k, factor = found
    return (i if k < 0 else group.split(i)[k]), factor.order


def has_hue(group: FiniteGroup) -> bool:
    return hue_factor(group) is not None
