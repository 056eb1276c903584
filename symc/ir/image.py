"""IR for images: lift, regular group-conv blocks, then one head branch per declared output."""
from __future__ import annotations

import networkx as nx

from ..spec.model import Spec
from .fields import mixed_conv_params, split_width
from .graph import Architecture, GraphBuilder
from .mixed import add_mixed_head, add_positions
from .scale import add_scale_conv, add_scale_pool
from .symmetry import Symmetry


def halve(size: int) -> int:
    """Spatial size after a symmetric down-sampling (see symc.nn.layers.SymmetricDownsample2d)."""
    return (size + 1) // 2


def build_image_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """The image network: lift, regular group-conv blocks, then one head branch per declared output.

    Nothing here is two-dimensional but the planning size: sequences and volumes reuse it on their grids.
    """
    b = GraphBuilder(symmetry)
    order = symmetry.order
    size = arch.input_size
    channels = spec.domain.channels
    node = b.add("input", None, b.scalars(channels, size), channels=channels)
    if arch.position_encoding != "none" and symmetry.domain == "image":
        node, channels = add_positions(b, node, channels, size, arch)
    in_fields = channels
    in_trivial = 0
    for layer, (width, kernel) in enumerate(zip(arch.widths, arch.kernels)):
        trivial, regular = split_width(width, arch.invariant_fraction)
        if symmetry.scales > 1:  # the same layer kept at every scale (symc.ir.scale)
            node = add_scale_conv(b, node, layer, channels if layer == 0 else in_fields, width, kernel, size)
        elif trivial or (layer > 0 and in_trivial):  # trivial fields on either side: the four blocks of a mixed conv
            in_t, in_r = (channels, 0) if layer == 0 else (in_trivial, in_fields)
            node = b.add("lift" if layer == 0 else "group_conv", node, b.mixed(trivial, regular, size),
                         in_trivial=in_t, in_fields=in_r, out_trivial=trivial, out_fields=regular, kernel=kernel,
                         params=mixed_conv_params(in_t, in_r, trivial, regular, order, kernel ** len(size)),
                         layer=layer)
        elif layer == 0:
            node = b.add("lift", node, b.regular(width, size), in_channels=channels, out_fields=width,
                         kernel=kernel, params=width * channels * kernel ** len(size), layer=layer)
        else:
            node = b.add("group_conv", node, b.regular(width, size), in_fields=in_fields, out_fields=width,
                         kernel=kernel, params=width * in_fields * order * kernel ** len(size),
                         layer=layer)
        out = b.graph.nodes[node]["out"]
        if arch.norm != "none":
            node = b.add("norm", node, out, kind=arch.norm, fields=regular, params=2 * width,
                         **({"trivial": trivial} if trivial else {}))
        node = b.add("activation", node, out, kind=arch.activation, params=0)
        if layer in arch.downsample_after:
            size = tuple(halve(s) for s in size)
            node = b.add("downsample", node, b.mixed(trivial, regular, size), mode=arch.pooling, params=0)
        in_fields, in_trivial = regular, trivial
    trunk = node
    for index, output in enumerate(spec.outputs):
        if in_trivial:
            add_mixed_head(b, trunk, in_trivial, in_fields, size, arch, index, output.kind, output.size)
        else:
            _add_head(b, trunk, in_fields, size, arch, index, output.kind, output.size)
    return b.graph


def _add_head(b: GraphBuilder, trunk: str, fields: int, size, arch: Architecture, index: int, kind: str, k: int):
    order = b.symmetry.order
    b.stage = f"output{index}"
    if kind == "invariant" and arch.group_pooling == "spectrum":
        # Pool positions first, keeping each field's response at every group element, then keep the lengths of its
        # isotypic components (one per real class of the group): invariant, and richer than one max per field.
        components = b.symmetry.group.real_class_count()
        node = b.add("global_pool", trunk, b.regular(fields, ()), mode=arch.global_pooling, params=0)
        node = b.add("group_pool", node, b.scalars(fields * components), mode="spectrum", fields=fields,
                     components=components, params=0)
        # The hidden layer is as wide as its input, as a plain CNN's head is (its input is the last layer's width).
        node = _add_mlp_head(b, node, fields * components, fields * components, arch.activation, k)
    elif kind == "invariant":
        scales = b.symmetry.scales  # kept until pooled over
        node = b.add("group_pool", trunk, b.scalars(fields, size, scales), mode=arch.group_pooling, fields=fields,
                     params=0)
        node = b.add("global_pool", node, b.scalars(fields, (), scales), mode=arch.global_pooling, params=0)
        if scales > 1:
            node = add_scale_pool(b, node, fields)
        node = _add_mlp_head(b, node, fields, arch.head_hidden, arch.activation, k)
    elif kind == "equivariant":
        node = b.add("group_conv", trunk, b.regular(k, size), in_fields=fields, out_fields=k, kernel=1,
                     params=k * fields * order + k, bias=True)
        node = b.add("group_pool", node, b.scalars(k, size), mode="mean", fields=k, params=0)
    elif kind == "fields":
        node = b.add("group_conv", trunk, b.regular(k, size), in_fields=fields, out_fields=k, kernel=1,
                     params=k * fields * order + k, bias=True)
    elif kind == "orientation":
        node = b.add("global_pool", trunk, b.regular(fields, ()), mode="mean", params=0)
        node = b.add("field_linear", node, b.regular(k, ()), in_fields=fields, out_fields=k, params=fields * k + k)
    else:  # pragma: no cover - symmetry analysis refuses other kinds first
        raise ValueError(kind)
    b.add("output", node, b.graph.nodes[node]["out"], index=index, kind=kind, params=0)


def _add_mlp_head(b: GraphBuilder, node: str, features: int, hidden: int, activation: str, k: int) -> str:
    return b.add("head", node, b.scalars(k), in_features=features, hidden=hidden, out_features=k,
                 activation=activation, params=(features * hidden + hidden + hidden * k + k) if hidden
                 else features * k + k)
