"""Source for set models forward(x, mask=None) and graph models forward(x, adj)."""
from __future__ import annotations

from ..plan.plan import Plan
from .common import assemble, model_class, returns, token_heads
from .grid import chains
from .sequence import attention_blocks


def _blocks(plan: Plan, trunk: list[str], op: str, cls: str, used: set[str]) -> str:
    graph = plan.graph
    used.add(cls)
    rows = []
    for node in trunk:
        data = graph.nodes[node]
        if data["op"] != op:
            continue
        mode = f'"{data["mode"]}", ' if op == "deepsets" else ""
        rows.append(f'            {cls}({data["in_features"]}, {data["out_features"]}, {mode}'
                    f'activation="{data["activation"]}", norm={data["norm"]}),')
    return "        self.blocks = torch.nn.ModuleList([\n" + "\n".join(rows) + "\n        ])"


def emit_set_source(plan: Plan) -> str:
    spec = plan.spec
    used = {"check_set_input"}
    trunk, heads = chains(plan.graph)
    attention = plan.architecture.backbone == "attention"
    lines = attention_blocks(plan, trunk, used) if attention else [_blocks(plan, trunk, "deepsets", "DeepSetsBlock",
                                                                           used)]
    if any(plan.graph.nodes[h[-1]]["kind"] == "equivariant" for h in heads):
        used.add("zero_padded")
    head_lines, expressions = token_heads(plan, trunk, heads, "zero_padded({}, mask)", ", mask", used)
    layout = plan.architecture.layout
    model = model_class(
        plan, "\n".join(lines + head_lines), "x: torch.Tensor, mask: torch.Tensor | None = None",
        '        """x (B, N, C); mask (B, N) bool, True for real elements (padded ones are ignored)."""\n'
        f'        check_set_input(x, mask, {spec.domain.channels}, "{layout}")\n'
        + ("        h = self.embed(x)\n" if attention else "        h = x\n")
        + "        for block in self.blocks:\n"
        "            h = block(h, mask)\n"
        + returns(expressions))
    return assemble(plan, "", used, model)


def emit_graph_source(plan: Plan) -> str:
    spec = plan.spec
    used = {"check_graph_input"}
    trunk, heads = chains(plan.graph)
    lines = [_blocks(plan, trunk, "message_passing", "MessagePassingBlock", used)]
    head_lines, expressions = token_heads(plan, trunk, heads, "{}", "", used)
    layout = plan.architecture.layout
    model = model_class(
        plan, "\n".join(lines + head_lines), "x: torch.Tensor, adj: torch.Tensor",
        '        """x (B, N, C) node features; adj (B, N, N) dense adjacency (weights allowed)."""\n'
        f'        check_graph_input(x, adj, {spec.domain.channels}, "{layout}")\n'
        "        h = x\n"
        "        for block in self.blocks:\n"
        "            h = block(h, adj)\n"
        + returns(expressions))
    return assemble(plan, "", used, model)
