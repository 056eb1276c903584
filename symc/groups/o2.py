"""Irreducible representations of O(2) for outputs of 2-D point clouds, written as e3nn writes irreps of O(3):
'1x0e + 2x1o + 1x2e'. Plain numpy (no torch): the planner, the emitter and the tester all read it.

An irrep is (l, p): degree l >= 0, the circular frequency, and parity p = +1 ('e') or -1 ('o').
  0e   the scalar (1 component);
  0o   the pseudoscalar (1 component), negated by mirrors;
  l>=1 2 components (c, s) in the order of (cos l phi, sin l phi): a rotation by t turns them by l t,
       [[cos lt, -sin lt], [sin lt, cos lt]]; the mirror (x, y) -> (x, -y) acts by diag(1, -1) when p is the
       natural parity (-1)^l (1o, 2e, 3o, ...) and by -diag(1, -1) otherwise (1e, 2o, ...).
Any orthogonal Q is R(t) or R(t) S, S = diag(1, -1), and acts through that decomposition. The matrices are those of
symc.groups.circle (the same group acting on image fields), with the sign of the other parity under mirrors.

Harmonics: degree l of a vector v = (x, y) is (Re z^l, Im z^l), z = x + iy, so degree 1 is (x, y) itself and
1o moves as an ordinary vector, v -> Q v. They have natural parity: Y^l(Q v) = D^l(Q) Y^l(v) for every Q.
"""
from __future__ import annotations

from functools import lru_cache
from math import atan2, comb

import numpy as np

from .circle import CircleGroup, CircleIrrep
from .o3 import block_diagonal, irreps_text, natural, parse_irreps

__all__ = ["MAX_DEGREE", "parse_irreps", "irreps_text", "natural", "irreps_dim", "degree_dim", "harmonic_coefficients",
           "harmonics", "decompose", "irrep_matrix", "representation"]

MAX_DEGREE = 8
"""The highest degree an output may ask for: the band limit `frequencies L` allows the same group on images."""

_O2 = CircleGroup(mirrors=True)


def degree_dim(l: int) -> int:
    return 1 if l == 0 else 2


def irreps_dim(irreps) -> int:
    return sum(mul * degree_dim(l) for mul, l, _ in irreps)


@lru_cache(maxsize=None)
def harmonic_coefficients(l: int) -> np.ndarray:
    """(2, l + 1): row 0 holds Re z^l, row 1 Im z^l in the monomials x^a y^(l - a), a from l down to 0
    (the binomial expansion of (x + iy)^l: the term x^(l - k) (iy)^k lands in column k)."""
    out = np.zeros((2, l + 1))
    for k in range(l + 1):
        out[k % 2, k] = comb(l, k) * (-1) ** (k // 2)
    out.setflags(write=False)
    return out


def harmonics(l: int, v: np.ndarray) -> np.ndarray:
    """(..., 2): (Re z^l, Im z^l) of the vectors v (..., 2); (..., 1) ones for l = 0."""
    v = np.asarray(v, dtype=np.float64)
    if l == 0:
        return np.ones(v.shape[:-1] + (1,))
    columns = [v[..., 0] ** (l - k) * v[..., 1] ** k for k in range(l + 1)]
    return np.stack(columns, axis=-1) @ harmonic_coefficients(l).T


def decompose(matrix) -> tuple[float, bool]:
    """(t, mirrored) with `matrix` = R(t) S^mirrored for an orthogonal 2x2 matrix (S = diag(1, -1)): both forms
    send (1, 0) to (cos t, sin t)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return atan2(matrix[1, 0], matrix[0, 0]), bool(np.linalg.det(matrix) < 0)


def irrep_matrix(l: int, p: int, matrix) -> np.ndarray:
    """(dim, dim): how the irrep (l, p) moves under the orthogonal 2x2 `matrix` (the 2-D D_from_matrix)."""
    angle, mirrored = decompose(matrix)
    if l == 0:
        return _O2.matrix(CircleIrrep(0, p), angle, mirrored)
    d = _O2.matrix(CircleIrrep(l), angle, mirrored)  # natural parity: R(l t) S^mirrored
    return -d if mirrored and not natural(l, p) else d


def representation(irreps, matrix) -> np.ndarray:
    """The block-diagonal matrix by which an irreps vector (mul-major blocks, e3nn's layout) moves."""
    return block_diagonal([irrep_matrix(l, p, matrix) for mul, l, p in irreps for _ in range(mul)])
