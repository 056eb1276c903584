"""What `scale N` on images and sequences lowers to, and what it refuses (see symc.nn.scale for the layers)."""
from __future__ import annotations

from ..groups import has_hue
from ..sizes import SCALE_WINDOW, hermite_orders, scale_kernel_sizes
from ..spec.model import Spec

# Every layer keeps one copy of its features per scale, and scale s's grid is about sqrt(2)^s times the kernel
# (a 5x5 kernel is 47x47 at scale 7): more scales would only give huge, slow models.
MAX_SCALES = 8


def check_scale(spec: Spec) -> int:
    """The number of scales (1 without a scale factor), or a SpecError naming the clause this version cannot lower."""
    found = [factor.n for factor in spec.symmetry if factor.kind == "scale"]  # the parser allows one at most
    if not found:
        return 1
    scales = found[0]
    if scales > MAX_SCALES:
        index = next(i for i, factor in enumerate(spec.symmetry) if factor.kind == "scale")
        raise spec.error(f"symmetry.{index}", f"'scale {scales:,}' is not supported: every layer keeps one copy of "
                         f"its features per scale and the filter grid grows by sqrt(2) per scale; supported: up to "
                         f"'scale {MAX_SCALES}'")
    if scales == 1:
        return 1  # one scale is no scale symmetry: a plain model
    index = next(i for i, factor in enumerate(spec.symmetry) if factor.kind == "scale")
    if spec.hints.invariant_fraction:
        raise spec.error("hint.invariant_fraction", f"'invariant fraction' with 'scale {scales}' is not supported "
                         "yet: scale layers keep regular fields only; leave the hint out or drop the scale factor")
    if not spec.translation:
        raise spec.error("no translation", f"'no translation' with 'scale {scales}' is not supported: positions "
                         "do not survive a zoom about the centre; leave it out or drop the scale factor")
    for index, output in enumerate(spec.outputs):
        if output.kind != "invariant":
            raise spec.error(f"output.{index}", f"'{output.kind}' output with 'scale {scales}' is not supported: "
                             "zooming moves features across the scale axis and out of the frame, so only "
                             "outputs pooled over positions and scales are defined; supported: 'invariant output K'")
    if spec.hints.conv == "fft":
        raise spec.error("hint.conv", "'conv fft' is not supported with 'scale N': scale layers run one direct "
                         "convolution per scale; leave the hint out or use 'conv direct'")
    if spec.hints.kernel is not None and min(spec.hints.kernel) < 3:
        raise spec.error("hint.kernel", f"kernel {min(spec.hints.kernel)} is too small for 'scale {scales}': the "
                         "multi-scale filters need a grid of at least 3x3 at the smallest scale; supported: kernel 3 or more")
    return scales


def add_scale_conv(b, node: str, layer: int, in_fields: int, width: int, kernel: int, size) -> str:
    """One convolution kept at every scale: the scale-space lifting first, then scale-group convolutions.

    Parameters: one coefficient per basis function (and, after the lifting, per input offset in the scale window and
    per group element) for every pair of fields; the grid grows with the scale, which only FLOPs pay for.
    """
    scales, order = b.symmetry.scales, b.symmetry.order
    functions = len(hermite_orders(len(size)))
    kernels = tuple(scale_kernel_sizes(kernel, scales))
    if layer == 0:
        # With hue, the lifting turns the RGB inputs per element (its channel action); the parameters stay the same.
        hue = {"hue": True} if has_hue(b.symmetry.group) else {}
        return b.add("scale_lift", node, b.regular(width, size), in_channels=in_fields, out_fields=width,
                     kernel=kernel, kernels=kernels, scales=scales, params=width * in_fields * functions, layer=layer,
                     **hue)
    return b.add("scale_conv", node, b.regular(width, size), in_fields=in_fields, out_fields=width, kernel=kernel,
                 kernels=kernels, scales=scales, window=SCALE_WINDOW,
                 params=width * in_fields * SCALE_WINDOW * order * functions, layer=layer)


def add_scale_pool(b, node: str, fields: int) -> str:
    """Max over the scale axis: invariant features for the head."""
    return b.add("scale_pool", node, b.scalars(fields), mode="max", fields=fields,
                 scales=b.symmetry.scales, params=0)


ZOOMS_EXACTNESS = "approximate for zooms by the scale step (the top scale has no scale above it)"


def scale_exactness(group, right_angles_only: bool) -> str:
    """How exact an image model with `scale N` is: zooms approximate, the finite group as without scales."""
    zooms = ZOOMS_EXACTNESS
    if group.order == 1:
        return zooms
    hue = has_hue(group)
    if hue and group.planar_order == 1:
        return f"exact for hue rotations; {zooms}"
    if right_angles_only:
        angles = ("exact for hue rotations, rotations by multiples of 90 degrees and mirrors" if hue else
                  "exact for rotations by multiples of 90 degrees and mirrors")
    else:
        angles = ("exact for hue rotations and the right-angle subgroup" if hue else
                  "exact for the right-angle subgroup") + ", approximate for other rotations"
    return f"{angles}; {zooms}"
