"""Images under the continuous rotations of the plane, SO(2) or O(2): the symmetry analysis and the IR.

Features are fields of irreducible representations (symc.groups.circle): every layer holds `width` copies of each
irrep up to the band limit L; steerable convolutions (band-limited circular harmonics on Gaussian rings) map
between them, a gate or a norm nonlinearity keeps each field's representation, anti-aliased pooling halves the
grid, and invariant heads read scalars and the lengths of the other fields.
"""
from __future__ import annotations

import networkx as nx

from ..groups.circle import CircleGroup, CircleIrrep, TRIVIAL, filter_basis
from ..spec.model import Spec
from ..spec.normalize import factor_text
from .fields import conv_size, halve, layer_padding
from .graph import Architecture, GraphBuilder
from .symmetry import Symmetry

CONTINUOUS = ("SO", "O", "SE", "E")
STEERABLE_OUTPUTS = ("invariant", "equivariant", "orientation")
MAX_FREQUENCIES = 8
"""Highest band limit: a frequency-L field needs rings of radius L/2 to be made (symc.groups.circle)."""
HINTS_REFUSED = {
    "invariant_fraction": "every steerable layer already holds scalars beside its other fields",
    "position_encoding": "positions would break the rotations the group claims",
}


def is_continuous(spec: Spec) -> bool:
    """Whether an image spec names SO(2), O(2), SE(2) or E(2) without `discretized N`."""
    return any(factor.kind in CONTINUOUS for factor in spec.symmetry)


def analyze_steerable(spec: Spec) -> Symmetry:
    """The continuous rotation group of an image spec, after refusing what its models do not lower."""
    index, factor = next((i, f) for i, f in enumerate(spec.symmetry) if f.kind in CONTINUOUS)
    written = factor_text(factor)
    for other_index, other in enumerate(spec.symmetry):
        if other.kind not in CONTINUOUS + ("translation",):
            raise spec.error(f"symmetry.{other_index}", f"'{factor_text(other)}' with '{written}' is not supported "
                             f"yet: continuous rotation groups on images stand alone (with translations)")
    for output_index, output in enumerate(spec.outputs):
        if output.kind == "fields":
            raise spec.error(f"output.{output_index}", f"'equivariant output {output.size} fields' gives regular "
                             f"fields of a finite group, which {written} has not: use 'orientation output "
                             f"{output.size}' (directions that turn with the image), 'equivariant output "
                             f"{output.size}' (invariant maps), or '{written[:-3]}(2) discretized N'")
        if output.kind not in STEERABLE_OUTPUTS:
            raise spec.error(f"output.{output_index}", f"'{output.kind}' output is not supported on images")
    hints = spec.hints
    for name, why in HINTS_REFUSED.items():
        if getattr(hints, name) not in (None, "none", "auto"):
            raise spec.error(f"hint.{name}", f"the '{name.replace('_', ' ')}' hint does not apply to {written}: {why}")
    refused_values = {"pooling": (("max",), "max pooling of fields that are not scalars does not commute with "
                                         "rotations; use 'pooling avg' or leave it out"),
                      "conv": (("fft",), "steerable filters are small and assembled from their basis each step; "
                                      "use 'conv direct' or leave it out"),
                      "boundary": (("circular",), "wrapping around the edges does not commute with rotations "
                                               "about the centre"),
                      "norm": (("layer", "group"), "layer norm over all channels mixes the irreps; use 'norm batch' "
                                                   "or 'norm none'")}
    for name, (values, why) in refused_values.items():
        if getattr(hints, name) in values:
            raise spec.error(f"hint.{name}", f"'{name} {getattr(hints, name)}' does not fit {written}: {why}")
    if hints.backbone not in (None, "conv"):
        raise spec.error("hint.backbone", f"backbone '{hints.backbone}' does not fit images; supported: conv")
    if hints.frequencies is not None and hints.frequencies > MAX_FREQUENCIES:
        raise spec.error("hint.frequencies", f"'frequencies {hints.frequencies}' is above the highest band limit "
                         f"supported, {MAX_FREQUENCIES}")
    if not spec.outputs:
        raise spec.error("domain", "the spec lists no outputs")
    group = CircleGroup(mirrors=factor.kind in ("O", "E"))
    mirrors = "rotations by every angle and mirrors" if group.mirrors else "rotations by every angle"
    shifts = "translations" if spec.translation else "no translations"
    exactness = (f"exact for rotations by multiples of 90 degrees{' and mirrors' if group.mirrors else ''} at "
                 "every size; other angles through band-limited steerable filters, approximate only as far as a "
                 "rotated smooth image is sampled differently")
    return Symmetry(domain="image", group=group, translation=spec.translation, rigid=group.name,
                    summary=f"{group.name} ({mirrors}) with {shifts}", exactness=exactness)


# ---------------------------------------------------------------- field types and parameter counts

def layer_irreps(group: CircleGroup, width: int, frequencies: int) -> tuple[tuple[CircleIrrep, int], ...]:
    """`width` copies of every irrep up to `frequencies`, in channel order."""
    return tuple((irrep, width) for irrep in group.irreps(frequencies))


def gate_count(irreps) -> int:
    """Scalar gates a gated nonlinearity needs: one per field that is not a scalar."""
    return sum(n for irrep, n in irreps if irrep != TRIVIAL)


def conv_params(group: CircleGroup, in_irreps, out_irreps, kernel: int, frequencies: int) -> int:
    """Learned weights of a steerable conv: one per (out field, in field, basis filter), plus scalar biases."""
    total = 0
    for out, n_out in out_irreps:
        for into, n_in in in_irreps:
            total += n_out * n_in * len(filter_basis(out, into, kernel, group.mirrors, frequencies))
    return total + sum(n for irrep, n in out_irreps if irrep == TRIVIAL)


def _field_type(group: CircleGroup, irreps, spatial):
    counts: dict = {}
    for irrep, n in irreps:
        counts[irrep] = counts.get(irrep, 0) + n
    return group.field_type(counts, spatial)


# ---------------------------------------------------------------- the IR

def build_steerable_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    group: CircleGroup = symmetry.group
    L = arch.frequencies
    b = GraphBuilder(symmetry)
    size = arch.input_size
    channels = spec.domain.channels
    in_irreps = ((TRIVIAL, channels),)
    node = b.add("input", None, _field_type(group, in_irreps, size), channels=channels)
    gated = arch.nonlinearity == "gated"
    for layer, (width, kernel) in enumerate(zip(arch.widths, arch.kernels)):
        irreps = layer_irreps(group, width, L)
        conv_out = irreps + (((TRIVIAL, gate_count(irreps)),) if gated else ())
        padding = layer_padding(arch.kernels, arch.paddings, layer)
        size = tuple(conv_size(s, kernel, padding) for s in size)
        node = b.add("steer_conv", node, _field_type(group, conv_out, size), in_irreps=in_irreps,
                     out_irreps=conv_out, kernel=kernel, frequencies=L,
                     params=conv_params(group, in_irreps, conv_out, kernel, L), layer=layer,
                     **({"padding": padding} if padding != kernel // 2 else {}))
        if arch.norm != "none":
            node = b.add("irrep_norm", node, _field_type(group, conv_out, size), irreps=conv_out,
                         params=sum(n for _, n in conv_out) + sum(n for i, n in conv_out if i == TRIVIAL))
        out_type = _field_type(group, irreps, size)
        node = b.add("field_activation", node, out_type, kind=arch.nonlinearity, irreps=irreps,
                     activation=arch.activation, params=0 if gated else gate_count(irreps))
        if layer in arch.downsample_after:
            size = tuple(halve(s) for s in size)
            node = b.add("downsample", node, _field_type(group, irreps, size), mode="smooth", params=0)
        in_irreps = irreps
    trunk = node
    for index, output in enumerate(spec.outputs):
        _add_head(b, group, trunk, in_irreps, size, arch, index, output.kind, output.size)
    return b.graph


def _add_head(b: GraphBuilder, group: CircleGroup, trunk: str, irreps, size, arch: Architecture, index: int,
              kind: str, k: int) -> None:
    b.stage = f"output{index}"
    fields = sum(n for _, n in irreps)
    lengths = ((TRIVIAL, fields),)
    if kind == "invariant":
        node = b.add("invariant_lengths", trunk, _field_type(group, lengths, size), irreps=irreps, params=0)
        node = b.add("global_pool", node, _field_type(group, lengths, ()), mode="mean", params=0)
        hidden = arch.head_hidden
        node = b.add("head", node, _field_type(group, ((TRIVIAL, k),), ()), in_features=fields, hidden=hidden,
                     out_features=k, activation=arch.activation,
                     params=fields * hidden + hidden + hidden * k + k if hidden else fields * k + k)
    elif kind == "equivariant":
        node = b.add("invariant_lengths", trunk, _field_type(group, lengths, size), irreps=irreps, params=0)
        out = ((TRIVIAL, k),)
        node = b.add("steer_conv", node, _field_type(group, out, size), in_irreps=lengths, out_irreps=out,
                     kernel=1, frequencies=arch.frequencies,
                     params=conv_params(group, lengths, out, 1, arch.frequencies))
    elif kind == "orientation":
        out = ((CircleIrrep(1), k),)
        node = b.add("weighted_directions", trunk, _field_type(group, out, ()), in_irreps=irreps, out_fields=k,
                     kernel=1, params=conv_params(group, irreps, out, 1, arch.frequencies) + fields * k + k)
    else:  # pragma: no cover - analyze_steerable refuses other kinds first
        raise ValueError(kind)
    b.add("output", node, b.graph.nodes[node]["out"], index=index, kind=kind, params=0)
