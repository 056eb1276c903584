"""The IR: a networkx DiGraph of symmetry-typed operations.

Nodes are operations (`op` is one of OPS) with their settings; every edge carries the `FieldType` flowing along it:
which group the features transform under, how many fields, and their spatial size at the planning input size.
The graph is built from the declared symmetry and the architecture choices, never from text templates.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..spec.model import Spec
from .symmetry import Symmetry

OPS = ("input", "lift", "group_conv", "norm", "activation", "downsample", "group_pool", "global_pool",
       "field_linear", "head", "output")


@dataclass(frozen=True)
class FieldType:
    """What flows along an edge: `fields` copies of a representation of `group` on a grid of `spatial` size.

    `representation` is 'trivial' (one channel per field: plain channels or invariant scalars) or 'regular'
    (one channel per group element per field).
    """

    group: str
    order: int
    fields: int
    representation: str
    spatial: tuple[int, ...] = ()

    @property
    def channels(self) -> int:
        return self.fields * (self.order if self.representation == "regular" else 1)

    def shape(self) -> tuple[int, ...]:
        if self.representation == "regular" and not self.spatial:
            return (self.fields, self.order)
        return (self.channels, *self.spatial)

    def describe(self) -> str:
        size = "x".join(str(s) for s in self.spatial)
        kind = f"{self.fields} x {self.group}" if self.representation == "regular" else f"{self.fields} scalars"
        return f"{kind} @ {size}" if size else kind


@dataclass(frozen=True)
class Architecture:
    """Choices the IR is built from; each carries a reason in `reasons` (see symc.plan.sizing)."""

    widths: tuple[int, ...]
    kernels: tuple[int, ...]
    downsample_after: tuple[int, ...]
    input_size: tuple[int, int]
    norm: str = "batch"
    activation: str = "relu"
    pooling: str = "max"
    group_pooling: str = "max"
    head_hidden: int = 0
    boundary: str = "zero"
    reasons: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def min_size(self) -> int:
        return 2 ** len(self.downsample_after)


class GraphBuilder:
    """Appends operations in a chain (with branches for several outputs), typing every edge."""

    def __init__(self, symmetry: Symmetry):
        self.graph = nx.DiGraph()
        self.symmetry = symmetry
        self.count = 0
        self.stage = "trunk"  # 'trunk' for shared layers, 'output<i>' for the head of output i

    def add(self, op: str, after: str | None, out: FieldType, **attrs) -> str:
        assert op in OPS, op
        name = f"{self.count:02d}_{op}"
        self.count += 1
        self.graph.add_node(name, op=op, out=out, stage=self.stage, **attrs)
        if after is not None:
            self.graph.add_edge(after, name, field=self.graph.nodes[after]["out"])
        return name

    def regular(self, fields: int, spatial) -> FieldType:
        group = self.symmetry.group
        return FieldType(group.name, group.order, fields, "regular", tuple(spatial))

    def scalars(self, fields: int, spatial=()) -> FieldType:
        group = self.symmetry.group
        return FieldType(group.name, group.order, fields, "trivial", tuple(spatial))


def halve(size: int) -> int:
    """Spatial size after a symmetric down-sampling (see symc.nn.layers.SymmetricDownsample2d)."""
    return (size + 1) // 2


def build_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """The image network: lift, regular group-conv blocks, then one head branch per declared output."""
    b = GraphBuilder(symmetry)
    order = symmetry.order
    size = arch.input_size
    channels = spec.domain.channels
    node = b.add("input", None, b.scalars(channels, size), channels=channels)
    in_fields = channels
    for layer, (width, kernel) in enumerate(zip(arch.widths, arch.kernels)):
        if layer == 0:
            node = b.add("lift", node, b.regular(width, size), in_channels=channels, out_fields=width,
                         kernel=kernel, params=width * channels * kernel * kernel, layer=layer)
        else:
            node = b.add("group_conv", node, b.regular(width, size), in_fields=in_fields, out_fields=width,
                         kernel=kernel, params=width * in_fields * order * kernel * kernel, layer=layer)
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
        node = b.add("group_pool", trunk, b.scalars(fields, size), mode=arch.group_pooling, fields=fields, params=0)
        node = b.add("global_pool", node, b.scalars(fields), mode="mean", params=0)
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
