"""The candidate actions of each domain, as lists of group elements; the math is symc.groups.actions'. Imports torch.

Element 0 of every candidate is the identity. A candidate is a finite set of elements: the whole group where it is
finite (quarter turns, mirrors, hue, shifts), a fixed random sample where it is not (rotations of points,
permutations), drawn once from the seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from symc.groups import HueGroup
from symc.groups.actions import (
    act_hue, circular_shift, mirror_image, random_orthogonal, rotate_image, zoom_image, zoom_sequence,
)
from symc.sizes import SCALE_STEP

from .data import Data

SAMPLED_ELEMENTS = 64  # elements drawn for permutations and rigid motions of points


@dataclass(frozen=True)
class Candidate:
    name: str
    action: str
    """How an element acts, in words (shown by `--help`-level docs and the table's notes)."""
    size: int
    act: Callable[[int, torch.Tensor], torch.Tensor]
    """act(k, x): element k (0 the identity) on a batch x in the domain's layout."""

    def apply(self, elements: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Element elements[i] on sample x[i]: one call per distinct element."""
        out = x.clone()
        for k in torch.unique(elements).tolist():
            if k:
                chosen = elements == k
                out[chosen] = self.act(k, x[chosen])
        return out

    def draw(self, count: int, generator: torch.Generator, identity: bool = True) -> torch.Tensor:
        """Random elements, uniform over the group (identity=True: augmentation) or over the others (a probe)."""
        low = 0 if identity else 1
        return torch.randint(low, self.size, (count,), generator=generator)


def image_candidates(data: Data, generator: torch.Generator) -> tuple[list[Candidate], list[str]]:
    channels, height, width = data.shape
    found, skipped = [], []
    if height == width:
        found.append(Candidate("quarter turns", "rotate by 90, 180, 270 degrees (torch.rot90)", 4,
                               lambda k, x: rotate_image(x, k, 4)))
        found.append(Candidate("eighth turns", "rotate by multiples of 45 degrees (bilinear, zero fill)", 8,
                               lambda k, x: rotate_image(x, k, 8)))
    else:
        skipped.append(f"rotations: the images are {height}x{width}, and right angles need square images")
    found.append(Candidate("mirror", "mirror left-right (torch.flip of W)", 2, lambda k, x: mirror_image(x)))
    found.append(Candidate("translation", "circular shifts of H and W by any amount (torch.roll)", height * width,
                           lambda k, x: circular_shift(x, (k // width, k % width))))
    if channels == 3:
        hue = HueGroup(3)
        found.append(Candidate("hue", "turn every pixel's RGB by 120 or 240 degrees about the grey axis", 3,
                               lambda k, x: act_hue(hue, k, x)))
    else:
        skipped.append(f"hue: the images have {channels} channel{'s' * (channels != 1)}, hue needs 3 (RGB)")
    found.append(Candidate("scale", f"zoom in or out by {SCALE_STEP:.3g} about the centre (bilinear, zero fill)", 3,
                           lambda k, x: zoom_image(x, SCALE_STEP if k == 1 else 1 / SCALE_STEP)))
    return found, skipped


def sequence_candidates(data: Data, generator: torch.Generator) -> tuple[list[Candidate], list[str]]:
    length = data.shape[1]
    return [Candidate("translation", "circular shifts of L by any amount (torch.roll)", length,
                      lambda k, x: circular_shift(x, (k,))),
            Candidate("time reversal", "read the sequence backwards (torch.flip of L)", 2,
                      lambda k, x: mirror_image(x)),
            Candidate("scale", f"zoom the time axis in or out by {SCALE_STEP:.3g} about the centre (linear, zero "
                               "fill)", 3,
                      lambda k, x: zoom_sequence(x, SCALE_STEP if k == 1 else 1 / SCALE_STEP))], []


def _permutations(count: int, generator: torch.Generator) -> list[torch.Tensor]:
    return [torch.arange(count)] + [torch.randperm(count, generator=generator) for _ in range(SAMPLED_ELEMENTS - 1)]


def _permutation(count: int, generator: torch.Generator) -> Candidate:
    perms = _permutations(count, generator)
    return Candidate("permutation", f"reorder the {count} elements ({SAMPLED_ELEMENTS - 1} random orders)",
                     SAMPLED_ELEMENTS, lambda k, x: x[:, perms[k]])


def set_candidates(data: Data, generator: torch.Generator) -> tuple[list[Candidate], list[str]]:
    return [_permutation(data.shape[0], generator)], []


def point_cloud_candidates(data: Data, generator: torch.Generator) -> tuple[list[Candidate], list[str]]:
    count, dim = data.shape
    eye = torch.eye(dim, dtype=torch.float64)
    rotations = [eye] + [random_orthogonal(dim, 1, generator) for _ in range(SAMPLED_ELEMENTS - 1)]
    mirror = torch.diag(torch.tensor([-1.0] + [1.0] * (dim - 1), dtype=torch.float64))
    spread = float(data.x.std()) or 1.0
    shifts = [torch.zeros(dim, dtype=torch.float64)] + [
        spread * torch.randn(dim, generator=generator, dtype=torch.float64) for _ in range(SAMPLED_ELEMENTS - 1)]

    def rotate(matrix):
        return lambda x: x @ matrix.to(x.dtype).T

    return [Candidate("rotations", f"pos @ R.T, R one of {SAMPLED_ELEMENTS - 1} random rotations (det +1) about the "
                                   "origin", SAMPLED_ELEMENTS, lambda k, x: rotate(rotations[k])(x)),
            Candidate("mirrors", "negate the first coordinate (a reflection, det -1)", 2,
                      lambda k, x: rotate(mirror)(x)),
            Candidate("translations", f"pos + t, t one of {SAMPLED_ELEMENTS - 1} random shifts with the positions' "
                                      f"spread ({spread:.3g})", SAMPLED_ELEMENTS,
                      lambda k, x: x + shifts[k].to(x.dtype)),
            _permutation(count, generator)], []


CANDIDATES = {"image": image_candidates, "sequence": sequence_candidates, "set": set_candidates,
              "point cloud": point_cloud_candidates}


def candidates_for(data: Data, generator: torch.Generator) -> tuple[list[Candidate], list[str]]:
    """The domain's candidates, and a line for each one left out with the reason."""
    return CANDIDATES[data.domain](data, generator)
