"""The Plan: the IR with shapes, parameters, FLOPs, memory and every choice with its reason."""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ..domains import hook
from ..ir.graph import Architecture, FieldType, build_ir
from ..ir.ops import OPS, numel
from ..ir.symmetry import Symmetry, analyze
from ..spec.errors import SpecError
from ..spec.model import Spec
from .approximate import add_free_paths, approximate_text, penalty_weight
from .cost import DTYPE_BYTES, ConvShape, TrainingMemory, choose_conv, direct_flops, training_memory
from .hardware import Hardware, TargetError, resolve
from .scale import scale_conv_cost

DEFAULT_BATCH = 8


@dataclass(frozen=True)
class LayerPlan:
    name: str
    op: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    field: str
    params: int
    flops: int                # forward FLOPs per sample
    memory: int               # activation bytes per sample kept for backward
    time: float               # estimated seconds of forward + backward for the plan's batch on the target
    algorithm: str
    reason: str
    memory_format: str = ""
    measured: tuple = ()      # autotune: ((candidate, seconds), ...) when measured
    free_params: int = 0      # approximate symmetries: the free path's parameters beside the equivariant `params`


@dataclass(frozen=True)
class Plan:
    spec: Spec
    symmetry: Symmetry
    architecture: Architecture
    graph: nx.DiGraph
    layers: tuple[LayerPlan, ...]
    dtype: str
    hardware: Hardware
    batch: int
    autotuned: bool = False
    penalty: float = 0.0
    """Approximate symmetries: the weight of `symmetry_penalty()`, and why (0 and '' without them)."""
    penalty_reason: str = ""

    @property
    def params(self) -> int:
        return sum(layer.params + layer.free_params for layer in self.layers)

    @property
    def free_params(self) -> int:
        return sum(layer.free_params for layer in self.layers)

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    @property
    def memory(self) -> int:
        return sum(layer.memory for layer in self.layers)

    @property
    def time(self) -> float:
        return sum(layer.time for layer in self.layers)

    @property
    def training_memory(self) -> TrainingMemory:
        return training_memory(self.params, self.memory, self.hardware, self.dtype, self.batch)

    @property
    def min_size(self) -> int:
        return self.architecture.min_size

    def exactness(self) -> str:
        """How exactly the model respects each part of its group (each domain's analysis words it)."""
        if self.penalty_reason:
            return self.symmetry.exactness + f"; approximate: {approximate_text(self.spec)}"
        return self.symmetry.exactness

    def to_dict(self) -> dict:
        memory = self.training_memory
        return {
            "spec": self.spec.normalized(),
            "group": self.symmetry.group.name,
            "symmetry": self.symmetry.describe(),
            "order": self.symmetry.order,
            "exactness": self.exactness(),
            "min_size": self.min_size,
            "dtype": self.dtype,
            "target": self.hardware.name,
            "target_source": self.hardware.source,
            "batch": self.batch,
            "autotuned": self.autotuned,
            "choices": dict(sorted(self.architecture.reasons.items())),
            "layers": [layer.__dict__ | {"in_shape": list(layer.in_shape), "out_shape": list(layer.out_shape),
                                         "measured": dict(layer.measured)} for layer in self.layers],
            **({"penalty": {"weight": self.penalty, "reason": self.penalty_reason}} if self.penalty_reason else {}),
            "totals": {"params": self.params, "flops": self.flops, "memory": self.memory,
                       "train_step_seconds": self.time, "training_memory_bytes": memory.total,
                       "largest_batch": memory.largest_batch},
        }

    def to_dot(self) -> str:
        return render_dot(self)

    def __str__(self) -> str:
        return render_table(self)


def target_of(spec: Spec) -> Hardware:
    try:
        return resolve(spec.hints.target)
    except TargetError as error:
        located = spec.error("hint.target", str(error), error.suggestion)
        # The caret goes under the name (`target TPU`), not under the word `target`.
        written = spec.text and "hint.target" in spec.locations   # not a --target given on the command line
        source_line = spec.text.split("\n")[located.line - 1] if written else ""
        name_at = source_line.lower().find(spec.hints.target.lower(), located.column - 1)
        if name_at >= 0:
            located = SpecError(located.message, located.line, name_at + 1, spec.text, located.suggestion)
        raise located from None


def make_plan(spec: Spec) -> Plan:
    """Pure: the spec's symmetry, architecture, IR, and per-layer costs and choices for its target (no torch)."""
    symmetry = analyze(spec)
    hardware = target_of(spec)
    dtype = spec.hints.dtype or "float32"
    arch = hook(symmetry.domain, "architecture")(spec, symmetry, hardware, dtype)
    graph = build_ir(spec, symmetry, arch)
    add_free_paths(spec, symmetry, graph)
    batch = spec.hints.batch or DEFAULT_BATCH
    context = _Context(hardware, dtype, batch, spec.hints.conv or "auto")
    layers = tuple(_layer_plan(graph, name, context) for name in nx.topological_sort(graph))
    penalty, reason = penalty_weight(spec) if spec.approximate_kinds() else (0.0, "")
    return Plan(spec=spec, symmetry=symmetry, architecture=arch, graph=graph, layers=layers, dtype=dtype,
                hardware=hardware, batch=batch, penalty=penalty, penalty_reason=reason)


@dataclass(frozen=True)
class _Context:
    hardware: Hardware
    dtype: str
    batch: int
    conv: str


def conv_shape(graph: nx.DiGraph, name: str, batch: int) -> ConvShape:
    """The torch-level convolution an IR conv node runs: channels = fields x group order."""
    data = graph.nodes[name]
    return node_conv_shape(data, graph.nodes[next(iter(graph.predecessors(name)))]["out"], data["out"], batch)


def node_conv_shape(data, inp: FieldType, out: FieldType, batch: int) -> ConvShape:
    k = data["kernel"]
    return ConvShape(batch, inp.channels, out.channels, (k,) * len(out.spatial), tuple(out.spatial))


def _conv_choice(shape: ConvShape, context: _Context) -> tuple[str, float, str]:
    algorithm, times = choose_conv(shape, context.hardware, context.dtype)
    where = f"training step at batch {context.batch} on {context.hardware.name}"
    estimates = f"direct {times['direct'] * 1e3:.3g} ms, fft {times['fft'] * 1e3:.3g} ms per {where}"
    if context.conv != "auto":
        return context.conv, times[context.conv], f"conv {context.conv} hint ({estimates})"
    return algorithm, times[algorithm], f"faster by the cost model: {estimates}"


class _Costing:
    """What an op's cost needs of the planner: the target's cost model at the plan's batch (symc.ir.ops)."""

    def __init__(self, context: _Context):
        self.context = context
        self.batch = context.batch
        self.channels_last = context.hardware.memory_format == "channels_last"

    def conv(self, data, inp: FieldType, out: FieldType) -> tuple[int, str, float, str]:
        """(FLOPs per sample, algorithm, seconds of a training step, reason) of a grid convolution."""
        shape = node_conv_shape(data, inp, out, self.batch)
        algorithm, time, reason = _conv_choice(shape, self.context)
        return int(direct_flops(shape) // self.batch), algorithm, time, reason

    def scale_conv(self, data, inp: FieldType, out: FieldType) -> tuple[int, float, str]:
        return scale_conv_cost(data, inp, out, self.batch, self.context.hardware, self.context.dtype)


def _layer_plan(graph: nx.DiGraph, name: str, context: _Context) -> LayerPlan:
    data = graph.nodes[name]
    out: FieldType = data["out"]
    preds = list(graph.predecessors(name))
    inp: FieldType = graph.nodes[preds[0]]["out"] if preds else out
    op = OPS[data["op"]]
    cost = op.cost(data, inp, out, _Costing(context))
    if op.tuned:  # the emitter writes the planner's choice
        data["algorithm"], data["memory_format"] = cost.algorithm, cost.memory_format
    size = DTYPE_BYTES[context.dtype]
    out_elems, in_elems = numel(out.shape()), numel(inp.shape())
    # Everything but convolutions is bound by memory traffic: read the input, write the output, three passes.
    time = cost.time if cost.time is not None else \
        3 * context.batch * (in_elems + out_elems) * size / context.hardware.bandwidth
    memory = out_elems * size if data["op"] not in ("input", "output") else 0
    return LayerPlan(name=name, op=data["op"], in_shape=inp.shape(), out_shape=out.shape(), field=out.describe(),
                     params=data.get("params", 0), flops=cost.flops, memory=memory, time=time,
                     algorithm=cost.algorithm, reason=cost.reason, memory_format=cost.memory_format,
                     free_params=data.get("free_params", 0))


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(int(n))


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape)


def _time_text(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f}ms"
    return f"{seconds * 1e6:.0f}us"


def render_table(plan: Plan) -> str:
    arch = plan.architecture
    size = "x".join(str(s) for s in arch.input_size)
    if arch.layout:  # other domains state their own layout; the sizes are L, N or DxHxW
        layout = f"{arch.layout}; FLOPs and memory per sample at size {size}"
    else:
        layout = (f"(B, {plan.spec.domain.channels}, H, W), H and W >= {plan.min_size}; FLOPs and memory per sample "
                  f"at {size}")
    memory = plan.training_memory
    lines = [
        f"spec:      {plan.spec.normalized()}",
        f"symmetry:  {plan.symmetry.describe()}; {plan.exactness()}",
        f"input:     {layout}, {plan.dtype}",
        f"target:    {plan.hardware.name} ({plan.hardware.source}); times are forward + backward at batch "
        f"{plan.batch}{', measured by autotune' if plan.autotuned else ', estimated by the cost model'}",
        "",
    ]
    header = ("layer", "op", "in", "out", "fields", "params", "FLOPs", "memory", "time", "choice", "reason")
    rows = [header] + [(
        layer.name, layer.op, _shape_text(layer.in_shape), _shape_text(layer.out_shape), layer.field,
        f"{layer.params:,}", _human(layer.flops), _human(layer.memory) + "B",
        _time_text(layer.time) if layer.time else "", layer.algorithm, layer.reason)
        for layer in plan.layers]
    if plan.penalty_reason:  # approximate symmetries: the free path's parameters beside the equivariant ones
        header = header[:6] + ("free params",) + header[6:]
        rows = [header] + [row[:6] + (f"{layer.free_params:,}",) + row[6:] for row, layer in zip(rows[1:], plan.layers)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1])
    lines.append("")
    lines.append(f"total:     {plan.params:,} parameters, {_human(plan.flops)}FLOPs forward per sample, "
                 f"{_human(plan.memory)}B activations per sample")
    if plan.penalty_reason:
        lines.append(f"free path: {plan.free_params:,} of the parameters (equivariant {plan.params - plan.free_params:,}), "
                     f"zero at initialization; symmetry_penalty() = {plan.penalty:g} x their sum of squares "
                     f"({plan.penalty_reason})")
    lines.append(f"training:  {_time_text(plan.time)} per step at batch {plan.batch}; memory "
                 f"{_human(memory.total)}B (parameters, gradients and Adam state {_human(memory.parameters * 4)}B, "
                 f"activations {_human(memory.activations_per_sample * plan.batch)}B); largest batch that fits "
                 f"{plan.hardware.name}'s {_human(plan.hardware.memory)}B: {memory.largest_batch:,}")
    lines.append("choices:")
    for key in ("input", "backbone", "neighbourhood", "radial range", "edge chunk", "position encoding", "heads",
                "boundary", "depth", "invariant fraction", "widths", "kernel", "padding", "frequencies", "nonlinearity", "scales", "downsample", "pooling", "alignment"):
        if key in arch.reasons:
            lines.append(f"  {key}: {arch.reasons[key]}")
    kernels = f"; kernels: {', '.join(str(x) for x in arch.kernels)}" if arch.kernels else ""
    sizes = "widths (fields)" if arch.kernels or not arch.layout else "widths per layer"
    lines.append(f"  {sizes}: {', '.join(str(x) for x in arch.widths)}{kernels}")
    return "\n".join(lines)


def render_dot(plan: Plan) -> str:
    """The IR as a Graphviz DOT graph: one box per operation, edges labelled with their field types."""
    lines = ["digraph symc {", '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=10];',
             f'  label="{plan.spec.normalized()}"; labelloc=t;']
    by_name = {layer.name: layer for layer in plan.layers}
    for name in plan.graph.nodes:
        layer = by_name[name]
        detail = f"\\n{layer.algorithm}" if layer.algorithm else ""
        lines.append(f'  "{name}" [label="{layer.op}{detail}\\n{_shape_text(layer.out_shape)}"];')
    for a, b, data in plan.graph.edges(data=True):
        lines.append(f'  "{a}" -> "{b}" [label="{data["field"].describe()}", fontsize=8];')
    lines.append("}")
    return "\n".join(lines) + "\n"
