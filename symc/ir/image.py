"""IR for images: lift, regular group-conv blocks, then one head branch per declared output."""
from __future__ import annotations

import networkx as nx

from ..spec.model import Spec
from .graph import Architecture, GraphBuilder
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
    in_fields = channels
    for layer, (width, kernel) in enumerate(zip(arch.widths, arch.kernels)):
        if symmetry.scales > 1:  # the same layer kept at every scale (symc.ir.scale)
            node = add_scale_conv(b, node, layer, channels if layer == 0 else in_fields, width, kernel, size)
        elif layer == 0:
            node = b.add("lift", node, b.regular(width, size), in_channels=channels, out_fields=width,
                         kernel=kernel, params=width * channels * kernel ** len(size), layer=layer)
        else:
            node = b.add("group_conv", node, b.regular(width, size), in_fields=in_fields, out_fields=width,
                         kernel=kernel, params=width * in_fields * order * kernel ** len(size),
                         layer=layer)
        if arch.norm != "none":
            node = b.add("norm", node, b.regular(width, size), kind=arch.norm, fields=width, params=2 * width)
        node = b.add("activation", node, b.regular(width, size), kind=arch.activation, params=0)
        if layer in arch.downsample_after:
            size = tuple(halve(s) for s in size)
            node = b.add("downsample", node, b.regular(width, size), mode=arch.pooling, params=0)
        in_fields = width
    trunk = node
    for index, output in enumerate(spec.outputs):
        _add_head(b, trunk, in_fields, size, arch, index, output.kind, output.size)
    return b.graph


def _add_head(b: GraphBuilder, trunk: str, fields: int, size, arch: Architecture, index: int, kind: str, k: int):
    order = b.symmetry.order
    b.stage = f"output{index}"
    if kind == "invariant":
        scales = b.symmetry.scales  # kept until pooled over
        node = b.add("group_pool", trunk, b.scalars(fields, size, scales), mode=arch.group_pooling, fields=fields,
                     params=0)
        node = b.add("global_pool", node, b.scalars(fields, (), scales), mode=arch.global_pooling, params=0)
        if scales > 1:
            node = add_scale_pool(b, node, fields)
        hidden = arch.head_hidden
        node = b.add("head", node, b.scalars(k), in_features=fields, hidden=hidden, out_features=k,
                     activation=arch.activation, params=(fields * hidden + hidden + hidden * k + k) if hidden
                     else fields * k + k)
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
