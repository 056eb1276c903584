"""The symmetries of the cube acting on 3D grids: 24 rotations (octahedral) and 48 with mirrors (full octahedral).

An element is a signed 3x3 permutation matrix M acting on centred voxel coordinates p = (d, h, w) - centre:
(g.x)[p] = x[M^-1 p]. Composition is the matrix product (g1 g2 has matrix M1 M2), so the action is a left action.
Elements are listed in a fixed order (axis permutations lexicographically, then signs with + before -), identity first.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations, product

from .finite import FiniteGroup

Matrix = tuple[tuple[int, ...], ...]
AXIS_NAMES = ("d", "h", "w")


def _determinant(m: Matrix) -> int:
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def _multiply(a: Matrix, b: Matrix) -> Matrix:
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


@lru_cache(maxsize=None)
def cube_matrices(mirrors: bool) -> tuple[Matrix, ...]:
    """Every signed permutation matrix (det +1 only unless `mirrors`), identity first."""
    found = []
    for perm in permutations(range(3)):
        for signs in product((1, -1), repeat=3):
            m = tuple(tuple(signs[row] if perm[row] == col else 0 for col in range(3)) for row in range(3))
            if mirrors or _determinant(m) == 1:
                found.append(m)
    return tuple(found)


@dataclass(frozen=True)
class CubeGroup(FiniteGroup):
    """O (24 rotations of the cube) or O_h (48: rotations and mirror images), `mirrors` choosing which."""

    mirrors: bool = False

    @property
    def order(self) -> int:
        return 48 if self.mirrors else 24

    @property
    def name(self) -> str:
        return "Oh" if self.mirrors else "O"

    def matrix(self, i: int) -> Matrix:
        return cube_matrices(self.mirrors)[i]

    def compose(self, i: int, j: int) -> int:
        return _index(self.mirrors)[_multiply(self.matrix(i), self.matrix(j))]

    def axes(self, i: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(source axis, flip) per output axis: out = in.permute(source) then flipped where flip is 1.

        Output axis b reads input axis a where M[b][a] != 0, reversed when that entry is -1: then
        out[p] = in[q] with q_a = M[b][a] p_b, which is x[M^-1 p] because M^-1 = M^T.
        """
        m = self.matrix(i)
        source = tuple(next(a for a in range(3) if m[b][a]) for b in range(3))
        flips = tuple(int(m[b][source[b]] < 0) for b in range(3))
        return source, flips

    def grid_move(self, i: int, dims: int):
        from .moves import matrix_move
        if dims != 3:
            raise ValueError(f"cube symmetries move 3D grids, not {dims}D ones")
        return matrix_move(self.matrix(i))

    def is_rotation(self, i: int) -> bool:
        return _determinant(self.matrix(i)) == 1

    def element_name(self, i: int) -> str:
        """Where each output axis reads from, e.g. '(-h, d, w)' is a quarter turn in the (d, h) plane."""
        if i == 0:
            return "identity"
        source, flips = self.axes(i)
        return "(" + ", ".join(("-" if f else "") + AXIS_NAMES[a] for a, f in zip(source, flips)) + ")"


@lru_cache(maxsize=None)
def _index(mirrors: bool) -> dict:
    return {m: i for i, m in enumerate(cube_matrices(mirrors))}
