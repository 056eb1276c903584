"""Source for grid models: images (2D), sequences with the conv backbone (1D) and volumes (3D). Pure text work.

Every grid network is the same IR (lift, group convs, norms, pools, heads; symc.ir.image) on grids of 1, 2 or 3 axes,
and the same N-d layers of symc/nn (GroupConv, FieldNorm, FieldPool, SymmetricDownsample, GlobalPool, FieldLinear,
the scale layers), which read one table: GROUP_MOVES, each element's move of the grid (symc.groups.moves).
"""
from __future__ import annotations

import networkx as nx

from ..domains import domain as domain_plugin
from ..groups import has_hue, hue_of
from ..groups.moves import grid_moves
from ..ir.fields import planar_kind
from ..ir.ops import OPS
from ..plan.plan import Plan
from .common import assemble, model_class, returns

INDENT = " " * 12


def _tuple_text(values) -> str:
    items = ", ".join(str(v) for v in values)
    return f"({items},)" if len(values) == 1 else f"({items})"


def _table_text(rows) -> str:
    lines = [f"    {_tuple_text(row)}," for row in rows]
    return "(\n" + "\n".join(lines) + "\n)"


def moves_text(group, dims: int) -> str:
    """GROUP_MOVES and the comment that explains it: one row per element, its name as the row's comment."""
    rows = []
    for i, move in enumerate(grid_moves(group, dims)):
        angle = repr(float(move.angle)) if move.angle else "0.0"   # no '-0.0' for mirrors at right angles
        rows.append(f"    ({_tuple_text(move.source)}, {_tuple_text(move.flips)}, {angle}),  "
                    f"# {group.element_name(i)}")
    if dims == 2:
        comment = ["GROUP_MOVES[g] = (source, flips, angle): how element g moves a map's grid and its filters.",
                   "First steer by `angle` radians in the plane of the last two axes (rotations by other than right",
                   "angles, through band-limited filters; 0 otherwise), then output axis b reads input axis",
                   "source[b], reversed where flips[b] is 1 (exact index moves). The axes are (row, column): a",
                   "quarter turn is torch.rot90(x, 1, dims=(-2, -1)), the mirror reverses the columns."]
    else:
        axes = "the one axis is time" if dims == 1 else "the axes are (D, H, W)"
        comment = ["GROUP_MOVES[g] = (source, flips, angle): how element g moves a map's grid and its filters:",
                   "output axis b reads input axis source[b], reversed where flips[b] is 1 (exact index moves;",
                   f"{axes}). The angle, a steering of image filters, is 0 here."]
    return "".join(f"# {line}\n" for line in comment) + "GROUP_MOVES = (\n" + "\n".join(rows) + "\n)"


def group_text(plan: Plan, dims: int) -> str:
    """GROUP_ORDER, GROUP_MOVES and GROUP_TABLE, then GROUP_HUE and GROUP_CLASSES for the models that use them."""
    group = plan.symmetry.group
    return (f"# The group {group.name} ({group.order} elements, identity first).\n"
            f"GROUP_ORDER = {group.order}\n"
            f"{moves_text(group, dims)}\n"
            "# GROUP_TABLE[g][h] = index of g^-1 h: element g moves a regular field as out[h] = g(in[GROUP_TABLE[g][h]]).\n"
            f"GROUP_TABLE = {_table_text(group.regular_table())}" + hue_text(group) + classes_text(plan))


def hue_text(group) -> str:
    """GROUP_HUE for groups with hue rotations (nothing otherwise, so other files keep their text)."""
    if not has_hue(group):
        return ""
    k = hue_of(group, 0)[1]
    return ("\n# Hue: element i also turns each pixel's RGB vector by 360*step/k degrees about (1, 1, 1)/sqrt(3)\n"
            f"# (120 degrees sends red to green); (step, k) per element. Element i is rotation/mirror element i // {k}\n"
            f"# (numbered m*n + r) with hue step i % {k}; GROUP_MOVES repeats each spatial move {k} times. The lifting\n"
            "# turns the RGB channels of its filters by these rotations (its channel actions).\n"
            f"GROUP_HUE = {_table_text([hue_of(group, i) for i in range(group.order)])}")


def classes_text(plan) -> str:
    """GROUP_CLASSES for models that pool a spectrum over the group (nothing otherwise, so other files keep
    their text)."""
    if not any(d["op"] == "group_pool" and d["mode"] == "spectrum" for _, d in plan.graph.nodes(data=True)):
        return ""
    classes = plan.symmetry.group.real_classes()
    return ("\n# GROUP_CLASSES[g] = g's real conjugacy class (its class joined with its inverses'), numbered from 0;\n"
            "# an invariant head keeps one length per class from each field's spectrum over the group.\n"
            f"GROUP_CLASSES = {list(classes)}")


class GridWriter:
    """Turns IR nodes into constructor expressions, remembering which runtime layers they use."""

    def __init__(self, plan: Plan, check: str):
        self.plan = plan
        self.graph = plan.graph
        self.group = plan.symmetry.group
        self.boundary = plan.architecture.boundary
        self.used: set[str] = {check}

    def conv_options(self, data) -> str:
        """Non-default boundary, algorithm and memory format chosen by the planner."""
        options = f', boundary="{self.boundary}"' if self.boundary != "zero" else ""
        if data.get("algorithm", "direct") != "direct":
            options += f', algorithm="{data["algorithm"]}"'
        if data.get("memory_format") == "channels_last":
            options += ", channels_last=True"
        return options

    def actions(self, op: str) -> str:
        """The channel action of the lifting under hue rotations: its RGB inputs turn (later layers see fields)."""
        if op in ("lift", "scale_lift") and has_hue(self.group):
            self.used.add("hue_rotations")
            return ", actions=hue_rotations(GROUP_HUE)"
        return ""

    def use(self, name: str) -> None:
        """Note a runtime definition the file needs inlined."""
        self.used.add(name)

    def planar_kind(self) -> tuple[str, int]:
        return planar_kind(self.group)

    def expression(self, node: str) -> list[str]:
        data = self.graph.nodes[node]
        return OPS[data["op"]].code(data, self)

    def sequential(self, nodes: list[str]) -> str:
        lines = []
        for node in nodes:
            expressions = self.expression(node)
            for i, expression in enumerate(expressions):
                comment = f"  # -> {self.graph.nodes[node]['out'].describe()}" if i == len(expressions) - 1 else ""
                lines.append(f"{INDENT}{expression},{comment}")
        return "torch.nn.Sequential(\n" + "\n".join(lines) + "\n        )"


def chains(graph: nx.DiGraph) -> tuple[list[str], list[list[str]]]:
    """The shared trunk and one chain per output (in output order), input and output markers left out."""
    order = [n for n in nx.topological_sort(graph) if graph.nodes[n]["op"] != "input"]
    trunk = [n for n in order if graph.nodes[n]["stage"] == "trunk"]
    outputs = sorted({graph.nodes[n]["stage"] for n in order} - {"trunk"}, key=lambda s: int(s[len("output"):]))
    return trunk, [[n for n in order if graph.nodes[n]["stage"] == stage] for stage in outputs]


def model_parts(plan: Plan, writer: GridWriter) -> tuple[str, list[str]]:
    """The constructor body (trunk and heads) and the forward expressions of the heads."""
    trunk, heads = chains(plan.graph)
    names = [f"output{i}_{plan.graph.nodes[h[-1]]['kind']}_head" if len(heads) > 1 else "head"
             for i, h in enumerate(heads)]
    features = writer.sequential(trunk)
    head_code = "\n".join(f"        self.{name} = {writer.sequential(chain)}" for name, chain in zip(names, heads))
    return f"        self.features = {features}\n{head_code}", [f"self.{name}(features)" for name in names]


def emit_grid_source(plan: Plan) -> str:
    """Sequences with the conv backbone and volumes (images: symc.emit.image)."""
    spec = plan.spec
    group = plan.symmetry.group
    dims = domain_plugin(plan.symmetry.domain).grid_dims
    writer = GridWriter(plan, "check_input")
    init_body, outputs = model_parts(plan, writer)
    # Elements that swap axes (cube turns) need equal sizes along them; mirrors and time reversal do not.
    cube = dims == 3 and any(move.source != tuple(range(dims)) for move in grid_moves(group, dims))
    min_size = plan.min_size
    if plan.architecture.boundary == "circular":  # wrapping around: padding (direct) or the filter (FFT) must fit
        for _, data in plan.graph.nodes(data=True):
            if data["op"] in ("lift", "group_conv"):
                need = data["kernel"] if data.get("algorithm") == "fft" else data["kernel"] // 2
                min_size = max(min_size, need)
    model = model_class(
        plan, init_body, "x: torch.Tensor",
        f'        check_input(x, {spec.domain.channels}, {dims + 2}, {min_size}, "{plan.architecture.layout}"'
        f'{", cube=True" if cube else ""})\n'
        "        features = self.features(x)\n"
        + returns(outputs))
    return assemble(plan, group_text(plan, dims), writer.used, model)
