"""Rotations and mirrors of the plane: C_N and D_N, their moves of images, points and kernels.

The single source of planar math: element (mirror, r, N) mirrors left-right first (if mirror), then rotates by
2*pi*r/N in the direction of `torch.rot90(x, 1, dims=(-2, -1))`.
"""
from __future__ import annotations

from math import lcm, pi
from typing import Iterable

from dataclasses import dataclass

from .circle import point_matrix
from .finite import Cyclic, FiniteGroup, _angle_text, _check_order, turn
from .moves import GridMove, Matrix, compose_matrices, matrix_move

# Factor kinds that generate rotations and mirrors of the image plane.
PLANAR_KINDS = ("rotation", "dihedral", "flip")


class PlanarGroup(FiniteGroup):
    """A finite group of rotations (and mirrors) of the plane about a fixed centre.

    `spatial(i) = (mirror, r, N)`: element i mirrors left-right first (if mirror == 1), then rotates by
    2*pi*r/N in the direction of `torch.rot90(x, 1, dims=(-2, -1))`.
    """

    n: int  # rotation order N

    def spatial(self, i: int) -> tuple[int, int, int]:
        raise NotImplementedError

    def grid_move(self, i: int, dims: int) -> GridMove:
        """On images (2D): mirror, steering angle and quarter turns (planar_move). On other grids the mirror
        reverses the last axis (time reversal of a sequence, the left-right flip of a volume); rotations of the
        plane have no move there."""
        mirror, r, n = self.spatial(i)
        if dims == 2:
            return planar_move(mirror, r, n)
        if r % n:
            raise ValueError(f"{self.name} rotates a plane; it has no move on a {dims}D grid")
        flips = (0,) * (dims - 1) + (1,) if mirror else (0,) * dims
        return GridMove(tuple(range(dims)), flips, 0.0)

    def is_exact(self, i: int) -> bool:
        _, r, n = self.spatial(i)
        return (4 * r) % n == 0

    def element_name(self, i: int) -> str:
        mirror, r, n = self.spatial(i)
        rotation = f"rot {_angle_text(r, n)}" if r else ""
        if mirror and rotation:
            return f"flip then {rotation}"
        return "flip" if mirror else (rotation or "identity")


@dataclass(frozen=True)
class CyclicGroup(Cyclic, PlanarGroup):
    """C_N: rotations by multiples of 360/N degrees; element r is rotation by r steps."""

    n: int

    def __post_init__(self):
        _check_order(self.n, "CyclicGroup")

    @property
    def name(self) -> str:
        return f"C{self.n}"

    def spatial(self, i: int) -> tuple[int, int, int]:
        return 0, i, self.n


@dataclass(frozen=True)
class TrivialGroup(CyclicGroup):
    """C_1: the group with the identity alone (a spec with no point symmetry)."""

    n: int = 1

    def __post_init__(self):
        if self.n != 1:
            raise ValueError("TrivialGroup has order 1")

    @property
    def name(self) -> str:
        return "trivial"


@dataclass(frozen=True)
class DihedralGroup(PlanarGroup):
    """D_N: N rotations and N mirror images; element i = mirror*N + r acts as R^r F^m (mirror first).

    (m1, r1)(m2, r2) = (m1 xor m2, r1 + (-1)^m1 r2 mod N), because F R = R^{-1} F.
    D_1 is the single left-right mirror.
    """

    n: int

    def __post_init__(self):
        _check_order(self.n, "DihedralGroup")

    @property
    def order(self) -> int:
        return 2 * self.n

    @property
    def name(self) -> str:
        return f"D{self.n}"

    def compose(self, i: int, j: int) -> int:
        m1, r1 = divmod(i, self.n)
        m2, r2 = divmod(j, self.n)
        r = (r1 - r2 if m1 else r1 + r2) % self.n
        return (m1 ^ m2) * self.n + r

    def inverse(self, i: int) -> int:
        mirror, r = divmod(i, self.n)
        return i if mirror else (-r) % self.n  # every mirror image is its own inverse

    def spatial(self, i: int) -> tuple[int, int, int]:
        mirror, r = divmod(i, self.n)
        return mirror, r, self.n

    def irreps(self) -> tuple[tuple[str, tuple], ...]:
        return dihedral_irreps(self.n)


# The two generators of the planar moves, on the axes (row, column) of an image:
# a quarter turn is torch.rot90(x, 1, dims=(-2, -1)) (out[a][b] = in[b][W-1-a]); the mirror reverses the columns.
QUARTER_TURN: Matrix = ((0, -1), (1, 0))
MIRROR: Matrix = ((1, 0), (0, -1))


def planar_move(mirror: int, r: int, n: int) -> GridMove:
    """The image move of planar element (mirror, r, n): mirror left-right first, then rotate by 360*r/n degrees.

    The rotation splits into q quarter turns and a remaining angle a below 90 degrees. With the mirror F acting
    first, Q^q R_a F = (Q^q F) R_-a: the steering by the remaining angle comes first (negated when mirrored),
    then one exact signed permutation.
    """
    quarters, remainder = divmod(4 * (r % n), n)
    angle = 2.0 * pi * remainder / (4 * n)
    m: Matrix = ((1, 0), (0, 1))
    for _ in range(quarters):
        m = compose_matrices(QUARTER_TURN, m)
    if mirror:
        m = compose_matrices(m, MIRROR)
        angle = -angle
    return matrix_move(m, angle)


# ---------------------------------------------------------------- real irreducible representations

def _times(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))) for i in range(len(a)))


def dihedral_irreps(n: int) -> tuple[tuple[str, tuple], ...]:
    """Real irreducible representations of D_n as (label, matrix of each element m*n + r = R^r F^m): trivial, the
    mirror's sign (-1)^m, for even n also (-1)^r and (-1)^(r+m), and for 0 < k < n/2 the 2x2 representations with
    R -> rotation by k*360/n degrees and F -> diag(1, -1)."""
    elements = [(m, r) for m in range(2) for r in range(n)]
    reps = [("trivial", tuple(((1.0,),) for _ in elements)),
            ("mirror sign", tuple((((-1.0) ** m,),) for m, _ in elements))]
    if n % 2 == 0:
        reps.append(("rotation sign", tuple((((-1.0) ** r,),) for _, r in elements)))
        reps.append(("both signs", tuple((((-1.0) ** (r + m),),) for m, r in elements)))
    mirror = ((1.0, 0.0), (0.0, -1.0))
    for k in range(1, (n + 1) // 2):
        reps.append((f"frequency {k}", tuple(_times(turn(2 * pi * k * r / n), mirror) if m else
                                             turn(2 * pi * k * r / n) for m, r in elements)))
    return tuple(reps)



def point_group(factors: Iterable) -> PlanarGroup:
    """The finite group of rotations/mirrors of the plane generated by `factors`.

    `factors` are duck-typed spec factors (`.kind`, `.n`). Rotation orders (of `rotation` and `dihedral`)
    combine by lcm; any `flip` or `dihedral` adds the mirror, giving D_N (a lone `flip` is D_1).
    Factors that do not act on the plane (translation, hue, scale, ...) are ignored here: callers that must
    handle them look at the factors themselves.
    """
    rotation_order, mirrored = 1, False
    for factor in factors:
        if factor.kind in ("rotation", "dihedral"):
            if not factor.n or factor.n < 1:
                raise ValueError(f"{factor.kind} factor needs an order n >= 1, got {factor.n!r}")
            rotation_order = lcm(rotation_order, factor.n)
        if factor.kind in ("flip", "dihedral"):
            mirrored = True
    if mirrored:
        return DihedralGroup(rotation_order)
    return CyclicGroup(rotation_order) if rotation_order > 1 else TrivialGroup()


def strict_elements(group: PlanarGroup, rotations_approximate: bool, mirrors_approximate: bool) -> tuple[int, ...]:
    """The elements kept strictly when the rotations and/or the mirrors are approximate: the subgroup of elements
    that neither rotate (if rotations are approximate) nor mirror (if mirrors are). A free path averaged over it
    keeps these elements and may break the others."""
    kept = []
    for i in range(group.order):
        mirror, r, _ = group.spatial(i)
        if not (rotations_approximate and r) and not (mirrors_approximate and mirror):
            kept.append(i)
    return tuple(kept)


def is_exact(group: FiniteGroup, i: int) -> bool:
    """Whether element i maps pixel grids onto themselves (rotation by a multiple of 90 degrees, any mirror)."""
    return group.is_exact(i)


def position_matrix(group: PlanarGroup, i: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """2x2 matrix M moving a point of the image plane as element i does: p -> M p.

    Points are centred (row - cy, col - cx). The mirror negates the column; rotation by t maps (u, v) to
    (cos t u - sin t v, sin t u + cos t v), which is where `torch.rot90(x, 1, dims=(-2, -1))` sends a pixel for
    t = 90 degrees (the pixel right of the centre moves up). Used to draw an analytically rotated test image.
    """
    mirror, r, n = group.spatial(i)
    return tuple(tuple(float(v) for v in row) for row in point_matrix(2 * pi * r / n, mirror))
