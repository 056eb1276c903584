"""Finite groups as small immutable values with integer-indexed elements.

Every group numbers its elements 0..order-1 with 0 the identity. Tables (Cayley, regular) are derived from
`compose` and cached per group value, so the groups themselves stay plain hashable values.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import cos, pi, sin
from typing import Tuple

from .moves import GridMove, compose_matrices, identity_move, matrix_move, move_matrix

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

    def grid_move(self, i: int, dims: int) -> GridMove:
        """How element i moves a `dims`-dimensional grid and its kernels (symc.groups.moves); the identity here."""
        return identity_move(dims)

    def channel_action(self, i: int):
        """Element i's matrix on the first channels of a plain input, or None when it moves no channel."""
        return None

    def irreps(self) -> tuple[tuple[str, tuple], ...]:
        """Real irreducible representations as (label, one matrix per element), where the factor lists them."""
        raise NotImplementedError(f"{self.name} does not list its irreducible representations")

    def is_exact(self, i: int) -> bool:
        """Whether element i maps grids onto themselves (no resampling): true unless a factor turns by an angle
        that is not a multiple of 90 degrees."""
        return True

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


class Cyclic(FiniteGroup):
    """The structure every cyclic factor shares (rotations of the plane, hue rotations): n elements, element k is
    k steps, steps add mod n. Subclasses are dataclasses with a field `n` and say what a step does."""

    n: int

    @property
    def order(self) -> int:
        return self.n

    def compose(self, i: int, j: int) -> int:
        return (i + j) % self.n

    def inverse(self, i: int) -> int:
        return (-i) % self.n

    def irreps(self) -> tuple[tuple[str, tuple], ...]:
        """The trivial representation, the sign (-1)^k for even n, and the turns by k*j*360/n degrees for
        0 < j < n/2 (2x2: the frequency-j harmonics)."""
        n = self.n
        reps = [("trivial", tuple(((1.0,),) for _ in range(n)))]
        if n % 2 == 0:
            reps.append(("sign", tuple((((-1.0) ** k,),) for k in range(n))))
        for j in range(1, (n + 1) // 2):
            reps.append((f"frequency {j}", tuple(turn(2 * pi * j * k / n) for k in range(n))))
        return tuple(reps)


def turn(angle: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The 2x2 rotation by `angle` radians."""
    c, s = cos(angle), sin(angle)
    return ((c, -s), (s, c))


@dataclass(frozen=True, init=False)
class DirectProduct(FiniteGroup):
    """The direct product of its factors: elements are tuples composing factor by factor.

    Element (i_1, ..., i_k) has index ((i_1 |G_2| + i_2) |G_3| + i_3) ...: the first factor varies slowest.
    Everything an element does is its factors' doing: it moves grids by the composed moves, turns input channels
    by the one factor that acts on channels, and is exact when every factor is. `rotation 4 x hue 3 x scale 3`
    and the like are products of the factors' own groups, never groups of their own.
    """

    factors: tuple

    def __init__(self, *factors: FiniteGroup):
        if len(factors) < 2:
            raise ValueError("a direct product needs at least two factors")
        object.__setattr__(self, "factors", tuple(factors))

    @property
    def order(self) -> int:
        total = 1
        for factor in self.factors:
            total *= factor.order
        return total

    @property
    def name(self) -> str:
        names = [factor.name for factor in self.factors if factor.order > 1]
        return " x ".join(names) if names else "trivial"

    def split(self, i: int) -> tuple[int, ...]:
        """The factor indices of element i."""
        parts = []
        for factor in reversed(self.factors):
            i, part = divmod(i, factor.order)
            parts.append(part)
        return tuple(reversed(parts))

    def join(self, parts) -> int:
        index = 0
        for factor, part in zip(self.factors, parts):
            index = index * factor.order + part
        return index

    def compose(self, i: int, j: int) -> int:
        return self.join(f.compose(a, b) for f, a, b in zip(self.factors, self.split(i), self.split(j)))

    def inverse(self, i: int) -> int:
        return self.join(f.inverse(a) for f, a in zip(self.factors, self.split(i)))

    def element_name(self, i: int) -> str:
        names = [f.element_name(a) for f, a in zip(self.factors, self.split(i))]
        return ", ".join(name for name in names if name != "identity") or "identity"

    def grid_move(self, i: int, dims: int) -> GridMove:
        moves = [f.grid_move(a, dims) for f, a in zip(self.factors, self.split(i))]
        if sum(1 for move in moves if move.angle) > 1:
            raise ValueError("at most one factor of a product may steer filters by an angle")
        matrix = move_matrix(moves[0])
        for move in moves[1:]:
            matrix = compose_matrices(matrix, move_matrix(move))
        return matrix_move(matrix, sum(move.angle for move in moves))

    def channel_action(self, i: int):
        actions = [f.channel_action(a) for f, a in zip(self.factors, self.split(i))]
        acting = [a for a in actions if a is not None]
        if len(acting) > 1:
            raise ValueError("at most one factor of a product may act on input channels")
        return acting[0] if acting else None

    def is_exact(self, i: int) -> bool:
        return all(f.is_exact(a) for f, a in zip(self.factors, self.split(i)))

    # The plane's part: the factor that rotates and mirrors the plane (it has `spatial`), if any.
    def _planar_index(self) -> int | None:
        return next((k for k, f in enumerate(self.factors) if hasattr(f, "spatial")), None)

    def spatial(self, i: int) -> tuple[int, int, int]:
        """The plane's (mirror, r, N) of element i: its planar factor's, the identity when it has none."""
        k = self._planar_index()
        return self.factors[k].spatial(self.split(i)[k]) if k is not None else (0, 0, 1)

    @property
    def n(self) -> int:
        """The rotation order N of the planar factor (1 without one)."""
        k = self._planar_index()
        return self.factors[k].n if k is not None else 1

    @property
    def planar_order(self) -> int:
        """Elements of the planar factor (1 without one)."""
        k = self._planar_index()
        return self.factors[k].order if k is not None else 1
