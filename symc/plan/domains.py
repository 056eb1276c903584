"""Architecture choices for sequences, sets, graphs, point clouds and volumes, with the reason for each.

The backbone and the position encoding follow the declared symmetry: a choice that would break it is a SpecError
at the hint that asked for it.
"""
from __future__ import annotations

import math

from ..ir.graph import Architecture
from ..ir.symmetry import Symmetry
from ..spec.model import Spec
from .borders import fit_sizes, grid_paddings, hinted_downsampling
from .hardware import Hardware
from .scale import SCALE_KERNEL, scale_kernel_reason, scale_reason
from ..groups.circle import ring_frequency
from ..ir.steerable import MAX_FREQUENCIES
from .sizing import (DEFAULT_DEPTH, _fit_budget, _replace, choose_architecture, halvings,
                     invariant_group_pooling, plain_channels, planning_size)

DEFAULT_LENGTH = 256
DEFAULT_ELEMENTS = 32
DEFAULT_VOLUME = (32, 32, 32)
DEFAULT_TOKEN_WIDTH = 64
DEFAULT_HEADS = 4
SMALLEST_POOLED_VOLUME_SIDE = 4


# ---------------------------------------------------------------- shared decisions

def _depth(spec: Spec, default: int, reasons: dict) -> int:
    hints = spec.hints
    if hints.depth is not None:
        reasons["depth"] = "depth hint"
        return hints.depth
    if hints.widths is not None:
        reasons["depth"] = "one layer per entry of the widths hint"
        return len(hints.widths)
    if hints.kernel is not None and len(hints.kernel) > 1:
        reasons["depth"] = "one layer per entry of the kernel hint"
        return len(hints.kernel)
    reasons["depth"] = "default depth"
    return default


def _widths(spec: Spec, symmetry: Symmetry, arch: Architecture, base: tuple[int, ...], default_reason: str,
            unit: str) -> tuple[int, ...]:
    hints, reasons = spec.hints, arch.reasons
    if hints.widths is not None:
        reasons["widths"] = f"widths hint ({unit} per layer)"
        return tuple(hints.widths)
    if hints.width is not None:
        reasons["widths"] = f"width hint ({unit} in every layer)"
        return (hints.width,) * len(base)
    if hints.params is not None:
        return _fit_budget(spec, symmetry, arch, base, hints.params, reasons)
    reasons["widths"] = default_reason
    return base


def _finish(spec, symmetry, arch: Architecture, base, default_reason, unit) -> Architecture:
    widths = _widths(spec, symmetry, arch, base, default_reason, unit)
    return _replace(arch, widths=widths, head_hidden=widths[-1])


def _requested_encoding(spec: Spec) -> str:
    """The position encoding hint ('auto' without one); 'radial' is refused here, as it is for point clouds only."""
    requested = spec.hints.position_encoding or "auto"
    if requested == "radial":
        raise spec.error("hint.position_encoding", "'position encoding radial' encodes distances between points: "
                         "it is for point clouds")
    return requested


def _point_encoding(spec: Spec, reasons: dict) -> str:
    """Point clouds: distances between points, the only encoding their symmetry allows."""
    requested = spec.hints.position_encoding or "auto"
    if requested not in ("auto", "radial"):
        raise spec.error("hint.position_encoding", f"'position encoding {requested}' would give points an "
                         "order or absolute coordinates, which breaks the declared permutation and rigid-motion "
                         "symmetry: point clouds use 'radial' (distances), the automatic choice")
    reasons["position encoding"] = "radial: layers see distances between points, invariant to the group"
    return "radial"


def _unordered_encoding(spec: Spec, domain: str, reasons: dict) -> str:
    """Sets and graphs: no positions at all."""
    requested = _requested_encoding(spec)
    if requested not in ("auto", "none"):
        raise spec.error("hint.position_encoding", f"'position encoding {requested}' gives elements positions, "
                         f"which breaks the declared permutation symmetry: {domain}s have no order; use none")
    reasons["position encoding"] = "none: permutation symmetry, elements have no positions"
    return "none"


def _sequence_encoding(spec: Spec, symmetry: Symmetry, backbone: str, reasons: dict) -> str:
    """Sequences: rotary (relative) positions under translation, none for convolutions."""
    requested = _requested_encoding(spec)
    if backbone != "attention":
        if requested not in ("auto", "none"):
            raise spec.error("hint.position_encoding", f"'position encoding {requested}' is for 'backbone "
                             "attention': convolutions see positions through their kernels")
        reasons["position encoding"] = "none: convolutions are local and shift with the input"
        return "none"
    reversal = symmetry.order == 2
    if symmetry.translation:
        if requested in ("learned", "sinusoidal"):
            raise spec.error("hint.position_encoding", f"'position encoding {requested}' adds absolute positions, "
                             "which breaks the declared translation symmetry: use rotary (relative) or none, or "
                             "say 'no translation' if positions matter")
        if requested == "none":
            reasons["position encoding"] = "none (hint): attention sees the tokens as a set"
            return "none"
        circular = spec.hints.boundary == "circular"
        reasons["position encoding"] = (
            ("rotary (hint)" if requested == "rotary" else "rotary (auto)") +
            ": relative, so attention scores depend on i - j only and shifts keep them" +
            ("; frequencies are whole periods over the length, so every circular shift is exact" if circular
             else "") + ("; symmetric in the offset (cosines only), so time reversal keeps them too"
                         if reversal else ""))
        return "rotary"
    length = spec.domain.shape[0] if spec.domain.shape else None
    if requested == "learned" and length is None:
        raise spec.error("hint.position_encoding", "'position encoding learned' needs a fixed length: write the "
                         "domain as 'sequence CxL'")
    if requested == "auto":
        requested = "learned" if length else "sinusoidal"
        why = (f"learned (auto): 'no translation' lets positions matter and the length {length} is fixed"
               if length else "sinusoidal (auto): 'no translation' lets positions matter and any length works")
    else:
        why = f"{requested} (hint)"
    if reversal and requested in ("learned", "sinusoidal"):
        why += "; made even about the centre so time reversal still holds"
    reasons["position encoding"] = why
    return requested


def _heads(spec: Spec, width: int) -> int:
    for heads in (DEFAULT_HEADS, 2, 1):
        if width % heads == 0 and (width // heads) % 2 == 0:
            return heads
    key = "hint.widths" if spec.hints.widths is not None else "hint.width"
    raise spec.error(key, f"attention needs an even width to split into heads of even size, got {width}")


# ---------------------------------------------------------------- per domain

def sequence_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                          dtype: str = "float32") -> Architecture:
    reasons: dict[str, str] = {}
    length = spec.domain.shape[0] if spec.domain.shape else DEFAULT_LENGTH
    reasons["input"] = "length from the spec" if spec.domain.shape else f"any length works; costs assume {length}"
    backbone = spec.hints.backbone or "conv"
    reasons["backbone"] = ("attention (hint): global mixing of all positions" if backbone == "attention" else
                           ("conv (hint)" if spec.hints.backbone else "conv (default)") +
                           ": 1D convolutions, stride 1, exact under shifts" +
                           (" and reversal (reversed filter copies on a 2-element group axis)"
                            if symmetry.order == 2 else ""))
    encoding = _sequence_encoding(spec, symmetry, backbone, reasons)
    boundary = spec.hints.boundary or "zero"
    reasons["boundary"] = ("circular (hint): the sequence wraps around, circular shifts are exact"
                           if boundary == "circular" else "zero padding (default): say 'boundary circular' "
                                                          "for periodic signals")
    layout = f"(B, {spec.domain.channels}, L)"
    if backbone == "attention":
        depth = _depth(spec, 4, reasons)
        arch = Architecture(widths=(), kernels=(), downsample_after=(), input_size=(length,),
                            norm="layer", activation=spec.hints.activation or "gelu", boundary=boundary,
                            backbone="attention", position_encoding=encoding, layout=layout, reasons=reasons)
        arch = _finish(spec, symmetry, arch, (DEFAULT_TOKEN_WIDTH,) * depth,
                       f"{DEFAULT_TOKEN_WIDTH} channels per token", "channels per token")
        if len(set(arch.widths)) != 1:
            raise spec.error("hint.widths", "attention blocks are residual: give one width for every layer")
        heads = _heads(spec, arch.widths[0])
        reasons["heads"] = f"{heads} heads of {arch.widths[0] // heads} channels"
        return _replace(arch, heads=heads)
    depth = _depth(spec, 4, reasons)
    if spec.hints.kernel is not None:
        kernels = spec.hints.kernel * depth if len(spec.hints.kernel) == 1 else spec.hints.kernel
        reasons["kernel"] = "kernel hint"
    elif symmetry.scales > 1:
        kernels = (SCALE_KERNEL,) * depth
        reasons["kernel"] = scale_kernel_reason(SCALE_KERNEL, symmetry.scales)
    else:
        kernels = (7,) + (5,) * (depth - 1)
        reasons["kernel"] = "7 then 5: a receptive field of several dozen steps at stride 1"
    reasons["downsample"] = "none: stride 1 keeps every shift exact (total stride 1)"
    paddings = grid_paddings(spec, kernels, reasons, symmetry.scales)
    arch = Architecture(widths=(), kernels=tuple(kernels), downsample_after=(), input_size=(length,),
                        norm=spec.hints.norm or "batch", activation=spec.hints.activation or "relu",
                        pooling=spec.hints.pooling or "max", boundary=boundary, backbone="conv",
                        position_encoding=encoding, layout=layout, paddings=paddings, reasons=reasons)
    arch = fit_sizes(spec, arch)
    if symmetry.scales > 1:  # as on images: max over positions and scales for invariant outputs
        arch = _replace(arch, global_pooling="max")
        reasons["scales"] = scale_reason(symmetry.scales, dims=1)
    order = symmetry.order
    base = tuple(max(1, round(32 * 2 ** min(i, 2) / math.sqrt(order))) for i in range(depth))
    return _finish(spec, symmetry, arch, base, f"32..128 channels divided by sqrt(|G|) = sqrt({order})",
                   "regular fields")


def set_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                     dtype: str = "float32") -> Architecture:
    reasons: dict[str, str] = {}
    size = spec.domain.shape or (DEFAULT_ELEMENTS,)
    reasons["input"] = ("N from the spec; any N works at run time" if spec.domain.shape else
                        f"any N works; costs assume {size[0]}")
    backbone = spec.hints.backbone or "deepsets"
    reasons["backbone"] = ("attention (hint): set attention, every element attends to every other, no positions"
                           if backbone == "attention" else
                           ("deepsets (hint)" if spec.hints.backbone else "deepsets (default)") +
                           ": per-element maps plus a pooled summary, linear in N")
    encoding = _unordered_encoding(spec, "set", reasons)
    pooling = {"max": "max", "avg": "mean", None: "mean"}[spec.hints.pooling]
    reasons["pooling"] = (f"{pooling} over elements (hint)" if spec.hints.pooling else
                          "mean over elements: the same scale for every set size (padded elements skipped)")
    depth = _depth(spec, 3, reasons)
    arch = Architecture(widths=(), kernels=(), downsample_after=(), input_size=size, norm=spec.hints.norm or "layer",
                        activation=spec.hints.activation or ("gelu" if backbone == "attention" else "relu"),
                        pooling=pooling, backbone=backbone, position_encoding=encoding,
                        layout=f"(B, N, {spec.domain.channels})", reasons=reasons)
    arch = _finish(spec, symmetry, arch, (DEFAULT_TOKEN_WIDTH,) * depth, f"{DEFAULT_TOKEN_WIDTH} features per element",
                   "features per element")
    if backbone == "attention":
        if len(set(arch.widths)) != 1:
            raise spec.error("hint.widths", "attention blocks are residual: give one width for every layer")
        heads = _heads(spec, arch.widths[0])
        reasons["heads"] = f"{heads} heads of {arch.widths[0] // heads} features"
        arch = _replace(arch, heads=heads)
    return arch


def graph_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                       dtype: str = "float32") -> Architecture:
    reasons: dict[str, str] = {}
    size = spec.domain.shape or (DEFAULT_ELEMENTS,)
    reasons["input"] = ("N nodes from the spec; any N works at run time" if spec.domain.shape else
                        f"any N works; costs assume {size[0]} nodes")
    reasons["backbone"] = ("message passing: each node adds its neighbours' messages through the dense adjacency, "
                           "normalized by degree")
    encoding = _unordered_encoding(spec, "graph", reasons)
    pooling = {"max": "max", "avg": "mean", None: "mean"}[spec.hints.pooling]
    reasons["pooling"] = f"{pooling} over nodes for graph-level outputs"
    depth = _depth(spec, 3, reasons)
    arch = Architecture(widths=(), kernels=(), downsample_after=(), input_size=size, norm=spec.hints.norm or "layer",
                        activation=spec.hints.activation or "relu", pooling=pooling, backbone="message passing",
                        position_encoding=encoding, layout=f"x (B, N, {spec.domain.channels}), adj (B, N, N)",
                        reasons=reasons)
    return _finish(spec, symmetry, arch, (DEFAULT_TOKEN_WIDTH,) * depth, f"{DEFAULT_TOKEN_WIDTH} features per node",
                   "features per node")


def point_cloud_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                             dtype: str = "float32") -> Architecture:
    reasons: dict[str, str] = {}
    size = spec.domain.shape or (DEFAULT_ELEMENTS,)
    reasons["input"] = ("N points from the spec; any N works at run time" if spec.domain.shape else
                        f"any N works; costs assume {size[0]} points")
    vector = any(o.kind == "vector" for o in spec.outputs)
    reasons["backbone"] = ("message passing, EGNN-style: messages from invariant distances" +
                           (" and signed volumes/areas (rotation-only group: mirror images must stay apart)"
                            if symmetry.rigid[:1] == "S" else "") +
                           ("; coordinates updated along differences of points for the vector output" if vector
                            else ""))
    encoding = _point_encoding(spec, reasons)
    reasons["pooling"] = "mean over points for invariant outputs"
    depth = _depth(spec, 3, reasons)
    channels = spec.domain.channels
    features = f", features (B, N, {channels})" if channels else ""
    arch = Architecture(widths=(), kernels=(), downsample_after=(), input_size=size, norm="layer",
                        activation=spec.hints.activation or "silu", pooling="mean", backbone="message passing",
                        position_encoding=encoding, layout=f"pos (B, N, {spec.domain.dim}){features}", reasons=reasons)
    return _finish(spec, symmetry, arch, (32,) * depth, "32 features per point", "features per point")


def volume_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                        dtype: str = "float32") -> Architecture:
    reasons: dict[str, str] = {}
    size = tuple(spec.domain.shape) if spec.domain.shape else DEFAULT_VOLUME
    reasons["input"] = ("size from the spec" if spec.domain.shape else
                        f"any size works; costs assume {'x'.join(map(str, size))}")
    reasons["backbone"] = "conv: regular group convolutions over the cube group's elements on the 3D grid"
    depth = _depth(spec, 3, reasons)
    if spec.hints.kernel is not None:
        kernels = spec.hints.kernel * depth if len(spec.hints.kernel) == 1 else spec.hints.kernel
        reasons["kernel"] = "kernel hint"
    else:
        kernels = (3,) * depth
        reasons["kernel"] = "3: a 3D filter costs k^3 per group element"
    if any(o.kind == "equivariant" for o in spec.outputs):
        downsample = ()
        reasons["downsample"] = "none: an equivariant output keeps the input's resolution"
    else:
        side = min(size)
        count = max(0, min(depth - 1, 2, int(math.log2(side / SMALLEST_POOLED_VOLUME_SIDE)) if side >= 8 else 0))
        downsample = tuple(range(count))
        reasons["downsample"] = (f"halve {count} time(s), windows symmetric about the centre for odd and even sizes"
                                 if count else "none: the input is small")
    downsample = hinted_downsampling(spec, depth, downsample, reasons, keeps_size=(
        "an equivariant output keeps the input's resolution" if any(o.kind == "equivariant" for o in spec.outputs)
        else ""))
    pooling = spec.hints.pooling or "max"
    reasons["pooling"] = f"{pooling} pooling" + (" (hint)" if spec.hints.pooling else ": exact for cube symmetries")
    arch = Architecture(widths=(), kernels=tuple(kernels), downsample_after=downsample, input_size=size,
                        norm=spec.hints.norm or "batch", activation=spec.hints.activation or "relu",
                        pooling=pooling, boundary=spec.hints.boundary or "zero", backbone="conv",
                        group_pooling=invariant_group_pooling(spec, symmetry, reasons),
                        layout=f"(B, {spec.domain.channels}, D, H, W)",
                        paddings=grid_paddings(spec, kernels, reasons), reasons=reasons)
    arch = fit_sizes(spec, arch)
    order = symmetry.order
    base = tuple(max(1, round(16 * 2 ** min(i, 2) / math.sqrt(order))) for i in range(depth))
    return _finish(spec, symmetry, arch, base, f"16..64 channels divided by sqrt(|G|) = sqrt({order})",
                   "regular fields")


# ---------------------------------------------------------------- images: finite groups or SO(2)/O(2)

STEERABLE_KERNEL = 5
DEFAULT_FREQUENCIES = 3


def image_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                       dtype: str = "float32") -> Architecture:
    """Regular group-conv networks for finite groups (symc.plan.sizing), steerable ones for SO(2) and O(2)."""
    if symmetry.rigid:
        return steerable_architecture(spec, symmetry, hardware, dtype)
    return choose_architecture(spec, symmetry, hardware, dtype)


def steerable_architecture(spec: Spec, symmetry: Symmetry, hardware: Hardware | None = None,
                           dtype: str = "float32") -> Architecture:
    """Depth, widths (copies of each irrep), kernels, band limit, nonlinearity and pooling of an SO(2)/O(2) model."""
    hints = spec.hints
    reasons: dict[str, str] = {}
    size = planning_size(spec, reasons)
    depth = _depth(spec, DEFAULT_DEPTH, reasons)
    if hints.kernel is not None:
        kernels = hints.kernel * depth if len(hints.kernel) == 1 else hints.kernel
        reasons["kernel"] = "kernel hint"
    else:
        kernels = (STEERABLE_KERNEL,) * depth
        reasons["kernel"] = (f"{STEERABLE_KERNEL} everywhere: rings at 1 and 2 pixels carry circular harmonics up "
                             "to 1 and 3; 3x3 filters hold one ring")
    outer = (min(kernels) - 1) // 2
    if hints.frequencies is not None:
        frequencies = hints.frequencies
        reasons["frequencies"] = "frequencies hint"
    else:
        top = ring_frequency(outer, MAX_FREQUENCIES)
        frequencies = max(1, min(DEFAULT_FREQUENCIES, top))
        reasons["frequencies"] = (f"{frequencies}: fields of frequencies 0..{frequencies}; the smallest kernel's "
                                  f"outer ring (radius {outer}) carries harmonics up to {top}, and frequency m "
                                  "couples to n through harmonics |m - n| and m + n")
    if hints.nonlinearity is not None:
        nonlinearity, reasons["nonlinearity"] = hints.nonlinearity, "nonlinearity hint"
    else:
        nonlinearity = "gated"
        reasons["nonlinearity"] = ("gated: each non-scalar field times the sigmoid of its own scalar gate, made by "
                                   "the same conv; keeps every field's representation exactly at every angle "
                                   "('nonlinearity norm' thresholds field lengths instead)")
    if any(o.kind == "equivariant" for o in spec.outputs):
        downsample = ()
        reasons["downsample"] = "none: an equivariant output keeps the input's resolution"
    else:
        downsample = halvings(size, depth, reasons)
    downsample = hinted_downsampling(spec, depth, downsample, reasons, keeps_size=(
        "an equivariant output keeps the input's resolution" if any(o.kind == "equivariant" for o in spec.outputs)
        else ""))
    reasons["pooling"] = ("blur pooling (binomial taps), the same on every channel: it commutes with the irreps' "
                          "channel mixing and is anti-aliased for rotations by any angle")
    arch = Architecture(widths=(), kernels=tuple(kernels), downsample_after=downsample, input_size=size,
                        norm=hints.norm or "batch", activation=hints.activation or "relu", pooling="blur",
                        frequencies=frequencies, nonlinearity=nonlinearity,
                        paddings=grid_paddings(spec, kernels, reasons), reasons=reasons)
    arch = fit_sizes(spec, arch)
    per_width = frequencies + 1 + (1 if symmetry.group.mirrors else 0)
    base = tuple(max(1, round(plain_channels(layer, depth) / per_width)) for layer in range(depth))
    default_reason = (f"plain-CNN channels 32..128 divided by the {per_width} irreps each width copies "
                      f"(frequencies 0..{frequencies}{', and the pseudoscalar' if symmetry.group.mirrors else ''})")
    return _finish(spec, symmetry, arch, base, default_reason, "copies of each irrep")
