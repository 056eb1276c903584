"""The Plan: the IR with shapes, parameters, FLOPs, memory and every choice with its reason."""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ..ir.graph import Architecture, FieldType, build_ir
from ..ir.symmetry import Symmetry, analyze
from ..spec.model import Spec
from .sizing import choose_architecture

BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
DIRECT_CONV_LIMIT = 11  # measured 2D CPU crossover: FFT only pays from about 11x11 kernels (PERF-FACTS)


@dataclass(frozen=True)
class LayerPlan:
    name: str
    op: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    field: str
    params: int
    flops: int
    memory: int
    algorithm: str
    reason: str


@dataclass(frozen=True)
class Plan:
    spec: Spec
    symmetry: Symmetry
    architecture: Architecture
    graph: nx.DiGraph
    layers: tuple[LayerPlan, ...]
    dtype: str

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def memory(self) -> int:
        return sum(layer.memory for layer in self.layers)

    @property
    def min_size(self) -> int:
        return self.architecture.min_size

    def exactness(self) -> str:
        if self.symmetry.right_angles_only:
            return "exact for every group element (rotations by multiples of 90 degrees and mirrors) at every size"
        return ("exact for the right-angle subgroup; other rotations steer band-limited filters "
                "and are approximate")

    def to_dict(self) -> dict:
        return {
            "spec": self.spec.normalized(),
            "group": self.symmetry.group.name,
            "order": self.symmetry.order,
            "exactness": self.exactness(),
            "min_size": self.min_size,
            "dtype": self.dtype,
            "choices": dict(sorted(self.architecture.reasons.items())),
            "layers": [layer.__dict__ | {"in_shape": list(layer.in_shape), "out_shape": list(layer.out_shape)}
                       for layer in self.layers],
            "totals": {"params": self.params, "flops": self.flops, "memory": self.memory},
        }

    def __str__(self) -> str:
        return render_table(self)


def make_plan(spec: Spec) -> Plan:
    """Pure: the spec's symmetry, architecture, IR, and per-layer costs (no torch)."""
    symmetry = analyze(spec)
    architects = {"image": choose_architecture}
    arch = architects[symmetry.domain](spec, symmetry)
    graph = build_ir(spec, symmetry, arch)
    dtype = spec.hints.dtype or "float32"
    layers = tuple(_layer_plan(graph, name, dtype) for name in nx.topological_sort(graph))
    return Plan(spec=spec, symmetry=symmetry, architecture=arch, graph=graph, layers=layers, dtype=dtype)


def _numel(shape) -> int:
    total = 1
    for s in shape:
        total *= s
    return total


def _layer_plan(graph: nx.DiGraph, name: str, dtype: str) -> LayerPlan:
    data = graph.nodes[name]
    out: FieldType = data["out"]
    preds = list(graph.predecessors(name))
    inp: FieldType = graph.nodes[preds[0]]["out"] if preds else out
    op = data["op"]
    out_elems = _numel(out.shape())
    in_elems = _numel(inp.shape())
    spatial = _numel(out.spatial) if out.spatial else 1
    flops, algorithm, reason = 0, "", ""
    if op in ("lift", "group_conv"):
        k = data["kernel"]
        flops = 2 * out.channels * inp.channels * k * k * spatial
        algorithm = "direct"
        reason = (f"{k}x{k} kernel is below the ~{DIRECT_CONV_LIMIT}x{DIRECT_CONV_LIMIT} FFT crossover; "
                  f"filters expanded from {data['params']:,} base weights, cached in eval")
    elif op == "norm":
        flops, algorithm, reason = 4 * out_elems, data["kind"], "one mean/variance per field, shared by its group axis"
    elif op == "activation":
        flops, algorithm, reason = out_elems, data["kind"], "pointwise: commutes with every permutation of the group axis"
    elif op == "downsample":
        flops, algorithm = 4 * out_elems, f"{data['mode']} pool"
        reason = "windows centred symmetrically about the image centre for odd and even sizes"
    elif op == "group_pool":
        flops, algorithm, reason = in_elems, data["mode"], "over the group axis: invariant scalars"
    elif op == "global_pool":
        flops, algorithm, reason = in_elems, data["mode"], "over all positions: invariant to the grid's symmetries"
    elif op == "head":
        hidden, k, f = data["hidden"], data["out_features"], data["in_features"]
        flops = 2 * (f * hidden + hidden * k) if hidden else 2 * f * k
        algorithm, reason = "mlp", "acts on invariant features only"
    elif op == "field_linear":
        flops = 2 * data["in_fields"] * data["out_fields"] * out.order
        algorithm, reason = "linear", "one matrix shared by all group elements: scores permute with the input"
    elif op == "input":
        reason = "validated in forward"
    memory = out_elems * BYTES[dtype] if op not in ("input", "output") else 0
    return LayerPlan(name=name, op=op, in_shape=inp.shape(), out_shape=out.shape(), field=out.describe(),
                     params=data.get("params", 0), flops=flops, memory=memory, algorithm=algorithm, reason=reason)


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(int(n))


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape)


def render_table(plan: Plan) -> str:
    arch = plan.architecture
    h, w = arch.input_size
    lines = [
        f"spec:      {plan.spec.normalized()}",
        f"symmetry:  {plan.symmetry.describe()}; {plan.exactness()}",
        f"input:     (B, {plan.spec.domain.channels}, H, W), H and W >= {plan.min_size}; costs per sample at {h}x{w}, "
        f"{plan.dtype}",
        "",
    ]
    header = ("layer", "op", "in", "out", "fields", "params", "FLOPs", "memory", "choice", "reason")
    rows = [header] + [(
        layer.name, layer.op, _shape_text(layer.in_shape), _shape_text(layer.out_shape), layer.field,
        f"{layer.params:,}", _human(layer.flops), _human(layer.memory) + "B", layer.algorithm, layer.reason)
        for layer in plan.layers]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1])
    lines.append("")
    lines.append(f"total:     {plan.params:,} parameters, {_human(plan.flops)}FLOPs forward per sample, "
                 f"{_human(plan.memory)}B activations per sample")
    lines.append("choices:")
    for key in ("input", "depth", "widths", "kernel", "downsample", "pooling"):
        if key in arch.reasons:
            lines.append(f"  {key}: {arch.reasons[key]}")
    lines.append(f"  widths (fields): {', '.join(str(x) for x in arch.widths)}; kernels: "
                 f"{', '.join(str(x) for x in arch.kernels)}")
    return "\n".join(lines)
