"""Source for grid models other than images: sequences with the conv backbone (1D) and volumes (3D).

The IR is the image network's (lift, regular group convs, pools, heads); the layers are symc/nn/grids.py's, and each
group element's spatial action is written out as (source axes, flips) in GROUP_SPATIAL.
"""
from __future__ import annotations

from ..plan.plan import Plan
from .common import ACTIVATIONS, assemble, head_expression, model_class, returns
from .image import _chains, _table_text, classes_text

INDENT = " " * 12


class _GridWriter:
    def __init__(self, plan: Plan):
        self.graph = plan.graph
        self.boundary = plan.architecture.boundary
        self.used: set[str] = {"check_grid_input"}

    def expression(self, node: str) -> str | None:
        data = self.graph.nodes[node]
        op = data["op"]
        options = f', boundary="{self.boundary}"' if self.boundary != "zero" else ""
        if data.get("algorithm") == "fft":
            options += ', algorithm="fft"'
        if op == "lift":
            self.used.add("RegularConvNd")
            return (f"RegularConvNd({data['in_channels']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL"
                    f"{options})")
        if op == "group_conv":
            self.used.add("RegularConvNd")
            bias = ", bias=True" if data.get("bias") else ""
            return (f"RegularConvNd({data['in_fields']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, "
                    f"GROUP_TABLE{bias}{options})")
        if op == "norm":
            self.used.add("FieldNorm")
            return f'FieldNorm({data["fields"]}, GROUP_ORDER, "{data["kind"]}")'
        if op == "activation":
            return ACTIVATIONS[data["kind"]]
        if op == "downsample":
            self.used.add("SymmetricDownsample3d")
            return f'SymmetricDownsample3d("{data["mode"]}")'
        if op == "group_pool" and data["mode"] == "spectrum":
            self.used.add("GroupSpectrum")
            return f'GroupSpectrum({data["fields"]}, GROUP_ORDER, GROUP_TABLE, GROUP_CLASSES)'
        if op == "group_pool":
            self.used.add("FieldPool")
            return f'FieldPool({data["fields"]}, GROUP_ORDER, "{data["mode"]}")'
        if op == "global_pool":
            self.used.add("GlobalPool")
            return f'GlobalPool("{data["mode"]}")'
        if op == "head":
            return head_expression(data)
        if op == "output":
            return None
        raise ValueError(f"cannot emit IR operation {op!r} on a grid")

    def sequential(self, nodes: list[str]) -> str:
        lines = []
        for node in nodes:
            expression = self.expression(node)
            if expression is not None:
                lines.append(f"{INDENT}{expression},  # -> {self.graph.nodes[node]['out'].describe()}")
        return "torch.nn.Sequential(\n" + "\n".join(lines) + "\n        )"


def grid_spatial(plan: Plan) -> tuple:
    """(source axes, flips) of every group element on the grid's axes (identity first)."""
    group = plan.symmetry.group
    if plan.symmetry.domain == "volume":
        if group.order == 1:
            return (((0, 1, 2), (0, 0, 0)),)
        return tuple(group.axes(i) for i in range(group.order))
    return tuple(((0,), (group.spatial(i)[0],)) for i in range(group.order))  # time reversal = the mirror


def emit_grid_source(plan: Plan) -> str:
    spec = plan.spec
    group = plan.symmetry.group
    writer = _GridWriter(plan)
    trunk, heads = _chains(plan.graph)
    names = [f"output{i}_{plan.graph.nodes[h[-1]]['kind']}_head" if len(heads) > 1 else "head"
             for i, h in enumerate(heads)]
    features = writer.sequential(trunk)
    head_code = "\n".join(f"        self.{name} = {writer.sequential(chain)}" for name, chain in zip(names, heads))
    volume = plan.symmetry.domain == "volume"
    rank = 5 if volume else 3
    cube = volume and group.order > 1
    constants = (
        f"# The group {group.name} ({group.order} elements, identity first). Element g moves a map by reading output "
        "axis b\n# from input axis source[b], reversed where flips[b] is 1: GROUP_SPATIAL[g] = (source, flips).\n"
        f"GROUP_ORDER = {group.order}\n"
        f"GROUP_SPATIAL = {_table_text(grid_spatial(plan))}\n"
        "# GROUP_TABLE[g][h] = index of g^-1 h: element g moves a regular field as out[h] = g(in[GROUP_TABLE[g][h]]).\n"
        f"GROUP_TABLE = {_table_text(group.regular_table())}" + classes_text(plan))
    layout = plan.architecture.layout
    min_size = plan.min_size
    if plan.architecture.boundary == "circular":  # wrapping around: padding (direct) or the filter (FFT) must fit
        for _, data in plan.graph.nodes(data=True):
            if data["op"] in ("lift", "group_conv"):
                need = data["kernel"] if data.get("algorithm") == "fft" else data["kernel"] // 2
                min_size = max(min_size, need)
    model = model_class(
        plan, f"        self.features = {features}\n{head_code}", "x: torch.Tensor",
        f'        check_grid_input(x, {spec.domain.channels}, {rank}, {min_size}, "{layout}", {cube})\n'
        "        features = self.features(x)\n"
        + returns([f"self.{name}(features)" for name in names]))
    return assemble(plan, constants, writer.used, model)
