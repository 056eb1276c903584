"""Image choices for mixed trivial/regular widths (`invariant fraction F`) and position channels (`no translation`)."""
from __future__ import annotations

import math

from ..ir.fields import channel_factor, planar_kind, position_features, split_width
from ..ir.symmetry import Symmetry
from ..spec.model import Spec
from ..spec.normalize import output_text


def invariant_fraction(spec: Spec, reasons: dict) -> float:
    """The hinted fraction (0 when absent), with its reason; refuses outputs that need regular fields at F = 1."""
    fraction = spec.hints.invariant_fraction or 0.0
    if not fraction:
        return 0.0
    if fraction >= 1:
        for output in spec.outputs:
            if output.kind in ("fields", "orientation"):
                raise spec.error("hint.invariant_fraction", "'invariant fraction 1' leaves no regular fields, so "
                                 f"'{output_text(output)}' would be the same along its whole group axis; supported: "
                                 "a fraction below 1 with that output")
        reasons["invariant fraction"] = ("1: every field is invariant (one channel); every filter is symmetric "
                                         "under the group (the group average of a base filter's copies)")
        return 1.0
    reasons["invariant fraction"] = (f"{fraction:g}: round({fraction:g} x W) trivial fields of one channel (halves "
                                     "up, at least one regular field), the rest regular fields of |G| channels; "
                                     "each conv holds four blocks (symmetric, lifting, slot-moved, group conv) "
                                     "in one filter bank")
    return fraction


def mixed_default_widths(plain: list[int], order: int, fraction: float) -> tuple[int, ...]:
    """Plain-CNN channels divided by sqrt(1 + (1-F)^2 (|G|-1)): a layer pair's parameters then stay near the plain
    CNN's (the factor is |G| for regular fields alone and 1 for trivial fields alone)."""
    divisor = math.sqrt(channel_factor(order, fraction))
    return tuple(max(1, round(c / divisor)) for c in plain)


def widths_reason(order: int, fraction: float) -> str:
    return (f"plain-CNN channels 32..128 divided by sqrt(1 + (1-F)^2 (|G|-1)) = "
            f"{math.sqrt(channel_factor(order, fraction)):.3g} (F = {fraction:g}, |G| = {order}) to keep parameters "
            "near a plain CNN's")


def align_mixed(widths, order: int, fraction: float, align: int) -> tuple[int, ...]:
    """Smallest widths at or above each hinted one whose channels (T + R x |G|) are a multiple of `align`."""
    aligned = []
    for width in widths:
        for candidate in range(width, width + 4 * align * order + 1):
            trivial, regular = split_width(candidate, fraction)
            if (trivial + regular * order) % align == 0:
                aligned.append(candidate)
                break
        else:
            aligned.append(width)
    return tuple(aligned)


def image_position_encoding(spec: Spec, symmetry: Symmetry, reasons: dict) -> str:
    """'none', 'radial' or 'coordinates' for images, with the reason; a SpecError for an encoding that would break
    the declared symmetry."""
    requested = spec.hints.position_encoding or "auto"
    if spec.translation:
        if requested == "radial":
            raise spec.error("hint.position_encoding", "'position encoding radial' gives the model absolute "
                             "positions, which breaks the declared translation symmetry; supported with 'no "
                             "translation' (if positions matter), or use none")
        return "none"
    if requested == "none":
        reasons["position encoding"] = ("none (hint): translation-equivariant layers; absolute position is "
                                        "allowed but not used")
        return "none"
    trivial = planar_kind(symmetry.group)[0] == "trivial"  # no rotation or mirror (hue alone moves no pixel)
    encoding = "coordinates" if trivial and requested == "auto" else "radial"
    features = ", ".join(position_features(encoding, symmetry.group))
    if encoding == "coordinates":
        why = "coordinates (auto): 'no translation' and no rotation or mirror, so plain x, y channels (CoordConv)"
    else:
        source = "hint" if requested == "radial" else "auto"
        why = (f"radial ({source}): 'no translation' lets absolute position matter; channels unchanged by "
               f"{symmetry.group.name} about the image centre")
    reasons["position encoding"] = f"{why}: {features}, appended to the input of the lifting layer"
    return encoding
