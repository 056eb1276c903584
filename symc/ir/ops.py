"""The IR's operations, each owning what the later stages need of it.

An `Op` knows, for a node of its kind: its cost (FLOPs per sample, the algorithm chosen and why; its parameters are
set when the IR is built) and the constructor text a generated file holds for it. The planner and the emitter hand
in their own tools, a costing (the target's cost model) and a writer (which runtime layers a file uses, the
planner's options), so this module imports neither: stages stay in order, and one place per op says what it is.

Operations of token models (attention, deep sets, message passing, EGNN layers) carry their FLOPs and reason on the
node from their IR builders, and their domain emitters write them; they are listed here so every node has an op.
"""
from __future__ import annotations

from dataclasses import dataclass

ACTIVATIONS = {"relu": "torch.nn.ReLU()", "gelu": "torch.nn.GELU()", "silu": "torch.nn.SiLU()",
               "elu": "torch.nn.ELU()"}


@dataclass(frozen=True)
class Cost:
    flops: int = 0
    """Forward FLOPs per sample."""
    algorithm: str = ""
    reason: str = ""
    time: float | None = None
    """Seconds of a training step at the plan's batch; None: the memory-bound estimate of the planner."""
    memory_format: str = ""


def numel(shape) -> int:
    total = 1
    for s in shape:
        total *= s
    return total


def field_pair(data, trivial_key: str, regular_key: str) -> str:
    """A field type as the runtime layers take it: (trivial fields, regular fields)."""
    return f"({data.get(trivial_key, 0)}, {data[regular_key]})"


class Op:
    name = ""
    tuned = False
    """Whether the planner chooses an algorithm and memory format for it (written back onto the node)."""

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(data.get("flops", 0), data.get("algorithm", ""), data.get("reason", ""))

    def code(self, data, writer) -> list[str]:
        raise ValueError(f"cannot emit IR operation {self.name!r} on a grid")


OPS: dict[str, Op] = {}


def op(cls):
    """Register an Op class under its name."""
    OPS[cls.name] = cls()
    return cls


def token_op(name: str) -> None:
    OPS[name] = type(f"{name.title().replace('_', '')}Op", (Op,), {"name": name})()


# ---------------------------------------------------------------- markers

@op
class Input(Op):
    name = "input"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(reason="validated in forward", time=0.0)


@op
class Output(Op):
    name = "output"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(time=0.0)

    def code(self, data, writer) -> list[str]:
        if data["kind"] == "fields":
            return [f"torch.nn.Unflatten(1, ({data['out'].fields}, GROUP_ORDER))"]
        if data["kind"] == "orientation" and not data["out"].order:  # frequency-1 fields of SO(2)/O(2)
            return [f"torch.nn.Unflatten(1, ({data['out'].fields}, 2))"]
        return []


# ---------------------------------------------------------------- grid convolutions

class _Conv(Op):
    tuned = True

    def cost(self, data, inp, out, costing) -> Cost:
        flops, algorithm, time, reason = costing.conv(data, inp, out)
        if algorithm == "direct" and costing.channels_last:
            memory_format = "channels_last"
            reason += "; channels_last: the tensor cores' native layout"
        else:
            memory_format = "contiguous"
            if algorithm == "direct":
                reason += "; contiguous: channels_last backward is slow on CPUs (autotune measures both)"
        reason += f"; filters expanded from {data['params']:,} base weights, cached in eval"
        if "in_trivial" in data:
            reason += ("; mixed fields: symmetric (trivial->trivial), lifted, slot-moved (regular->trivial) and "
                       "group-conv blocks in one filter bank, one conv call")
        return Cost(flops, algorithm, reason, time, memory_format)

    def code(self, data, writer) -> list[str]:
        writer.use("GroupConv")
        if "in_trivial" in data:   # trivial fields on either side
            in_type, out_type = field_pair(data, "in_trivial", "in_fields"), field_pair(data, "out_trivial",
                                                                                        "out_fields")
        elif self.name == "lift":
            in_type, out_type = f"({data['in_channels']}, 0)", f"(0, {data['out_fields']})"
        else:
            in_type, out_type = f"(0, {data['in_fields']})", f"(0, {data['out_fields']})"
        bias = ", bias=True" if data.get("bias") else ""
        return [f"GroupConv({in_type}, {out_type}, {data['kernel']}, GROUP_MOVES, GROUP_TABLE"
                f"{writer.actions(self.name)}{bias}{writer.conv_options(data)}{free_options(data)}"
                f"{padding_option(data)})"]


def padding_option(data) -> str:
    """A padding other than 'same' (kernel // 2): the layer crops its output evenly about the centre."""
    return f", padding={data['padding']}" if "padding" in data else ""


def free_options(data) -> str:
    """The free path of approximate symmetries (symc.plan.approximate): a free bank and/or a position map, kept by
    the strict elements."""
    if not data.get("free") and not data.get("free_position"):
        return ""
    options = ", free=True" if data.get("free") else ""
    options += ", free_position=True" if data.get("free_position") else ""
    return options + f", strict={tuple(data['strict'])!r}"


@op
class Lift(_Conv):
    name = "lift"


@op
class GroupConvolution(_Conv):
    name = "group_conv"


@op
class ScaleLift(Op):
    name = "scale_lift"

    def cost(self, data, inp, out, costing) -> Cost:
        flops, time, reason = costing.scale_conv(data, inp, out)
        return Cost(flops, "direct", reason, time)

    def code(self, data, writer) -> list[str]:
        writer.use("ScaleLift")
        return [f"ScaleLift({data['in_channels']}, {data['out_fields']}, {data['kernel']}, GROUP_MOVES, "
                f"{data['scales']}{writer.actions(self.name)})"]


@op
class ScaleConv(ScaleLift):
    name = "scale_conv"

    def code(self, data, writer) -> list[str]:
        writer.use("ScaleGroupConv")
        return [f"ScaleGroupConv({data['in_fields']}, {data['out_fields']}, {data['kernel']}, GROUP_MOVES, "
                f"GROUP_TABLE, {data['scales']}, {data['window']})"]


# ---------------------------------------------------------------- pointwise, norms, pools

@op
class ScalePool(Op):
    name = "scale_pool"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(numel(inp.shape()), data["mode"], "over the scale axis: invariant to zooms by the step")

    def code(self, data, writer) -> list[str]:
        writer.use("ScalePool")
        return [f'ScalePool({data["scales"]}, "{data["mode"]}")']


@op
class Norm(Op):
    name = "norm"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(4 * numel(out.shape()), data["kind"], "one mean/variance per field, shared by its group axis")

    def code(self, data, writer) -> list[str]:
        writer.use("FieldNorm")
        return [f'FieldNorm({field_pair(data, "trivial", "fields")}, GROUP_ORDER, "{data["kind"]}")']


@op
class Activation(Op):
    name = "activation"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(numel(out.shape()), data["kind"], "pointwise: commutes with every permutation of the group axis")

    def code(self, data, writer) -> list[str]:
        return [ACTIVATIONS[data["kind"]]]


@op
class Downsample(Op):
    name = "downsample"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(4 * numel(out.shape()), f"{data['mode']} pool",
                    "windows centred symmetrically about the image centre for odd and even sizes")

    def code(self, data, writer) -> list[str]:
        writer.use("SymmetricDownsample")
        return [f'SymmetricDownsample("{data["mode"]}")']


@op
class GroupPool(Op):
    name = "group_pool"

    def cost(self, data, inp, out, costing) -> Cost:
        in_elems = numel(inp.shape())
        if data["mode"] == "spectrum":
            return Cost(2 * in_elems * out.order + 2 * in_elems, "spectrum",
                        f"length of each field in the group's {data['components']} isotypic components: invariant, "
                        "keeps how the response varies over the group")
        return Cost(in_elems, data["mode"], "over the group axis: invariant scalars")

    def code(self, data, writer) -> list[str]:
        if data["mode"] == "spectrum":
            writer.use("GroupSpectrum")
            return [f'GroupSpectrum({data["fields"]}, GROUP_ORDER, GROUP_TABLE, GROUP_CLASSES)']
        writer.use("FieldPool")
        return [f'FieldPool({field_pair(data, "trivial", "fields")}, GROUP_ORDER, "{data["mode"]}")']


@op
class GlobalPool(Op):
    name = "global_pool"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(numel(inp.shape()), data["mode"], "over all positions: invariant to the grid's symmetries")

    def code(self, data, writer) -> list[str]:
        writer.use("GlobalPool")
        return [f'GlobalPool("{data["mode"]}")']


@op
class Position(Op):
    """Position channels of images without translation (token models' positions are their emitters')."""

    name = "position"

    def code(self, data, writer) -> list[str]:
        writer.use("ImagePositions")
        if data["kind"] == "coordinates":
            return ['ImagePositions("coordinates")']
        kind, n = writer.planar_kind()
        return [f'ImagePositions("{kind}", {n})']


# ---------------------------------------------------------------- heads

@op
class Head(Op):
    name = "head"

    def cost(self, data, inp, out, costing) -> Cost:
        hidden, k, f = data["hidden"], data["out_features"], data["in_features"]
        flops = 2 * (f * hidden + hidden * k) if hidden else 2 * f * k
        return Cost(flops, "mlp", "acts on invariant features only")

    def code(self, data, writer) -> list[str]:
        f, hidden, k = data["in_features"], data["hidden"], data["out_features"]
        if not hidden:
            return [f"torch.nn.Linear({f}, {k})"]
        return [f"torch.nn.Linear({f}, {hidden})", ACTIVATIONS[data["activation"]], f"torch.nn.Linear({hidden}, {k})"]


@op
class FieldLinear(Op):
    name = "field_linear"

    def cost(self, data, inp, out, costing) -> Cost:
        flops = 2 * (data["in_fields"] * out.order + data.get("in_trivial", 0)) * data["out_fields"]
        return Cost(flops, "linear", "one matrix shared by all group elements: scores permute with the input")

    def code(self, data, writer) -> list[str]:
        writer.use("FieldLinear")
        return [f"FieldLinear({field_pair(data, 'in_trivial', 'in_fields')}, {data['out_fields']}, GROUP_ORDER)"]


# ---------------------------------------------------------------- steerable fields of SO(2) and O(2) (symc.ir.steerable)

def irreps_text(irreps) -> str:
    """Field blocks as the steerable layers take them: ((frequency, sign, count), ...)."""
    blocks = [f"({irrep.frequency}, {irrep.sign}, {n})" for irrep, n in irreps]
    return "(" + ", ".join(blocks) + (",)" if len(blocks) == 1 else ")")


@op
class SteerConv(Op):
    name = "steer_conv"
    tuned = True

    def cost(self, data, inp, out, costing) -> Cost:
        flops, _, time, reason = costing.conv(data, inp, out)
        reason = (f"{data['params']:,} weights on band-limited circular harmonics (frequencies up to "
                  f"{data['frequencies']}), assembled into one filter bank per step; " + reason)
        return Cost(flops, "direct", reason, time, "contiguous")

    def code(self, data, writer) -> list[str]:
        writer.use("SteerableConv")
        return [f"SteerableConv({irreps_text(data['in_irreps'])}, {irreps_text(data['out_irreps'])}, "
                f"{data['kernel']}, HARMONICS, RINGS[{data['kernel']}]{padding_option(data)})"]


@op
class IrrepNorm(Op):
    name = "irrep_norm"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(4 * numel(out.shape()), "batch", "scalars centred and scaled; other fields divided by their "
                    "RMS length, which no rotation or mirror changes")

    def code(self, data, writer) -> list[str]:
        writer.use("IrrepBatchNorm")
        return [f"IrrepBatchNorm({irreps_text(data['irreps'])})"]


@op
class FieldActivation(Op):
    name = "field_activation"

    def cost(self, data, inp, out, costing) -> Cost:
        if data["kind"] == "gated":
            return Cost(4 * numel(inp.shape()), "gated", "ReLU on scalars; other fields times the sigmoid of their "
                        "gate (an invariant scalar): exact at every angle")
        return Cost(4 * numel(inp.shape()), "norm", "ReLU on scalars; other fields' lengths thresholded, their "
                    "directions kept: exact at every angle")

    def code(self, data, writer) -> list[str]:
        layer = "GatedActivation" if data["kind"] == "gated" else "NormActivation"
        writer.use(layer)
        return [f"{layer}({irreps_text(data['irreps'])})"]


@op
class WeightedDirections(Op):
    name = "weighted_directions"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(6 * numel(inp.shape()), "softmax-weighted mean", "frequency-1 fields averaged with invariant "
                    "weights that move with the image: turns with it, and does not cancel as a plain mean does")

    def code(self, data, writer) -> list[str]:
        writer.use("WeightedDirections")
        return [f"WeightedDirections({irreps_text(data['in_irreps'])}, {data['out_fields']}, HARMONICS, RINGS[{data['kernel']}])"]


@op
class InvariantLengths(Op):
    name = "invariant_lengths"

    def cost(self, data, inp, out, costing) -> Cost:
        return Cost(3 * numel(inp.shape()), "lengths", "scalars kept, every other field's length: invariant")

    def code(self, data, writer) -> list[str]:
        writer.use("InvariantLengths")
        return [f"InvariantLengths({irreps_text(data['irreps'])})"]


for _name in ("embed", "attention", "deepsets", "message_passing", "egnn", "set_pool", "element_linear",
              "vector_head"):
    token_op(_name)
token_op("irreps_head")  # irreps of O(3) for point clouds
# sparse point clouds (symc/ir/sparse_points.py)
for _name in ("neighbour_search", "point_embed", "interaction", "cloud_pool", "gated_vectors", "sparse_irreps_head"):
    token_op(_name)
