"""How planar group elements act on tensors (docs/spec-language.md §5). Imports torch; the tester and discover use it.

Element (mirror, r, N) acts as: mirror left-right first (`torch.flip(x, dims=(-1,))`), then rotate by
2*pi*r/N in the direction of `torch.rot90(x, 1, dims=(-2, -1))`. Rotations by multiples of 90 degrees use
`torch.rot90` (exact); other angles rotate about the image centre by bilinear interpolation with zero fill.
A hue rotation (groups with hue) turns the input's RGB vectors and nothing else: outputs with a group axis see it
as a permutation of that axis, scalar outputs not at all.
"""
from __future__ import annotations

import math

import torch

from .planar import PlanarGroup
from .hue import hue_matrix, hue_of


def mirror_image(x: torch.Tensor) -> torch.Tensor:
    """Left-right mirror of the last axis."""
    return torch.flip(x, dims=(-1,))


def rotate_image(x: torch.Tensor, r: int, n: int) -> torch.Tensor:
    """Rotate the last two axes by 2*pi*r/n: exactly with rot90 when possible, else by interpolation."""
    r %= n
    if (4 * r) % n == 0:
        return torch.rot90(x, (4 * r) // n, dims=(-2, -1))
    return rotate_by_interpolation(x, 2 * math.pi * r / n)


def rotate_by_interpolation(x: torch.Tensor, angle: float) -> torch.Tensor:
    """Rotate the last two axes by `angle` (radians) about ((H-1)/2, (W-1)/2), bilinear, zero fill outside.

    In centred coordinates (u = row - cy, v = col - cx): out[u, v] = in[cos(t) u + sin(t) v, -sin(t) u + cos(t) v],
    which for t = 90 degrees is `torch.rot90(x, 1, dims=(-2, -1))`. The output keeps the input's H x W.
    """
    height, width = x.shape[-2], x.shape[-1]
    cy, cx = (height - 1) / 2, (width - 1) / 2
    # Geometry in float64 whatever x's dtype, so the sampling points do not carry extra round-off.
    u = torch.arange(height, dtype=torch.float64, device=x.device)[:, None] - cy
    v = torch.arange(width, dtype=torch.float64, device=x.device)[None, :] - cx
    cos, sin = math.cos(angle), math.sin(angle)
    source_row = cos * u + sin * v + cy
    source_col = -sin * u + cos * v + cx
    return _sample_bilinear(x, source_row, source_col)


def _sample_bilinear(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """x[..., rows, cols] at fractional (rows, cols) of shape (H', W'); samples outside the grid read zero."""
    height, width = x.shape[-2], x.shape[-1]
    row0, col0 = torch.floor(rows), torch.floor(cols)
    row_frac, col_frac = rows - row0, cols - col0
    row0, col0 = row0.long(), col0.long()
    out = torch.zeros(x.shape[:-2] + rows.shape, dtype=x.dtype, device=x.device)
    for d_row, row_weight in ((0, 1 - row_frac), (1, row_frac)):
        for d_col, col_weight in ((0, 1 - col_frac), (1, col_frac)):
            r, c = row0 + d_row, col0 + d_col
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            weight = (row_weight * col_weight * inside).to(x.dtype)
            out = out + weight * x[..., r.clamp(0, height - 1), c.clamp(0, width - 1)]
    return out


def act_image(group: PlanarGroup, i: int, x: torch.Tensor) -> torch.Tensor:
    """Element i on an image-like tensor (..., H, W): mirror first (if any), then rotate."""
    mirror, r, n = group.spatial(i)
    if mirror:
        x = mirror_image(x)
    return rotate_image(x, r, n) if r else x


def act_hue(group: PlanarGroup, i: int, x: torch.Tensor) -> torch.Tensor:
    """Element i's hue rotation on RGB images (..., 3, H, W): each pixel's RGB vector -> M @ rgb (identity if none)."""
    step, n = hue_of(group, i)
    if step == 0:
        return x
    matrix = torch.tensor(hue_matrix(step, n), dtype=torch.float64, device=x.device).to(x.dtype)
    return torch.einsum("cd,...dhw->...chw", matrix, x)


def act_input(group: PlanarGroup, i: int, x: torch.Tensor) -> torch.Tensor:
    """Element i on an input image (..., C, H, W): its hue rotation (if any), then its mirror and rotation."""
    return act_image(group, i, act_hue(group, i, x))


def act_orientation(group: PlanarGroup, i: int, x: torch.Tensor) -> torch.Tensor:
    """Element i on group-indexed scores (..., n): out[..., h] = in[..., P[i][h]], P the regular table."""
    permutation = torch.tensor(group.regular_table()[i], device=x.device)
    return x.index_select(-1, permutation)


def act_fields(group: PlanarGroup, i: int, x: torch.Tensor) -> torch.Tensor:
    """Element i on regular fields (..., n, H, W): out[..., h, :, :] = spatial_i(in[..., P[i][h], :, :])."""
    permutation = torch.tensor(group.regular_table()[i], device=x.device)
    return act_image(group, i, x.index_select(-3, permutation))


def act_grid(group, i: int, x: torch.Tensor, dims: int) -> torch.Tensor:
    """Element i on the last `dims` axes of x by its exact grid move (symc.groups.moves): (g.x)[p] = x[M^-1 p]."""
    move = group.grid_move(i, dims)
    if move.angle:
        raise ValueError(f"{group.element_name(i)} turns by an angle that is not a multiple of 90 degrees: "
                         "it has no exact grid move")
    lead = x.dim() - dims
    x = x.permute(*range(lead), *(lead + a for a in move.source))
    flipped = tuple(lead + b for b in range(dims) if move.flips[b])
    return torch.flip(x, dims=flipped) if flipped else x


def act_volume(group, i: int, x: torch.Tensor) -> torch.Tensor:
    """Element i of a volume's group (cube symmetries, the mirror of W) on a tensor (..., D, H, W)."""
    return act_grid(group, i, x, 3)


def random_orthogonal(dim: int, determinant: int, generator: torch.Generator) -> torch.Tensor:
    """A random dim x dim orthogonal matrix (float64) with the given determinant (+1 or -1), Haar-distributed."""
    q, r = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))  # makes the distribution uniform over O(dim)
    if torch.det(q) * determinant < 0:
        q[:, 0] = -q[:, 0]
    return q


def circular_shift(x: torch.Tensor, shifts: tuple[int, ...]) -> torch.Tensor:
    """A translation on the last len(shifts) axes of a grid, wrapping around: `torch.roll`, as the tester shifts."""
    dims = tuple(range(-len(shifts), 0))
    return torch.roll(x, shifts, dims=dims)


def zoom_image(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Magnify the last two axes by `factor` about the image centre, bilinear, zero fill; the size stays H x W.
    Zooming a grid is approximate (details below a pixel are lost or invented), as the `scale N` factor is."""
    height, width = x.shape[-2], x.shape[-1]
    cy, cx = (height - 1) / 2, (width - 1) / 2
    rows = torch.arange(height, dtype=torch.float64, device=x.device)[:, None].expand(height, width)
    cols = torch.arange(width, dtype=torch.float64, device=x.device)[None, :].expand(height, width)
    return _sample_bilinear(x, (rows - cy) / factor + cy, (cols - cx) / factor + cx)


def zoom_sequence(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Magnify the last axis by `factor` about its centre, linear interpolation, zero fill; the length stays L."""
    length = x.shape[-1]
    centre = (length - 1) / 2
    source = (torch.arange(length, dtype=torch.float64, device=x.device) - centre) / factor + centre
    left = torch.floor(source)
    frac = (source - left).to(x.dtype)
    left = left.long()
    out = torch.zeros_like(x)
    for offset, weight in ((0, 1 - frac), (1, frac)):
        index = left + offset
        inside = ((index >= 0) & (index < length)).to(x.dtype)
        out = out + weight * inside * x[..., index.clamp(0, length - 1)]
    return out
