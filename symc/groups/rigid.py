"""Rigid motions of point clouds: E(n), SE(n), O(n) and SO(n) for n = 2, 3, a continuous factor.

Element (R, t) moves points as p -> R p + t: R orthogonal (det +1 only for SE and SO), t only for E and SE (or with a
separate `translation` factor). Its random elements for the tester are drawn by symc.groups.actions.random_orthogonal;
layers keep it exactly by seeing only distances (and signed volumes or areas where mirrors are excluded).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import o2, o3

KINDS = ("E", "SE", "O", "SO")


@dataclass(frozen=True)
class RigidMotions:
    kind: str
    """'E', 'SE', 'O' or 'SO'; '' for no rotations at all (permutations, perhaps translations)."""
    dim: int
    translations: bool

    @property
    def reflections(self) -> bool:
        return self.kind in ("E", "O")

    @property
    def rotations(self) -> bool:
        return bool(self.kind)

    @property
    def name(self) -> str:
        return f"{self.kind}({self.dim})" if self.kind else ""


def rigid_motions(factors, dim: int) -> RigidMotions:
    """The rigid motions a point cloud's factors name: the rigid group, with translations from E/SE or from a
    `translation` factor."""
    kinds = [factor.kind for factor in factors]
    kind = next((k for k in kinds if k in KINDS), "")
    return RigidMotions(kind, dim, kind in ("E", "SE") or "translation" in kinds)


def irreps_math(dim: int):
    """The module that holds the irreps of n-D points (parsing, dimensions, harmonics, matrices): symc.groups.o2 for
    2-D clouds, symc.groups.o3 for 3-D ones. Both read the same irreps text."""
    return o2 if dim == 2 else o3
