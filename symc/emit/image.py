"""Standalone source for image models (CONTRACT §4). Pure text work: no torch import, deterministic."""
from __future__ import annotations

import networkx as nx

from ..version import __version__
from ..groups import has_hue, hue_of
from ..plan.plan import Plan
from .common import ACTIVATIONS, model_class
from .inline import HEADER_IMPORTS, layer_source
from .mixed import mixed_expression
from .scale import scale_expression

INDENT = " " * 12


def _tuple_text(values) -> str:
    items = ", ".join(str(v) for v in values)
    return f"({items},)" if len(values) == 1 else f"({items})"


def _table_text(rows, per_line: int = 1) -> str:
    lines = [f"    {_tuple_text(row)}," for row in rows]
    return "(\n" + "\n".join(lines) + "\n)"


class _ModelWriter:
    """Turns IR nodes into constructor expressions, remembering which runtime layers they use."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.graph = plan.graph
        self.used: set[str] = {"check_image_input"}

    def expression(self, node: str) -> list[str]:
        data = self.graph.nodes[node]
        op = data["op"]
        mixed = mixed_expression(self, data)  # trivial fields or position channels
        if mixed is not None:
            return mixed
        if op == "lift":
            if has_hue(self.plan.symmetry.group):
                self.used.add("HueLift2d")
                return [f"HueLift2d({data['in_channels']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, "
                        f"GROUP_HUE{self.conv_options(data)})"]
            self.used.add("GroupLift2d")
            return [f"GroupLift2d({data['in_channels']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL"
                    f"{self.conv_options(data)})"]
        if op == "group_conv":
            self.used.add("GroupConv2d")
            bias = ", bias=True" if data.get("bias") else ""
            return [f"GroupConv2d({data['in_fields']}, {data['out_fields']}, {data['kernel']}, GROUP_SPATIAL, "
                    f"GROUP_TABLE{bias}{self.conv_options(data)})"]
        if op in ("scale_lift", "scale_conv", "scale_pool"):
            return scale_expression(self.used, data)
        if op == "norm":
            self.used.add("FieldNorm2d")
            return [f'FieldNorm2d({data["fields"]}, GROUP_ORDER, "{data["kind"]}")']
        if op == "activation":
            return [ACTIVATIONS[data["kind"]]]
        if op == "downsample":
            self.used.add("SymmetricDownsample2d")
            return [f'SymmetricDownsample2d("{data["mode"]}")']
        if op == "group_pool" and data["mode"] == "spectrum":
            self.used.add("GroupSpectrum")
            return [f'GroupSpectrum({data["fields"]}, GROUP_ORDER, GROUP_TABLE, GROUP_CLASSES)']
        if op == "group_pool":
            self.used.add("GroupPool")
            return [f'GroupPool({data["fields"]}, GROUP_ORDER, "{data["mode"]}")']
        if op == "global_pool":
            self.used.add("GlobalPool2d")
            return [f'GlobalPool2d("{data["mode"]}")']
        if op == "head":
            f, hidden, k = data["in_features"], data["hidden"], data["out_features"]
            if not hidden:
                return [f"torch.nn.Linear({f}, {k})"]
            return [f"torch.nn.Linear({f}, {hidden})", ACTIVATIONS[data["activation"]],
                    f"torch.nn.Linear({hidden}, {k})"]
        if op == "field_linear":
            self.used.add("FieldLinear")
            return [f"FieldLinear({data['in_fields']}, {data['out_fields']}, GROUP_ORDER)"]
        if op == "output":
            if data["kind"] == "fields":
                out = self.graph.nodes[node]["out"]
                return [f"torch.nn.Unflatten(1, ({out.fields}, GROUP_ORDER))"]
            return []
        raise ValueError(f"cannot emit IR operation {op!r}")

    @staticmethod
    def conv_options(data) -> str:
        """Non-default algorithm and memory format chosen by the planner."""
        options = ""
        if data.get("algorithm", "direct") != "direct":
            options += f', algorithm="{data["algorithm"]}"'
        if data.get("memory_format") == "channels_last":
            options += ", channels_last=True"
        return options

    def comment(self, node: str) -> str:
        out = self.graph.nodes[node]["out"]
        return out.describe()

    def sequential(self, nodes: list[str]) -> str:
        lines = []
        for node in nodes:
            expressions = self.expression(node)
            for i, expression in enumerate(expressions):
                comment = f"  # -> {self.comment(node)}" if i == len(expressions) - 1 else ""
                lines.append(f"{INDENT}{expression},{comment}")
        return "torch.nn.Sequential(\n" + "\n".join(lines) + "\n        )"


def _chains(graph: nx.DiGraph) -> tuple[list[str], list[list[str]]]:
    """The shared trunk and one chain per output (in output order), input and output markers left out."""
    order = [n for n in nx.topological_sort(graph) if graph.nodes[n]["op"] != "input"]
    trunk = [n for n in order if graph.nodes[n]["stage"] == "trunk"]
    outputs = sorted({graph.nodes[n]["stage"] for n in order} - {"trunk"}, key=lambda s: int(s[len("output"):]))
    return trunk, [[n for n in order if graph.nodes[n]["stage"] == stage] for stage in outputs]


def classes_text(plan) -> str:
    """GROUP_CLASSES for models that pool a spectrum over the group (nothing otherwise, so other files keep
    their text)."""
    if not any(d["op"] == "group_pool" and d["mode"] == "spectrum" for _, d in plan.graph.nodes(data=True)):
        return ""
    classes = plan.symmetry.group.real_classes()
    return ("\n# GROUP_CLASSES[g] = g's real conjugacy class (its class joined with its inverses'), numbered from 0;\n"
            "# an invariant head keeps one length per class from each field's spectrum over the group.\n"
            f"GROUP_CLASSES = {list(classes)}")


def _hue_text(group) -> str:
    """GROUP_HUE for groups with hue rotations (nothing otherwise, so other files keep their text)."""
    if not has_hue(group):
        return ""
    k = hue_of(group, 0)[1]
    return ("\n# Hue: element i also turns each pixel's RGB vector by 360*step/k degrees about (1, 1, 1)/sqrt(3)\n"
            f"# (120 degrees sends red to green); (step, k) per element. Element i is rotation/mirror element i // {k}\n"
            f"# (numbered m*n + r) with hue step i % {k}; GROUP_SPATIAL repeats each spatial part {k} times.\n"
            f"GROUP_HUE = {_table_text([hue_of(group, i) for i in range(group.order)])}")


def emit_image_source(plan: Plan) -> str:
    spec = plan.spec
    group = plan.symmetry.group
    writer = _ModelWriter(plan)
    trunk, heads = _chains(plan.graph)
    features = writer.sequential(trunk)
    head_names = [f"output{i}_{plan.graph.nodes[h[-1]]['kind']}_head" if len(heads) > 1 else "head"
                  for i, h in enumerate(heads)]
    head_code = [f"        self.{name} = {writer.sequential(chain)}" for name, chain in zip(head_names, heads)]
    channels = spec.domain.channels
    layout = f"(B, {channels}, H, W)"
    if len(heads) == 1:
        returns = f"        return self.{head_names[0]}(features)"
    else:
        returns = "        return (" + ", ".join(f"self.{n}(features)" for n in head_names) + ")"
    spatial = tuple(group.spatial(i) for i in range(group.order))
    spec_text = spec.normalized()
    parts = [
        f"# Generated by symc {__version__} from the spec:\n#     {spec_text}\n"
        "# Standalone: it needs torch alone. Regenerate it with `symc compile` rather than editing it.",
        f'"""{plan.symmetry.describe()}: {plan.exactness()}.\n\n'
        f"Input {layout} with H, W >= {plan.min_size}; {plan.params:,} parameters.\n\"\"\"",
        "\n".join(HEADER_IMPORTS[:1]) + "\n\n" + "\n".join(HEADER_IMPORTS[1:]),
        f"SPEC = {spec_text!r}\n\n"
        f"# The group {group.name}: element i first mirrors left-right (if mirror), then rotates by 360*r/n degrees\n"
        "# in the direction of torch.rot90(x, 1, dims=(-2, -1)); (mirror, r, n) per element, identity first.\n"
        f"GROUP_ORDER = {group.order}\n"
        f"GROUP_SPATIAL = {_table_text(spatial)}\n"
        "# GROUP_TABLE[g][h] = index of g^-1 h: element g moves a regular field as out[h] = g(in[GROUP_TABLE[g][h]]).\n"
        f"GROUP_TABLE = {_table_text(group.regular_table())}" + _hue_text(group) + classes_text(plan),
    ]
    model = model_class(
        plan, f"        self.features = {features}\n" + "\n".join(head_code), "x: torch.Tensor",
        f'        check_image_input(x, {channels}, {plan.min_size}, "{layout}")\n'
        "        features = self.features(x)\n"
        f"{returns}\n"
    )
    parts.append(layer_source(writer.used))
    parts.append(model)
    return "\n\n\n".join(parts[:3]) + "\n\n" + "\n\n\n".join(parts[3:])
