"""Architecture choices for images: depth, widths, kernels, down-sampling, with the reason for each."""
from __future__ import annotations

import math

from ..ir.graph import Architecture, build_ir
from ..ir.symmetry import Symmetry
from ..spec.model import Spec
from .borders import fit_sizes, grid_paddings, hinted_downsampling
from .hardware import Hardware
from .mixed import (align_mixed, image_position_encoding, invariant_fraction, mixed_default_widths,
                    widths_reason)
from .scale import SCALE_DOWNSAMPLE_REASON, SCALE_KERNEL, scale_kernel_reason, scale_reason

DEFAULT_IMAGE_SIZE = (64, 64)
DEFAULT_DEPTH = 4
SMALLEST_POOLED_SIDE = 7  # stop halving once features are about this small


def plain_channels(layer: int, depth: int) -> int:
    """Channels of a plain CNN of this depth: 32 at the input, doubling twice towards the output."""
    if depth == 1:
        return 32
    return 32 * 2 ** round(2 * layer / (depth - 1))


def default_widths(depth: int, order: int) -> tuple[int, ...]:
    # Regular fields cost `order` channels each; dividing by sqrt(order) keeps parameters near the plain CNN's.
    return tuple(max(1, round(plain_channels(layer, depth) / math.sqrt(order))) for layer in range(depth))


def invariant_group_pooling(spec: Spec, symmetry: Symmetry, reasons: dict[str, str]) -> str:
    """How an invariant head pools regular fields over the group: their spectrum where it applies, else a max."""
    if symmetry.order == 1 or not any(o.kind == "invariant" for o in spec.outputs):
        return "max"
    if symmetry.scales > 1 or spec.hints.invariant_fraction:
        reasons["group pooling"] = "max over the group, per field"
        return "max"
    classes = symmetry.group.real_class_count()
    reasons["group pooling"] = (f"spectrum: positions averaged first, then each field's length in the {classes} "
                                "isotypic components of the group (one per real class); keeps how responses vary "
                                "with orientation, which a max drops")
    return "spectrum"


def needs_full_resolution(spec: Spec) -> bool:
    return any(o.kind in ("equivariant", "fields") for o in spec.outputs)


def halvings(size, depth: int, reasons: dict[str, str]) -> tuple[int, ...]:
    """The layers after which an image network halves its grid: down to about SMALLEST_POOLED_SIDE, at most 3."""
    side = min(size)
    count = max(0, min(depth - 2, 3, int(math.log2(max(side, 1) / SMALLEST_POOLED_SIDE)) if side >= 14 else 0))
    first = 1 if depth > 2 else 0
    reasons["downsample"] = (f"halve {count} time(s), windows symmetric about the centre for odd and even sizes"
                             if count else "none: the input is small")
    return tuple(range(first, first + count))


def planning_size(spec: Spec, reasons: dict[str, str]) -> tuple[int, ...]:
    """The image size costs are planned at: the spec's, else DEFAULT_IMAGE_SIZE (models take any size)."""
    size = tuple(spec.domain.shape) if spec.domain.shape else DEFAULT_IMAGE_SIZE
    reasons["input"] = ("size from the spec" if spec.domain.shape else
                        f"any size works; costs assume {size[0]}x{size[1]}")
    return size


def choose_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                        dtype: str = "float32") -> Architecture:
    hints = spec.hints
    reasons: dict[str, str] = {}
    size = planning_size(spec, reasons)

    if hints.depth is not None:
        depth, reasons["depth"] = hints.depth, "depth hint"
    elif hints.widths is not None:
        depth, reasons["depth"] = len(hints.widths), "one layer per entry of the widths hint"
    elif hints.kernel is not None and len(hints.kernel) > 1:
        depth, reasons["depth"] = len(hints.kernel), "one layer per entry of the kernel hint"
    else:
        depth, reasons["depth"] = DEFAULT_DEPTH, "default depth"

    if hints.kernel is not None:
        kernels = hints.kernel * depth if len(hints.kernel) == 1 else hints.kernel
        reasons["kernel"] = "kernel hint"
    elif symmetry.scales > 1:
        kernels = (SCALE_KERNEL,) * depth
        reasons["kernel"] = scale_kernel_reason(SCALE_KERNEL, symmetry.scales)
    elif symmetry.right_angles_only:
        kernels = (5,) + (3,) * (depth - 1)
        reasons["kernel"] = "5 to lift, then 3: right-angle copies of a filter are exact at any size"
    else:
        kernels = (5,) * depth
        reasons["kernel"] = "5 everywhere: copies rotated by non-right angles are resampled, and 3x3 is too coarse"

    paddings = grid_paddings(spec, kernels, reasons, symmetry.scales)
    if needs_full_resolution(spec):
        downsample = ()
        reasons["downsample"] = "none: an equivariant output keeps the input's resolution"
    elif symmetry.scales > 1:
        downsample = ()
        reasons["downsample"] = SCALE_DOWNSAMPLE_REASON
    else:
        downsample = halvings(size, depth, reasons)
    downsample = hinted_downsampling(spec, depth, downsample, reasons, keeps_size=(
        "an equivariant output keeps the input's resolution" if needs_full_resolution(spec) else
        "scale groups keep every layer at the input's size" if symmetry.scales > 1 else ""))

    if hints.pooling is not None:
        pooling, reasons["pooling"] = hints.pooling, "pooling hint"
    elif symmetry.right_angles_only:
        pooling, reasons["pooling"] = "max", "max pooling: exact for right angles and mirrors"
    else:
        pooling = "blur"
        reasons["pooling"] = "blur pooling (binomial taps): anti-aliased, so other angles survive down-sampling"
    arch = Architecture(
        widths=(), kernels=tuple(kernels), downsample_after=downsample, input_size=size,
        norm=hints.norm or "batch", activation=hints.activation or "relu", pooling=pooling,
        boundary=hints.boundary or "zero", invariant_fraction=invariant_fraction(spec, reasons),
        position_encoding=image_position_encoding(spec, symmetry, reasons),
        group_pooling=invariant_group_pooling(spec, symmetry, reasons), paddings=paddings, reasons=reasons)
    arch = fit_sizes(spec, arch)
    if symmetry.scales > 1:
        arch = _replace(arch, global_pooling="max")
        reasons["scales"] = scale_reason(symmetry.scales)
    widths = _choose_widths(spec, symmetry, arch, depth, reasons)
    if hardware is not None and arch.invariant_fraction:
        widths = _align_mixed_widths(spec, symmetry, arch, widths, hardware, dtype, reasons)
    elif hardware is not None:
        widths = _align_widths(spec, symmetry, widths, hardware, dtype, reasons)
    head_hidden = widths[-1]
    return _replace(arch, widths=widths, head_hidden=head_hidden)


def _replace(arch: Architecture, **changes) -> Architecture:
    values = {name: getattr(arch, name) for name in arch.__dataclass_fields__}
    values.update(changes)
    return Architecture(**values)


def count_params(spec: Spec, symmetry: Symmetry, arch: Architecture) -> int:
    graph = build_ir(spec, symmetry, arch)
    return sum(data.get("params", 0) for _, data in graph.nodes(data=True))


def _choose_widths(spec: Spec, symmetry: Symmetry, arch: Architecture, depth: int, reasons) -> tuple[int, ...]:
    hints = spec.hints
    if hints.widths is not None:
        reasons["widths"] = "widths hint (regular fields per layer)"
        return tuple(hints.widths)
    if hints.width is not None:
        reasons["widths"] = "width hint (regular fields in every layer)"
        return (hints.width,) * depth
    base = default_widths(depth, symmetry.order)
    if arch.invariant_fraction:  # trivial fields cost one channel each: wider layers for the same parameters
        base = mixed_default_widths([plain_channels(i, depth) for i in range(depth)], symmetry.order,
                                    arch.invariant_fraction)
    if hints.params is None:
        reasons["widths"] = (f"plain-CNN channels 32..128 divided by sqrt(|G|) = sqrt({symmetry.order}) "
                             "to keep parameters near a plain CNN's")
        if arch.invariant_fraction:
            reasons["widths"] = widths_reason(symmetry.order, arch.invariant_fraction)
        return base
    return _fit_budget(spec, symmetry, arch, base, hints.params, reasons)


def _fit_budget(spec, symmetry, arch, base, budget, reasons) -> tuple[int, ...]:
    """Scale the default widths so the parameter count lands as close to the budget as whole fields allow."""
    def scaled(factor: float) -> tuple[int, ...]:
        return tuple(max(1, round(w * factor)) for w in base)

    counted: dict[tuple[int, ...], int] = {}

    def params(widths) -> int:
        # Many factors round to the same whole widths: each distinct width tuple is counted once.
        if widths not in counted:
            counted[widths] = count_params(spec, symmetry, _replace(arch, widths=widths, head_hidden=widths[-1]))
        return counted[widths]

    low, high = 1e-3, 1e3
    while params(scaled(high)) < budget and high < 1e7:  # budgets far above the default model
        low, high = high, high * 10
    for _ in range(60):  # parameters grow monotonically (roughly quadratically) with the factor
        mid = math.sqrt(low * high)
        if params(scaled(mid)) > budget:
            high = mid
        else:
            low = mid
    candidates = {scaled(low), scaled(high)}
    best = min(candidates, key=lambda w: abs(params(w) - budget))
    got = params(best)
    if abs(got - budget) > 0.1 * budget:
        _budget_missed(spec, budget, params(scaled(0.0)), sorted(params(w) for w in candidates))
    reasons["widths"] = (f"default widths scaled to the params budget {budget:,}: {got:,} "
                         f"({100.0 * (got - budget) / budget:+.1f}%)")
    return best


def _budget_missed(spec, budget: int, smallest: int, nearest: list[int]):
    """A params budget the plan cannot land within 10% of is a SpecError, never a silently different model."""
    if budget < smallest:
        raise spec.error("hint.params", f"'params {budget}' is below the smallest model this spec allows: "
                         f"{smallest:,} parameters with one field per layer; ask for at least {smallest:,} "
                         "or lower the depth")
    raise spec.error("hint.params", f"'params {budget}' cannot be met within 10% with whole fields per layer: "
                     f"the nearest plans have {' and '.join(f'{n:,}' for n in nearest)} parameters")


def _align_mixed_widths(spec, symmetry, arch, widths, hardware: Hardware, dtype: str, reasons):
    """As _align_widths, for mixed layers whose channels are T + R x |G|."""
    align = hardware.channel_alignment(dtype)
    if align <= 1 or spec.hints.widths is not None or spec.hints.width is not None:
        return widths
    aligned = align_mixed(widths, symmetry.order, arch.invariant_fraction, align)
    reasons["alignment"] = (f"fields rounded up so channels (trivial + regular x {symmetry.order}) are multiples "
                            f"of {align} for {hardware.name}'s tensor cores at {dtype}")
    return aligned


def _align_widths(spec, symmetry, widths, hardware: Hardware, dtype: str, reasons) -> tuple[int, ...]:
    """Round fields up so every conv's channel count (fields x |G|) is a multiple of the tensor-core alignment."""
    align = hardware.channel_alignment(dtype)
    if align <= 1:
        return widths
    step = align // math.gcd(align, symmetry.order)  # fields per aligned block
    if spec.hints.widths is not None or spec.hints.width is not None:
        misaligned = [w for w in widths if (w * symmetry.order) % align]
        if misaligned:
            reasons["alignment"] = (f"widths kept as hinted, but {len(misaligned)} layer(s) are not multiples of "
                                    f"{align} channels, which {hardware.name}'s tensor cores want")
        return widths
    aligned = tuple(-(-w // step) * step for w in widths)
    reasons["alignment"] = (f"fields rounded up to multiples of {step} so channels (fields x {symmetry.order}) are "
                            f"multiples of {align} for {hardware.name}'s tensor cores at {dtype}")
    return aligned
