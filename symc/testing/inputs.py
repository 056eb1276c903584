"""Random test images, in float64.

Exact elements (rot90, mirrors) map pixel grids onto themselves, so any image works and white noise is the
hardest test: g.x is computed with the group's tensor action.

Rotations by other angles cannot be done exactly on a grid. Resampling a noise image by interpolation blurs it,
and that blur alone moved models by as much as a non-equivariant CNN differs from an equivariant one. So the
approximate elements use a scene drawn from a continuous image: a sum of elongated Gaussian blobs inside the
inscribed disk. g.x is the same scene with the blobs moved by g, drawn again on the grid: an exact sample of
the rotated continuous image. The blobs of one image share an orientation (with jitter), so that
orientation-sensitive models and outputs see something to react to.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from symc.groups import PlanarGroup, position_matrix

# Blob shape, in pixels: long axis BLOB_MAJOR, short axis BLOB_MINOR (Gaussian standard deviations).
BLOB_MAJOR = 4.0
BLOB_MINOR = 1.5
# Spread (radians) of the blobs' orientations about the image's own random orientation.
ORIENTATION_JITTER = 0.3
# One blob per this many square pixels of the disk (density independent of the image size), at least MIN_BLOBS.
AREA_PER_BLOB = 45.0
MIN_BLOBS = 4
# The disk's soft edge, in pixels: a hard edge would add high frequencies at the rim.
DISK_EDGE = 3.0


def white_noise(batch: int, channels: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(batch, channels, height, width, generator=generator, dtype=torch.float64)


def centred_coordinates(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) relative to the image centre ((H-1)/2, (W-1)/2), shaped (H, 1) and (1, W)."""
    rows = torch.arange(height, dtype=torch.float64) - (height - 1) / 2
    cols = torch.arange(width, dtype=torch.float64) - (width - 1) / 2
    return rows[:, None], cols[None, :]


def inscribed_radius(height: int, width: int) -> float:
    """Radius of the largest centred disk whose rotations stay inside the grid with a pixel to spare."""
    return min(height, width) / 2 - 1


def comparison_mask(height: int, width: int) -> torch.Tensor:
    """Pixels where a rotated output is defined: the inscribed disk (corners rotate out of the frame)."""
    rows, cols = centred_coordinates(height, width)
    return (rows ** 2 + cols ** 2).sqrt() <= inscribed_radius(height, width)


def soft_disk(height: int, width: int) -> torch.Tensor:
    """1 inside the inscribed disk, ramping linearly to 0 over DISK_EDGE pixels at its rim (rotation invariant)."""
    rows, cols = centred_coordinates(height, width)
    radius = (rows ** 2 + cols ** 2).sqrt()
    return ((inscribed_radius(height, width) - radius) / DISK_EDGE).clamp(0, 1)


@dataclass(frozen=True)
class BlobScene:
    """A batch of continuous images: blob j of image b sits at centres[b, j] (centred (row, col)), with its long
    axis along axes[b, j, :, 0], and adds amplitudes[b, j, c] to channel c."""

    centres: torch.Tensor  # (B, J, 2)
    axes: torch.Tensor  # (B, J, 2, 2), columns: long axis, short axis
    amplitudes: torch.Tensor  # (B, J, C)
    size: float = 1.0  # blob lengths in units of BLOB_MAJOR, BLOB_MINOR (zoomed scenes scale them)

    @classmethod
    def random(cls, batch: int, channels: int, height: int, width: int, generator: torch.Generator,
               zoom: float = 1.0) -> "BlobScene":
        """Random blobs; with `zoom` > 1 they are smaller and closer to the centre, so that the scene zoomed in by
        `zoom` still fades before the rim and zoomed out keeps blobs wider than a pixel (see `zoomed`)."""
        radius = inscribed_radius(height, width) / zoom
        count = max(MIN_BLOBS, round(math.pi * radius ** 2 / AREA_PER_BLOB))
        # Centres uniform over a disk small enough that blobs fade before the rim.
        reach = max(radius - 2 * BLOB_MAJOR, radius / 2)
        distance = reach * torch.rand(batch, count, generator=generator, dtype=torch.float64).sqrt()
        direction = 2 * math.pi * torch.rand(batch, count, generator=generator, dtype=torch.float64)
        centres = torch.stack([distance * direction.cos(), distance * direction.sin()], dim=-1)
        orientation = (math.pi * torch.rand(batch, 1, generator=generator, dtype=torch.float64)
                       + ORIENTATION_JITTER * torch.randn(batch, count, generator=generator, dtype=torch.float64))
        long_axis = torch.stack([orientation.cos(), orientation.sin()], dim=-1)
        short_axis = torch.stack([-orientation.sin(), orientation.cos()], dim=-1)
        axes = torch.stack([long_axis, short_axis], dim=-1)
        amplitudes = torch.randn(batch, count, channels, generator=generator, dtype=torch.float64)
        return cls(centres, axes, amplitudes)

    def moved(self, group: PlanarGroup, element: int) -> "BlobScene":
        """The scene as group element `element` moves it (each blob's centre and axes)."""
        return self.transformed(position_matrix(group, element))

    def transformed(self, matrix) -> "BlobScene":
        """The scene moved by a 2x2 matrix of centred (row, col) points (each blob's centre and axes)."""
        matrix = torch.as_tensor(matrix, dtype=torch.float64)
        return BlobScene(self.centres @ matrix.T, matrix @ self.axes, self.amplitudes)

    def zoomed(self, factor: float) -> "BlobScene":
        """The scene magnified by `factor` about the image centre (shrunk when `factor` < 1)."""
        return BlobScene(self.centres * factor, self.axes, self.amplitudes, self.size * factor)

    def render(self, height: int, width: int) -> torch.Tensor:
        """The scene sampled on an H x W pixel grid, faded out at the inscribed disk's rim: (B, C, H, W)."""
        rows, cols = centred_coordinates(height, width)
        batch, count, channels = self.amplitudes.shape
        image = torch.zeros(batch, channels, height, width, dtype=torch.float64)
        for j in range(count):  # one blob at a time keeps memory at one image batch, whatever the size
            d_row = rows - self.centres[:, j, 0, None, None]  # (B, H, W)
            d_col = cols - self.centres[:, j, 1, None, None]
            along = d_row * self.axes[:, j, 0, 0, None, None] + d_col * self.axes[:, j, 1, 0, None, None]
            across = d_row * self.axes[:, j, 0, 1, None, None] + d_col * self.axes[:, j, 1, 1, None, None]
            major, minor = BLOB_MAJOR * self.size, BLOB_MINOR * self.size
            blob = torch.exp(-0.5 * ((along / major) ** 2 + (across / minor) ** 2))
            image += self.amplitudes[:, j, :, None, None] * blob[:, None]
        return image * soft_disk(height, width)


# ---------------------------------------------------------------- smooth signals on a line (sequence zooms)

# Bump shape and density. Chosen on the zoom rows of compiled `scale 3` and `scale 4` models against plain 1D CNNs
# (widths 1-4 samples, one bump per 2-6 samples): 1.5 and 6 gave the compiled models their lowest errors.
BUMP_WIDTH = 1.5       # Gaussian standard deviation of a bump, in samples
LENGTH_PER_BUMP = 6.0  # one bump per this many samples of the signal's support, at least MIN_BLOBS


@dataclass(frozen=True)
class BumpTrain:
    """A smooth 1D signal: a sum of Gaussian bumps about the sequence centre, drawn again at any zoom.

    As BlobScene for images: a zoom about the centre cannot be resampled exactly, so the zoomed signal is the same
    bumps with positions and widths scaled, sampled again (an exact sample of the zoomed continuous signal).
    """

    centres: torch.Tensor     # (B, K) offsets from the centre (L-1)/2
    amplitudes: torch.Tensor  # (B, K, C)
    size: float = 1.0

    @classmethod
    def random(cls, batch: int, channels: int, length: int, generator: torch.Generator,
               zoom: float = 1.0) -> "BumpTrain":
        """Random bumps within a support small enough that the train zoomed in by `zoom` stays inside the ends."""
        reach = max(length / 2 - 1 - 2 * BUMP_WIDTH * zoom, 1.0) / zoom
        count = max(MIN_BLOBS, round(2 * reach / LENGTH_PER_BUMP))
        centres = reach * (2 * torch.rand(batch, count, generator=generator, dtype=torch.float64) - 1)
        amplitudes = torch.randn(batch, count, channels, generator=generator, dtype=torch.float64)
        return cls(centres, amplitudes)

    def zoomed(self, factor: float) -> "BumpTrain":
        return BumpTrain(self.centres * factor, self.amplitudes, self.size * factor)

    def render(self, length: int) -> torch.Tensor:
        """(B, C, L) samples of the signal."""
        t = torch.arange(length, dtype=torch.float64) - (length - 1) / 2
        d = t[None, None, :] - self.centres[:, :, None]                               # (B, K, L)
        bumps = torch.exp(-0.5 * (d / (BUMP_WIDTH * self.size)) ** 2)
        return torch.einsum("bkc,bkl->bcl", self.amplitudes, bumps)
