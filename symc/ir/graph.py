"""The IR: a networkx DiGraph of symmetry-typed operations.

Nodes are operations (`op` names one of symc.ir.ops.OPS) with their settings; every edge carries the `FieldType` flowing along it
(symc.groups.fields): the direct sum of representations the features carry, and their spatial size at the planning
input size.
The graph is built from the declared symmetry and the architecture choices, never from text templates.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..domains import hook
from ..groups.fields import FieldType
from .ops import OPS
from ..spec.model import Spec
from .symmetry import Symmetry

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
    global_pooling: str = "mean"
    head_hidden: int = 0
    boundary: str = "zero"
    backbone: str = "conv"
    position_encoding: str = "none"
    heads: int = 0
    invariant_fraction: float = 0.0
    """Part of each image layer's width held as trivial (invariant) fields; see symc.ir.fields.split_width."""
    frequencies: int = 0
    """Band limit of continuous rotation groups: the highest irrep frequency the fields carry (0 otherwise)."""
    nonlinearity: str = ""
    """How continuous-group models act on fields that are not scalars: 'gated' or 'norm' ('' otherwise)."""
    layout: str = ""
    """The input layout as forward takes it, e.g. '(B, 2, L)'; empty for images."""
    cutoff: float = 0.0
    """Sparse point clouds: neighbours within this distance (0: none given)."""
    neighbours: int = 0
    """Sparse point clouds: the k nearest neighbours (0: none given)."""
    radial_range: float = 0.0
    """Sparse point clouds: the distance the radial basis spans (the cutoff, or a multiple of the length scale)."""
    edge_chunk: int = 0
    """Sparse models: edges whose messages are computed at once, sized to the target's memory (0: dense)."""
    paddings: tuple[int, ...] = ()
    """Grid convolutions: each layer's padding on each side; () when every layer keeps its size (kernel // 2)."""
    reasons: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def min_size(self) -> int:
        """The smallest input side every layer leaves at least one sample of."""
        need = 1
        for layer in reversed(range(len(self.paddings))):
            if layer in self.downsample_after:
                need *= 2
            need += self.kernels[layer] - 1 - 2 * self.paddings[layer]
        if not self.paddings:
            need = 2 ** len(self.downsample_after)
        return need


class GraphBuilder:
    """Appends operations in a chain (with branches for several outputs), typing every edge."""

    def __init__(self, symmetry: Symmetry):
        self.graph = nx.DiGraph()
        self.symmetry = symmetry
        self.count = 0
        self.stage = "trunk"  # 'trunk' for shared layers, 'output<i>' for the head of output i

    def add(self, op: str, after: str | None, out: FieldType, **attrs) -> str:
        assert op in OPS, op  # every operation is defined once, in symc.ir.ops
        name = f"{self.count:02d}_{op}"
        self.count += 1
        self.graph.add_node(name, op=op, out=out, stage=self.stage, **attrs)
        if after is not None:
            self.graph.add_edge(after, name, field=self.graph.nodes[after]["out"])
        return name

    def regular(self, fields: int, spatial) -> FieldType:
        group = self.symmetry.group
        return FieldType.of(group.name, group.order, regular_fields=fields, spatial=spatial, scales=self.symmetry.scales)

    def scalars(self, fields: int, spatial=(), scales: int = 1) -> FieldType:
        group = self.symmetry.group
        return FieldType.of(group.name, group.order, trivial=fields, spatial=spatial, scales=scales)

    def mixed(self, trivial: int, regular: int, spatial=()) -> FieldType:
        """Trivial fields then regular ones; a plain regular type when there are no trivial fields."""
        if not trivial:
            return self.regular(regular, spatial)
        group = self.symmetry.group
        return FieldType.of(group.name, group.order, trivial=trivial, regular_fields=regular, spatial=spatial,
                            keep_empty=True)


def build_ir(spec: Spec, symmetry: Symmetry, arch: Architecture) -> nx.DiGraph:
    """The IR for the spec's domain, from the builder its plug-in registers (symc.domains)."""
    return hook(symmetry.domain, "ir")(spec, symmetry, arch)
