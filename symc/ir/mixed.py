"""Image IR pieces for mixed trivial/regular features and for position channels (see symc.ir.image)."""
from __future__ import annotations

from .fields import mixed_conv_params, position_features
from .graph import Architecture, GraphBuilder


def add_positions(b: GraphBuilder, node: str, channels: int, size, arch: Architecture) -> tuple[str, int]:
    """The position node that appends invariant position channels to the input; returns it and the new count."""
    features = position_features(arch.position_encoding, b.symmetry.group)
    count = len(features)
    area = 1
    for s in size:
        area *= s
    reason = (f"{count} channel(s) appended to the input: {', '.join(features)}; "
              + ("plain coordinates: no rotation or mirror to keep" if arch.position_encoding == "coordinates" else
                 "about the image centre, unchanged by the group, computed for the input's size in forward"))
    node = b.add("position", node, b.scalars(channels + count, size), kind=arch.position_encoding,
                 features=features, params=0, flops=12 * count * area, algorithm=arch.position_encoding,
                 reason=reason)
    return node, channels + count


def add_mixed_head(b: GraphBuilder, trunk: str, trivial: int, fields: int, size, arch: Architecture, index: int,
                   kind: str, k: int):
    """One output branch from mixed features (`trivial` trivial fields, `fields` regular fields)."""
    order = b.symmetry.order
    b.stage = f"output{index}"
    if kind == "invariant":
        node = b.add("group_pool", trunk, b.scalars(trivial + fields, size), mode=arch.group_pooling,
                     fields=fields, trivial=trivial, params=0)
        node = b.add("global_pool", node, b.scalars(trivial + fields), mode="mean", params=0)
        hidden, width = arch.head_hidden, trivial + fields
        node = b.add("head", node, b.scalars(k), in_features=width, hidden=hidden, out_features=k,
                     activation=arch.activation, params=(width * hidden + hidden + hidden * k + k) if hidden
                     else width * k + k)
    elif kind in ("equivariant", "fields"):
        node = b.add("group_conv", trunk, b.regular(k, size), in_trivial=trivial, in_fields=fields, out_trivial=0,
                     out_fields=k, kernel=1, params=mixed_conv_params(trivial, fields, 0, k, order, 1) + k,
                     bias=True)
        if kind == "equivariant":
            node = b.add("group_pool", node, b.scalars(k, size), mode="mean", fields=k, params=0)
    elif kind == "orientation":
        node = b.add("global_pool", trunk, b.mixed(trivial, fields, ()), mode="mean", params=0)
        node = b.add("field_linear", node, b.regular(k, ()), in_trivial=trivial, in_fields=fields, out_fields=k,
                     params=(trivial + fields) * k + k)
    else:  # pragma: no cover - symmetry analysis refuses other kinds first
        raise ValueError(kind)
    b.add("output", node, b.graph.nodes[node]["out"], index=index, kind=kind, params=0)
