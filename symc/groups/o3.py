"""Irreducible representations of O(3) in e3nn's real basis: irreps strings, spherical harmonics, Wigner matrices and
Clebsch-Gordan coefficients. Plain numpy (no torch): the planner, the emitter and the tester all read it.

An irrep is (l, p): degree l >= 0 and parity p = +1 ('e', even) or -1 ('o', odd); its dimension is 2l + 1. A
rotation R (det +1) acts by the Wigner matrix D^l(R); an improper R (det -1) by p D^l(-R). Irreps of natural parity,
p = (-1)^l, are those of the spherical harmonics: Y^l(R v) = D^l(R) Y^l(v) for every orthogonal R.

The basis is e3nn's (0.5 and later): components m = -l..l of the real spherical harmonics with the y axis as the
polar axis, so that degree 1 is (x, y, z) itself and D^1(R) = R. In standard real spherical harmonics about the z
axis (without the Condon-Shortley phase) they are Y_lm(x', y', z') with (x', y', z') = (z, x, y). Component
normalization: sum_m Y^l_m(v)^2 = (2l + 1) |v|^(2l). tests/test_irreps.py checks all of it against e3nn.
"""
from __future__ import annotations

import re
from functools import lru_cache
from math import comb, cos, factorial, pi, sin, sqrt

import numpy as np

MAX_DEGREE = 4
"""The highest degree an output may ask for."""

_IRREP = re.compile(r"(?:([0-9]+)x)?([0-9]+)([eo])")


def parse_irreps(text: str) -> tuple[tuple[int, int, int], ...]:
    """'1x0e + 2x1o + 2e' -> ((1, 0, 1), (2, 1, -1), (1, 2, 1)): (multiplicity, degree, parity) in the order written,
    as e3nn reads it (a missing multiplicity is 1). Raises ValueError naming the first malformed term."""
    terms = [term.strip() for term in text.split("+")]
    result = []
    for term in terms:
        if not term:
            raise ValueError(f"'{text}' has an empty term: irreps are written such as '1x0e + 1x1o + 1x2e'")
        match = _IRREP.fullmatch(term.lower())
        if match is None:
            raise ValueError(f"'{term}' is not an irrep: " + _why(term.lower()))
        mul = 1 if match.group(1) is None else int(match.group(1))
        if mul < 1:
            raise ValueError(f"'{term}' has multiplicity {mul}: each term needs at least one copy")
        result.append((mul, int(match.group(2)), 1 if match.group(3) == "e" else -1))
    return tuple(result)


def _why(term: str) -> str:
    bare = re.fullmatch(r"(?:[0-9]+x)?([0-9]+)", term)
    if bare:
        return f"its parity is missing (write {bare.group(1)}e for even or {bare.group(1)}o for odd)"
    wrong = re.fullmatch(r"(?:[0-9]+x)?[0-9]+([a-z]\w*)", term)
    if wrong and wrong.group(1)[0] in "eo":
        return f"'{wrong.group(1)[1:]}' follows the parity '{wrong.group(1)[0]}', which ends a term"
    if wrong:
        return f"the parity is 'e' (even) or 'o' (odd), not '{wrong.group(1)}'"
    return "write MULxLP with a multiplicity, a degree and the parity e or o, such as 2x1o or 1e"


def irreps_text(irreps) -> str:
    """The canonical text, as e3nn prints it: '1x0e+2x1o'."""
    return "+".join(f"{mul}x{l}{'e' if p == 1 else 'o'}" for mul, l, p in irreps)


def degree_dim(l: int) -> int:
    return 2 * l + 1


def irreps_dim(irreps) -> int:
    return sum(mul * (2 * l + 1) for mul, l, _ in irreps)


def natural(l: int, p: int) -> bool:
    """Whether (l, p) has the parity of the spherical harmonics of degree l, (-1)^l."""
    return p == (-1) ** l


# ---------------------------------------------------------------- polynomials


def monomials(l: int) -> tuple[tuple[int, int, int], ...]:
    """Exponents (a, b, c) of x^a y^b z^c of degree l, in the column order of `harmonic_coefficients(l)`:
    a from l down to 0, then b from l - a down to 0."""
    return tuple((a, b, l - a - b) for a in range(l, -1, -1) for b in range(l - a, -1, -1))


def _multiply(p: dict, q: dict) -> dict:
    out: dict = {}
    for (a1, b1, c1), u in p.items():
        for (a2, b2, c2), v in q.items():
            key = (a1 + a2, b1 + b2, c1 + c2)
            out[key] = out.get(key, 0.0) + u * v
    return out


def _power(p: dict, k: int) -> dict:
    out = {(0, 0, 0): 1.0}
    for _ in range(k):
        out = _multiply(out, p)
    return out


@lru_cache(maxsize=None)
def harmonic_coefficients(l: int) -> np.ndarray:
    """(2l + 1, len(monomials(l))): row m + l holds the coefficients of the solid harmonic |v|^l Y^l_m(v / |v|) in
    the monomials of degree l, in e3nn's basis and component normalization."""
    # Standard real solid harmonics about the z' axis (Cartesian form), in primed variables ...
    xp, yp, zp = {(0, 0, 1): 1.0}, {(1, 0, 0): 1.0}, {(0, 1, 0): 1.0}  # ... with x' = z, y' = x, z' = y
    r2 = {(2, 0, 0): 1.0, (0, 2, 0): 1.0, (0, 0, 2): 1.0}
    rows = []
    for m in range(-l, l + 1):
        k_abs = abs(m)
        pi_lm: dict = {}
        for k in range((l - k_abs) // 2 + 1):
            c = ((-1) ** k * 2.0 ** -l * comb(l, k) * comb(2 * l - 2 * k, l) *
                 factorial(l - 2 * k) / factorial(l - 2 * k - k_abs))
            for key, v in _multiply(_power(r2, k), _power(zp, l - 2 * k - k_abs)).items():
                pi_lm[key] = pi_lm.get(key, 0.0) + c * v
        scale = sqrt(factorial(l - k_abs) / factorial(l + k_abs)) * sqrt(2 * l + 1)
        if m == 0:
            angular = {(0, 0, 0): 1.0}
        else:
            angular = {}
            trig = cos if m > 0 else sin
            for p in range(k_abs + 1):
                c = comb(k_abs, p) * trig((k_abs - p) * pi / 2)
                if abs(c) < 1e-12:
                    continue
                for key, v in _multiply(_power(xp, p), _power(yp, k_abs - p)).items():
                    angular[key] = angular.get(key, 0.0) + round(c) * v
            scale *= sqrt(2)
        poly = _multiply(pi_lm, angular)
        rows.append([scale * poly.get(e, 0.0) for e in monomials(l)])
    out = np.array(rows)
    out[np.abs(out) < 1e-12] = 0.0
    out.setflags(write=False)
    return out


def harmonics(l: int, v: np.ndarray) -> np.ndarray:
    """(..., 2l + 1): the solid harmonics of degree l of the vectors v (..., 3)."""
    v = np.asarray(v, dtype=np.float64)
    columns = [v[..., 0] ** a * v[..., 1] ** b * v[..., 2] ** c for a, b, c in monomials(l)]
    return np.stack(columns, axis=-1) @ harmonic_coefficients(l).T


# ---------------------------------------------------------------- matrices


@lru_cache(maxsize=None)
def _sample_points(l: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed points on the sphere and the pseudo-inverse of their harmonics, to read D^l off Y^l(R v)."""
    rng = np.random.default_rng(12345 + l)
    points = rng.standard_normal((4 * (2 * l + 1), 3))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points, np.linalg.pinv(harmonics(l, points))


def wigner_matrix(l: int, p: int, matrix) -> np.ndarray:
    """(2l + 1, 2l + 1): how the irrep (l, p) moves under the orthogonal 3x3 `matrix` (e3nn's D_from_matrix)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    det = np.linalg.det(matrix)
    proper = matrix * np.sign(det)
    points, inverse = _sample_points(l)
    d = (inverse @ harmonics(l, points @ proper.T)).T  # Y(R v) = D Y(v) at every sample point
    return d * (p if det < 0 else 1)


def representation(irreps, matrix) -> np.ndarray:
    """The block-diagonal matrix by which an irreps vector (mul-major blocks, e3nn's layout) moves."""
    return block_diagonal([wigner_matrix(l, p, matrix) for mul, l, p in irreps for _ in range(mul)])


def block_diagonal(blocks) -> np.ndarray:
    """The square matrix with `blocks` on its diagonal, in order."""
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    start = 0
    for b in blocks:
        out[start:start + b.shape[0], start:start + b.shape[0]] = b
        start += b.shape[0]
    return out


def _rotation(axis, angle) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + sin(angle) * k + (1 - cos(angle)) * k @ k


@lru_cache(maxsize=None)
def clebsch_gordan(l1: int, l2: int, l3: int) -> np.ndarray:
    """(2l1 + 1, 2l2 + 1, 2l3 + 1): the real coupling C with sum_ij C[i, j, k] a_i b_j moving as degree l3 when a
    and b move as degrees l1 and l2 (e3nn's wigner_3j up to sign: unit Frobenius norm, first non-zero entry > 0).
    Found as the one-dimensional solution of D3 C = C (D1 x D2) for two generic rotations."""
    if not abs(l1 - l2) <= l3 <= l1 + l2:
        raise ValueError(f"{l1} x {l2} has no part of degree {l3}")
    n1, n2, n3 = 2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1
    systems = []
    for axis, angle in (((1.0, 2.0, 3.0), 0.7), ((-2.0, 0.5, 1.0), 1.9)):
        r = _rotation(axis, angle)
        d1, d2, d3 = (wigner_matrix(l, 1, r) for l in (l1, l2, l3))
        # unknown C as a vector over (i, j, k): (D1 x D2 x D3) vec(C) = vec(C)
        systems.append(np.kron(np.kron(d1, d2), d3) - np.eye(n1 * n2 * n3))
    _, values, vectors = np.linalg.svd(np.concatenate(systems))
    c = vectors[-1].reshape(n1, n2, n3)
    assert values[-1] < 1e-9 and values[-2] > 1e-3, "the coupling is not one-dimensional"
    c[np.abs(c) < 1e-12] = 0.0
    c /= np.linalg.norm(c)
    if c.flat[np.flatnonzero(np.abs(c) > 1e-9)[0]] < 0:
        c = -c
    c.setflags(write=False)
    return c


def symmetric_basis() -> np.ndarray:
    """(6, 3, 3): an orthonormal basis of symmetric 3x3 matrices (Frobenius product) matching '1x0e+1x2e': the
    identity / sqrt(3), then the five traceless matrices Q_m with v^T Q_m v proportional to Y^2_m(v). A vector y of
    '0e+2e' is the matrix sum_k y_k basis[k], which moves as R M R^T."""
    coefficients = harmonic_coefficients(2)
    basis = [np.eye(3) / sqrt(3)]
    for row in coefficients:
        q = np.zeros((3, 3))
        for (a, b, c), value in zip(monomials(2), row):
            i, j = [axis for axis, count in enumerate((a, b, c)) for _ in range(count)]
            q[i, j] += value / 2
            q[j, i] += value / 2
        basis.append(q / np.linalg.norm(q))
    return np.array(basis)
