"""Mixed trivial/regular widths and position channels of image models (pure arithmetic, no torch).

A layer of width W with invariant fraction F holds T = round(F*W) trivial fields (halves round up; at least one
regular field remains while F < 1) and R = W - T regular fields: T + R*|G| channels, trivial channels first.
"""
from __future__ import annotations

import math


def halve(size: int) -> int:
    """Spatial size after a symmetric down-sampling (see symc.nn.layers.SymmetricDownsample)."""
    return (size + 1) // 2


def conv_size(size: int, kernel: int, padding: int) -> int:
    """Side after a stride-1 convolution padded by `padding` on each side (kernel // 2 keeps it)."""
    return size + 2 * padding - kernel + 1


def layer_padding(kernels, paddings, layer: int) -> int:
    """A layer's padding on each side: its entry of `paddings`, or kernel // 2 ('same') when there are none."""
    return paddings[layer] if paddings else kernels[layer] // 2


def split_width(width: int, fraction: float) -> tuple[int, int]:
    """(trivial, regular) fields of a layer of `width` fields."""
    if not fraction:
        return 0, width
    if fraction >= 1:
        return width, 0
    trivial = min(math.floor(fraction * width + 0.5), width - 1)
    return trivial, width - trivial


def mixed_conv_params(in_trivial: int, in_regular: int, out_trivial: int, out_regular: int, order: int,
                      taps: int) -> int:
    """Base weights of an equivariant conv between mixed field types, `taps` = kernel area.

    trivial->trivial and regular->trivial keep one filter per field pair (symmetrized, or moved by each input
    slot), trivial->regular one per pair (lifted), regular->regular one per pair and input slot (group conv).
    """
    return taps * (out_trivial * (in_trivial + in_regular) + out_regular * (in_trivial + in_regular * order))


def channel_factor(order: int, fraction: float) -> float:
    """Parameters of a conv between two layers of W fields are about W^2 * factor * taps: dividing plain-CNN
    channels by sqrt(factor) keeps a model near a plain CNN's size (factor = |G| for regular fields alone)."""
    regular = 1.0 - fraction
    return 1.0 + regular * regular * (order - 1)


# ---------------------------------------------------------------- position channels (images, `no translation`)

def planar_kind(group) -> tuple[str, int]:
    """('cyclic', N), ('dihedral', N), ('flip', 1) or ('trivial', 1) for a planar point group."""
    mirrors = any(group.spatial(i)[0] for i in range(group.order))
    n = group.spatial(0)[2]
    if mirrors:
        return ("dihedral", n) if n > 1 else ("flip", 1)
    return ("cyclic", n) if n > 1 else ("trivial", 1)


def position_features(encoding: str, group) -> tuple[str, ...]:
    """Names of the position channels `symc.nn.positions.ImagePositions` appends for this encoding and group.

    'radial': the radius from the image centre, plus the angular functions the group leaves unchanged: cos and sin
    of N*theta for C_N; cos(N*phi) for D_N, phi measured from the mirror's axis (the vertical), so a mirror maps phi
    to -phi; the row coordinate y for the mirror alone. 'coordinates': x and y (no point symmetry to keep).
    """
    if encoding == "coordinates":
        return ("x", "y")
    kind, n = planar_kind(group)
    if kind == "cyclic":
        return ("radius", f"cos {n}theta", f"sin {n}theta")
    if kind == "dihedral":
        return ("radius", f"cos {n}phi")
    if kind == "flip":
        return ("radius", "y")
    return ("radius",)
