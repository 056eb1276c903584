"""Spatial transforms of square filters: the rotated and mirrored copies a group convolution needs.

An element's spatial action is `(mirror, r, n)`: first mirror left-right (if `mirror`), then rotate by 360*r/n degrees
in the direction of `torch.rot90(w, 1, dims=(-2, -1))`. Multiples of 90 degrees use rot90/flip and are exact; the
remaining angle (below 90 degrees) rotates the filter inside a band-limited basis of smooth rings (as steerable CNNs
do), before the exact quarter turns, so the copies for g and for g rotated by 90 degrees differ by an exact rot90.

A whole filter bank is built in one gather (`expansion_index`, `expand`): each copy's entries are base entries moved by
a fixed index, so the bank costs one indexed copy (and, for steered groups, one small matmul that rotates the base
filters by each distinct remaining angle); its gradient is one indexed sum.
"""
import math

import torch


def split_angle(r: int, n: int):
    """Rotation by 360*r/n degrees as (quarter turns, remaining angle in radians, below 90 degrees)."""
    quarters, remainder = divmod(4 * (r % n), n)
    return quarters, 2.0 * math.pi * remainder / (4 * n)


RING_WIDTH = 0.6      # Gaussian width of each radial ring, in pixels
MAX_FREQUENCY = 2     # highest angular frequency on any ring (and at most the ring's radius)


def ring_basis(size: int, angle: float) -> torch.Tensor:
    """(size*size, n) samples of smooth steerable functions, rotated by `angle`.

    Column b is ring(|p| - radius) * cos or sin(m * theta) at the pixel's source position: pixel (u, v) (centred)
    samples the rotated function at (cos a u + sin a v, -sin a u + cos a v), as rot90 does for a = 90 degrees.
    Rings sit at radii 0, 1, ..., (size-1)/2 and carry frequencies m <= min(radius, MAX_FREQUENCY): band-limited,
    so rotating them by any angle before sampling stays close to rotating the sampled filter.
    """
    c = (size - 1) / 2.0
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    offsets = torch.arange(size, dtype=torch.float64) - c
    u = offsets[:, None].expand(size, size).reshape(-1)
    v = offsets[None, :].expand(size, size).reshape(-1)
    su, sv = cos_a * u + sin_a * v, -sin_a * u + cos_a * v
    radius, theta = torch.sqrt(su * su + sv * sv), torch.atan2(sv, su)
    columns = []
    for ring in range(int(c) + 1):
        profile = torch.exp(-((radius - ring) ** 2) / (2 * RING_WIDTH ** 2))
        for m in range(min(ring, MAX_FREQUENCY) + 1):
            columns.append(profile * torch.cos(m * theta))
            if m > 0:
                columns.append(profile * torch.sin(m * theta))
    return torch.stack(columns, dim=1)


STEERING_CACHE = {}  # (size, angles) -> matrices: every layer with the same kernel shares them


def steering_matrices(size: int, angles):
    """(projection, rotations): the projection onto the ring basis, and for each angle the matrix that maps a
    projected filter to that filter rotated by the angle (both (size*size, size*size), float64)."""
    key = (size, tuple(angles))
    if key not in STEERING_CACHE:
        STEERING_CACHE[key] = _steering_matrices(size, angles)
    return STEERING_CACHE[key]


def _steering_matrices(size: int, angles):
    basis = ring_basis(size, 0.0)
    inverse = torch.linalg.pinv(basis)
    projection = basis @ inverse
    rotations = [ring_basis(size, a) @ inverse for a in angles]
    return projection, rotations


class FilterTransforms(torch.nn.Module):
    """Applies each group element's spatial action to a bank of (..., k, k) filters.

    Right angles and mirrors are exact index moves. When some element needs another angle, filters are first
    projected onto a band-limited ring basis and rotated within it (one small matrix per distinct angle).
    """

    def __init__(self, spatial, kernel_size: int):
        super().__init__()
        self.kernel_size = kernel_size
        self.mirrors = [int(m) for m, _, _ in spatial]
        self.quarters = []
        self.angle_index = []
        self.versions = []
        angles = []
        for _, r, n in spatial:
            quarters, angle = split_angle(r, n)
            self.quarters.append(quarters)
            if angle == 0.0:
                self.angle_index.append(-1)
            else:
                key = round(angle, 12)
                if key not in angles:
                    angles.append(key)
                self.angle_index.append(angles.index(key))
        self.steered = len(angles) > 0
        k2 = kernel_size * kernel_size
        projection, rotations = steering_matrices(kernel_size, angles) if angles else (torch.eye(k2), [])
        self.register_buffer("projection", projection.to(torch.float32), persistent=False)
        self.register_buffer("rotations", torch.stack(rotations).to(torch.float32) if rotations
                             else torch.zeros(0, k2, k2), persistent=False)
        # The gather's plan: element g's copy reads version `versions[g]` of the base filters (for steered groups one
        # version per distinct (mirror, remaining angle), made by one matrix each; else the filters themselves) at
        # pixels `pixels[g]`, the exact index moves (mirror when not steered, then quarter turns) done on positions.
        keys = []
        pixel_rows = []
        for element in range(len(spatial)):
            key = (self.mirrors[element], self.angle_index[element]) if self.steered else (0, -1)
            if key not in keys:
                keys.append(key)
            self.versions.append(keys.index(key))
            pixels = torch.arange(k2).reshape(kernel_size, kernel_size)
            if self.mirrors[element] and not self.steered:
                pixels = torch.flip(pixels, dims=(-1,))
            if self.quarters[element]:
                pixels = torch.rot90(pixels, self.quarters[element], dims=(-2, -1))
            pixel_rows.append(pixels.reshape(-1))
        self.register_buffer("pixels", torch.stack(pixel_rows), persistent=False)
        self.version_count = len(keys)
        if self.steered:
            # Each version's matrix: projection, then the mirror (a permutation of pixels), then the rotation by the
            # remaining angle; multiplied out in float64 so the one float32 product is as exact as the three steps.
            flipped = torch.flip(torch.arange(k2).reshape(kernel_size, kernel_size), dims=(-1,)).reshape(-1)
            mirror = torch.eye(k2, dtype=torch.float64)[flipped]
            matrices = []
            for mirrored, angle in keys:
                m = mirror @ projection if mirrored else projection
                matrices.append(rotations[angle] @ m if angle >= 0 else m)
            versions = torch.cat(matrices, dim=0).to(torch.float32)   # (versions * k2, k2)
        else:
            versions = torch.zeros(0, k2)
        self.register_buffer("version_matrices", versions, persistent=False)

    def expansion_index(self, in_size: int, table=None) -> torch.Tensor:
        """Flat positions for `expand`: for output element g, input channel i (and input element h when `table`
        is given) and pixel p, where in the base filters of one output field (laid out (in, [order,] version,
        k*k)) that copy's entry sits. Row g of `table` lists, for each h, the base slice that feeds it."""
        k2 = self.kernel_size * self.kernel_size
        order = len(self.quarters)
        versions = torch.tensor(self.versions, dtype=torch.long)
        if table is None:
            slots = torch.arange(in_size)[None, :] * self.version_count + versions[:, None]   # (g, i)
        else:
            table = torch.as_tensor(table, dtype=torch.long)
            slots = ((torch.arange(in_size)[None, :, None] * order + table[:, None, :]) * self.version_count
                     + versions[:, None, None]).reshape(order, -1)                             # (g, i * h)
        index = slots[:, :, None] * k2 + self.pixels[:, None, :]
        return index.reshape(-1)

    def expand(self, weight: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """(out, ...) base filters -> (out, order * ...) every element's copy, by `expansion_index`'s gather."""
        out = weight.shape[0]
        k2 = self.kernel_size * self.kernel_size
        if self.steered:
            weight = weight.reshape(-1, k2) @ self.version_matrices.t()
        return weight.reshape(out, -1).index_select(1, index)

    def _apply_matrix(self, w: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        return (w.reshape(-1, k * k) @ matrix.t()).reshape(w.shape)

    def prepare(self, weight: torch.Tensor) -> torch.Tensor:
        """Base filters as every copy starts from: band-limited when some copy is rotated by another angle."""
        return self._apply_matrix(weight, self.projection) if self.steered else weight

    def forward(self, weight: torch.Tensor, element: int) -> torch.Tensor:
        """Filters (..., k, k) moved by group element `element` (mirror, then rotation)."""
        w = weight
        if self.mirrors[element]:
            w = torch.flip(w, dims=(-1,))
        index = self.angle_index[element]
        if index >= 0:
            w = self._apply_matrix(w, self.rotations[index])
        quarters = self.quarters[element]
        if quarters:
            w = torch.rot90(w, quarters, dims=(-2, -1))
        return w
