"""SO(2) and O(2), the continuous rotations (and mirrors) of the plane: their irreducible representations and the
steerable filter basis between any two of them (Weiler & Cesa 2019, "General E(2)-equivariant steerable CNNs").

Points of the image plane are centred (row, col) pairs, as in `planar.position_matrix`: a rotation by t sends the
angle phi = atan2(col, row) to phi + t, and the mirror negates the column (phi -> -phi).

Irreducible representations, real:
  frequency 0, sign +1   the trivial representation (1 channel);
  frequency 0, sign -1   O(2) only: the mirror multiplies by -1 (1 channel);
  frequency k >= 1       2 channels (a, b) turned by k t: (a, b) -> (cos kt a - sin kt b, sin kt a + cos kt b);
                         under O(2) the mirror maps (a, b) -> (a, -b).
Writing (a, b) as the complex number a + ib, frequency k multiplies by exp(ikt) and the mirror conjugates.

A filter K(d) from representation n to representation m satisfies K(g d) rho_n(g) = rho_m(g) K(d) for every g, so
that a cross-correlation out(x) = sum_d K(d) in(x + d) commutes with the group. Its solutions on a ring of radius r
are sums of circular harmonics cos(t phi), sin(t phi) with coefficient matrices (`harmonic_basis`); the filter is
band-limited by keeping harmonics |t| <= `ring_frequency(r)` and sampled on the pixel grid with Gaussian rings.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import cos, floor, pi, sin

import numpy as np

from .fields import FieldType, Representation


@dataclass(frozen=True, order=True)
class CircleIrrep:
    """An irreducible representation of SO(2) or O(2): its frequency and, at frequency 0, its sign under mirrors."""

    frequency: int
    sign: int = 1

    @property
    def dim(self) -> int:
        return 1 if self.frequency == 0 else 2

    @property
    def label(self) -> str:
        if self.frequency:
            return f"frequency {self.frequency}"
        return "scalar" if self.sign > 0 else "pseudoscalar"

    def representation(self) -> Representation:
        kind = "trivial" if (self.frequency, self.sign) == (0, 1) else "irreducible"
        return Representation(kind, self.dim, "" if kind == "trivial" else self.label)


TRIVIAL = CircleIrrep(0)
SIGN = CircleIrrep(0, -1)


@dataclass(frozen=True)
class CircleGroup:
    """SO(2) (`mirrors` False) or O(2): the continuous group of an image spec written without `discretized N`."""

    mirrors: bool

    @property
    def name(self) -> str:
        return "O(2)" if self.mirrors else "SO(2)"

    @property
    def order(self) -> int:
        """0: the group has infinitely many elements (finite groups give their order)."""
        return 0

    def irreps(self, max_frequency: int) -> tuple[CircleIrrep, ...]:
        """The irreducible representations up to `max_frequency`, trivial first."""
        signs = (TRIVIAL, SIGN) if self.mirrors else (TRIVIAL,)
        return signs + tuple(CircleIrrep(k) for k in range(1, max_frequency + 1))

    def field_type(self, counts: dict[CircleIrrep, int], spatial=()) -> FieldType:
        """The direct sum with counts[irrep] copies of each irrep, in `irreps` order."""
        parts = tuple((irrep.representation(), n) for irrep, n in sorted(counts.items()) if n)
        return FieldType(self.name, 0, parts, tuple(spatial))

    def matrix(self, irrep: CircleIrrep, angle: float, mirrored: bool = False) -> np.ndarray:
        """rho(g) for g = rotation by `angle` after the mirror (when `mirrored`): p -> R(angle) S p."""
        if irrep.frequency == 0:
            return np.array([[-1.0 if mirrored and irrep.sign < 0 else 1.0]])
        k = irrep.frequency
        rotation = np.array([[cos(k * angle), -sin(k * angle)], [sin(k * angle), cos(k * angle)]])
        return rotation @ np.diag([1.0, -1.0]) if mirrored else rotation


def point_matrix(angle: float, mirrored: bool = False) -> np.ndarray:
    """How the element moves centred (row, col) points: p -> R(angle) S p, S negating the column."""
    c, s = cos(angle), sin(angle)
    m = -1.0 if mirrored else 1.0
    return np.array([[c, -s * m], [s, c * m]])


# ---------------------------------------------------------------- the steerable filter basis

_I = np.eye(2)
_J = np.array([[0.0, -1.0], [1.0, 0.0]])    # multiplication by i
_F = np.diag([1.0, -1.0])                    # complex conjugation


@dataclass(frozen=True)
class Harmonic:
    """One solution K(phi) = cos(t phi) C + sin(t phi) S of the filter constraint (C, S: out_dim x in_dim)."""

    t: int
    cos: tuple[tuple[float, ...], ...]
    sin: tuple[tuple[float, ...], ...]

    def at(self, phi: float) -> np.ndarray:
        return cos(self.t * phi) * np.array(self.cos) + sin(self.t * phi) * np.array(self.sin)


def _harmonic(t: int, c: np.ndarray, s: np.ndarray) -> Harmonic:
    if t < 0:  # cos(-t phi) = cos(t phi), sin(-t phi) = -sin(t phi)
        t, s = -t, -s
    as_tuple = lambda m: tuple(tuple(float(v) + 0.0 for v in row) for row in m)  # noqa: E731 (+0.0: no -0.0)
    return Harmonic(t, as_tuple(c), as_tuple(s))


def harmonic_basis(out: CircleIrrep, into: CircleIrrep, mirrors: bool) -> tuple[Harmonic, ...]:
    """A basis of the filters from irrep `into` to irrep `out` on one ring, as circular harmonics.

    Derived in complex form: a real-linear map of C is z -> alpha z + beta conj(z); the rotation constraint makes
    alpha = a exp(i (m - n) phi) and beta = b exp(i (m + n) phi) for complex a, b. The mirror constraint (O(2))
    keeps real a, b for representations of the same sign and imaginary ones between opposite signs.
    """
    m, n = out.frequency, into.frequency
    same_sign = out.sign == into.sign  # frequencies >= 1 count as sign +1: the mirror fixes their first channel
    terms = []  # (t, C, S, real): real marks the solutions O(2) keeps between same-sign representations
    if m == 0 and n == 0:
        if same_sign or not mirrors:
            terms.append((0, np.eye(1), np.zeros((1, 1)), True))
        return tuple(_harmonic(t, c, s) for t, c, s, _ in terms)
    if n == 0:    # scalar in, z = a(phi) x: a = exp(i m phi) or i exp(i m phi)
        terms += [(m, np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]), True),
                  (m, np.array([[0.0], [1.0]]), np.array([[-1.0], [0.0]]), False)]
    elif m == 0:  # scalar out, Re(gamma(phi) z): gamma = exp(-i n phi) or i exp(-i n phi)
        terms += [(n, np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), True),
                  (n, np.array([[0.0, -1.0]]), np.array([[1.0, 0.0]]), False)]
    else:
        terms += [(m - n, _I, _J, True), (m - n, _J, -_I, False),
                  (m + n, _F, _J @ _F, True), (m + n, _J @ _F, -_F, False)]
    if mirrors:
        sign = out.sign * into.sign
        terms = [term for term in terms if term[3] == (sign > 0)]
    return tuple(_harmonic(t, c, s) for t, c, s, _ in terms)


RING_WIDTH = 0.6
"""Standard deviation (pixels) of each ring's Gaussian radial profile."""


def ring_radii(kernel: int) -> tuple[float, ...]:
    """Ring radii of a kernel x kernel filter: 0, 1, ..., (kernel - 1) / 2 pixels."""
    return tuple(float(r) for r in range((kernel - 1) // 2 + 1))


RING_FREQUENCY = 1.0
"""Circular harmonics a ring carries per pixel of radius (a ring of radius r crosses about 2 pi r pixels). Measured
in docs/benchmarks.md §12 over 8 seeds at 29x29: at 1.5 per pixel untrained SO(2) models moved by up to 0.073 at
random angles, at 1.0 by 0.048; and trained upright on Fashion-MNIST they kept 19% at 45 degrees against 39%: the
higher harmonics of small rings are what training learns to read from the pixel grid."""


def ring_frequency(radius: float, max_frequency: int) -> int:
    """The highest circular harmonic kept on a ring: none but 0 at the centre, RING_FREQUENCY per pixel of radius
    (well below the ring's Nyquist limit, so that rotated filters sample alike), at most `max_frequency`."""
    return min(int(floor(RING_FREQUENCY * radius)), max_frequency)


@dataclass(frozen=True)
class BasisFilter:
    """One basis filter: harmonic `harmonic` on the ring of radius `radius`."""

    radius: float
    harmonic: Harmonic


def filter_basis(out: CircleIrrep, into: CircleIrrep, kernel: int, mirrors: bool,
                 max_frequency: int) -> tuple[BasisFilter, ...]:
    """Every basis filter between two irreps on a kernel x kernel grid, band-limited by `max_frequency`."""
    harmonics = harmonic_basis(out, into, mirrors)
    return tuple(BasisFilter(radius, h) for radius in ring_radii(kernel) for h in harmonics
                 if h.t <= ring_frequency(radius, 2 * max_frequency))


def rotation_angles(count: int) -> tuple[float, ...]:
    """`count` equally spaced angles of the circle, from 0: where Fourier-sampled nonlinearities evaluate fields."""
    return tuple(2 * pi * i / count for i in range(count))
