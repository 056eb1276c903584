"""Finite groups as small immutable values with integer-indexed elements.

Every group numbers its elements 0..order-1 with 0 the identity. Tables (Cayley, regular) are derived from
`compose` and cached per group value, so the groups themselves stay plain hashable values.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple

Table = Tuple[Tuple[int, ...], ...]


class FiniteGroup:
    """Interface shared by every finite group: subclasses define `order`, `name`, `compose`, `element_name`."""

    @property
    def order(self) -> int:
        raise NotImplementedError

    @property
    def name(self) -> str:
        raise NotImplementedError

    def compose(self, i: int, j: int) -> int:
        """Index of g_i g_j (g_j acts first)."""
        raise NotImplementedError

    def element_name(self, i: int) -> str:
        raise NotImplementedError

    def grid_move(self, i: int, dims: int):
        """How element i moves a `dims`-dimensional grid and its kernels (symc.groups.moves); the identity here."""
        from .moves import identity_move
        return identity_move(dims)

    def channel_action(self, i: int):
        """Element i's matrix on the first channels of a plain input, or None when it moves no channel."""
        return None

    def inverse(self, i: int) -> int:
        return _inverses(self)[i]

    def elements(self) -> range:
        return range(self.order)

    def cayley(self) -> Table:
        """C[i][j] = index of g_i g_j."""
        return _cayley(self)

    def regular_table(self) -> Table:
        """P[g][h] = index of g^{-1} h.

        Acting on group-indexed data by out[h] = in[P[g][h]] is the (left) regular representation: doing h'
        then g reads in[P[h'][P[g][h]]] = in[P[g h'][h]].
        """
        return _regular_table(self)

    def real_classes(self) -> tuple[int, ...]:
        """Label of each element's real conjugacy class (its class joined with the inverses' class), numbered in
        order of first appearance. There are as many real irreducible representations as real classes, so the
        count is the number of isotypic components a field's spectrum over the group has (see GroupSpectrum)."""
        return _real_classes(self)

    def real_class_count(self) -> int:
        return max(_real_classes(self)) + 1

    def __len__(self) -> int:
        return self.order

    def __str__(self) -> str:
        return self.name


# Tables live in module-level caches keyed by the (hashable, immutable) group value.
@lru_cache(maxsize=None)
def _cayley(group: FiniteGroup) -> Table:
    n = group.order
    return tuple(tuple(group.compose(i, j) for j in range(n)) for i in range(n))


@lru_cache(maxsize=None)
def _inverses(group: FiniteGroup) -> tuple[int, ...]:
    table = _cayley(group)
    return tuple(row.index(0) for row in table)


@lru_cache(maxsize=None)
def _regular_table(group: FiniteGroup) -> Table:
    table = _cayley(group)
    inverses = _inverses(group)
    return tuple(table[inverses[g]] for g in range(group.order))


@lru_cache(maxsize=None)
def _real_classes(group: FiniteGroup) -> tuple[int, ...]:
    table = _cayley(group)
    inverses = _inverses(group)
    label = [-1] * group.order
    count = 0
    for g in group.elements():
        if label[g] < 0:
            members = {table[table[x][g]][inverses[x]] for x in group.elements()}
            for m in members | {inverses[m] for m in members}:
                label[m] = count
            count += 1
    return tuple(label)


def _angle_text(r: int, n: int) -> str:
    """Angle of r steps of 360/n degrees, without a useless '.0' (e.g. '90', '51.43')."""
    degrees = 360.0 * r / n
    return str(int(degrees)) if degrees == int(degrees) else f"{degrees:.2f}".rstrip("0")


def _check_order(n: int, what: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{what} needs an integer N >= 1, got {n!r}")


class PlanarGroup(FiniteGroup):
    """A finite group of rotations (and mirrors) of the plane about a fixed centre.

    `spatial(i) = (mirror, r, N)`: element i mirrors left-right first (if mirror == 1), then rotates by
    2*pi*r/N in the direction of `torch.rot90(x, 1, dims=(-2, -1))`.
    """

    n: int  # rotation order N

    def spatial(self, i: int) -> tuple[int, int, int]:
        raise NotImplementedError

    def grid_move(self, i: int, dims: int):
        """On images (2D): mirror, steering angle and quarter turns (symc.groups.moves.planar_move). On sequences
        (1D) the mirror reverses the one axis; rotations have no 1D move."""
        from .moves import GridMove, identity_move, planar_move
        mirror, r, n = self.spatial(i)
        if dims == 2:
            return planar_move(mirror, r, n)
        if r % n:
            raise ValueError(f"{self.name} rotates a plane; it has no move on a {dims}D grid")
        if mirror and dims == 1:
            return GridMove((0,), (1,), 0.0)
        if mirror:
            raise ValueError(f"{self.name}'s mirror has no move on a {dims}D grid")
        return identity_move(dims)

    def element_name(self, i: int) -> str:
        mirror, r, n = self.spatial(i)
        rotation = f"rot {_angle_text(r, n)}" if r else ""
        if mirror and rotation:
            return f"flip then {rotation}"
        return "flip" if mirror else (rotation or "identity")


@dataclass(frozen=True)
class CyclicGroup(PlanarGroup):
    """C_N: rotations by multiples of 360/N degrees; element r is rotation by r steps."""

    n: int

    def __post_init__(self):
        _check_order(self.n, "CyclicGroup")

    @property
    def order(self) -> int:
        return self.n

    @property
    def name(self) -> str:
        return f"C{self.n}"

    def compose(self, i: int, j: int) -> int:
        return (i + j) % self.n

    def inverse(self, i: int) -> int:
        return (-i) % self.n

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


@dataclass(frozen=True)
class DirectProduct(FiniteGroup):
    """A x B; element (a, b) has index a*|B| + b and composes componentwise."""

    a: FiniteGroup
    b: FiniteGroup

    @property
    def order(self) -> int:
        return self.a.order * self.b.order

    @property
    def name(self) -> str:
        return f"{self.a.name} x {self.b.name}"

    def split(self, i: int) -> tuple[int, int]:
        return divmod(i, self.b.order)

    def compose(self, i: int, j: int) -> int:
        a1, b1 = self.split(i)
        a2, b2 = self.split(j)
        return self.a.compose(a1, a2) * self.b.order + self.b.compose(b1, b2)

    def inverse(self, i: int) -> int:
        a, b = self.split(i)
        return self.a.inverse(a) * self.b.order + self.b.inverse(b)

    def element_name(self, i: int) -> str:
        a, b = self.split(i)
        return f"({self.a.element_name(a)}, {self.b.element_name(b)})"

    def grid_move(self, i: int, dims: int):
        from .moves import compose_matrices, matrix_move, move_matrix
        a, b = self.split(i)
        first, second = self.a.grid_move(a, dims), self.b.grid_move(b, dims)
        if first.angle and second.angle:
            raise ValueError("at most one factor of a product may steer filters by an angle")
        return matrix_move(compose_matrices(move_matrix(first), move_matrix(second)), first.angle + second.angle)

    def channel_action(self, i: int):
        a, b = self.split(i)
        first, second = self.a.channel_action(a), self.b.channel_action(b)
        if first is not None and second is not None:
            raise ValueError("at most one factor of a product may act on input channels")
        return first if first is not None else second


@dataclass(frozen=True)
class Translation:
    """Marker for the (infinite) group of grid shifts; carries no tables."""

    dims: int = 2

    @property
    def name(self) -> str:
        return f"translations of Z^{self.dims}"
