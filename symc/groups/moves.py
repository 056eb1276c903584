"""One encoding of how a group element moves a grid, its kernels and its input channels (pure Python, no torch).

A grid move is `GridMove(source, flips, angle)` on the last `len(source)` axes of a tensor:
first rotate by `angle` radians in the plane of the last two axes (only images have it: rotations by angles that are
not multiples of 90 degrees, done by steering band-limited filters), then permute the axes (output axis b reads input
axis source[b]) and reverse output axis b where flips[b] is 1. The permutation and flips are exact index moves:
on centred coordinates p the signed permutation matrix M acts as (g.x)[p] = x[M^-1 p], the left action that
composes as matrices do.

Every grid layer (1D sequences, 2D images, 3D volumes) reads the same table, so one N-d implementation serves all.
Each factor's module says how its elements move grids (symc.groups.planar for the plane, cube.py for volumes);
products compose the moves (symc.groups.finite.DirectProduct).
A channel action is a square matrix per element acting on the first channels of a plain input (hue rotations turn
RGB); None when the group moves no channel.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

Matrix = tuple[tuple[int, ...], ...]


class GridMove(NamedTuple):
    source: tuple[int, ...]
    flips: tuple[int, ...]
    angle: float = 0.0


def move_matrix(move: GridMove) -> Matrix:
    """The signed permutation matrix M of a move's exact part: M[b][source[b]] = -1 if flips[b] else 1."""
    dims = len(move.source)
    return tuple(tuple((-1 if move.flips[b] else 1) if move.source[b] == a else 0 for a in range(dims))
                 for b in range(dims))


def matrix_move(m: Matrix, angle: float = 0.0) -> GridMove:
    """The move of signed permutation matrix `m` (inverse of `move_matrix`)."""
    dims = len(m)
    source = tuple(next(a for a in range(dims) if m[b][a]) for b in range(dims))
    flips = tuple(int(m[b][source[b]] < 0) for b in range(dims))
    return GridMove(source, flips, angle)


def compose_matrices(a: Matrix, b: Matrix) -> Matrix:
    n = len(a)
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(n)) for j in range(n)) for i in range(n))


def identity_move(dims: int) -> GridMove:
    return GridMove(tuple(range(dims)), (0,) * dims, 0.0)


def grid_moves(group, dims: int) -> tuple[GridMove, ...]:
    """Each element's move of a `dims`-dimensional grid, identity first: the table every grid layer reads."""
    return tuple(group.grid_move(i, dims) for i in range(group.order))


def channel_actions(group) -> Optional[tuple[tuple[tuple[float, ...], ...], ...]]:
    """Each element's matrix on the input's first channels (rgb -> M @ rgb), or None when no element has one."""
    actions = [group.channel_action(i) for i in range(group.order)]
    if all(a is None for a in actions):
        return None
    size = next(len(a) for a in actions if a is not None)
    eye = tuple(tuple(1.0 if r == c else 0.0 for c in range(size)) for r in range(size))
    return tuple(a if a is not None else eye for a in actions)
