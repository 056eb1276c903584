"""Source for sequence models (B, C, L): the 1D grid network (conv backbone) or attention over positions."""
from __future__ import annotations

from ..plan.plan import Plan
from .common import assemble, model_class, returns, token_heads
from .grid import chains, emit_grid_source


def emit_sequence_source(plan: Plan) -> str:
    if plan.architecture.backbone == "conv":
        return emit_grid_source(plan)
    return emit_attention_source(plan)


def attention_blocks(plan: Plan, trunk: list[str], used: set[str]) -> list[str]:
    """Constructor lines of the embedding, absolute positions (if any) and attention blocks."""
    graph = plan.graph
    lines = []
    blocks = []
    for node in trunk:
        data = graph.nodes[node]
        if data["op"] == "embed":
            lines.append(f"        self.embed = torch.nn.Linear({data['in_features']}, {data['out_features']})")
        elif data["op"] == "position":
            used.add("PositionEncoding")
            lines.append(f'        self.position = PositionEncoding("{data["kind"]}", {data["width"]}, '
                         f'{data["length"]}, symmetric={data["symmetric"]})')
        elif data["op"] == "attention":
            used.add("AttentionBlock")
            rotary = ', rotary="rotary"' if data["rotary"] else ""
            flags = "".join(f", {flag}=True" for flag in ("circular", "symmetric") if data[flag] and data["rotary"])
            blocks.append(f'            AttentionBlock({data["width"]}, {data["heads"]}, "{data["activation"]}"'
                          f'{rotary}{flags}),')
    lines.append("        self.blocks = torch.nn.ModuleList([\n" + "\n".join(blocks) + "\n        ])")
    return lines


def emit_attention_source(plan: Plan) -> str:
    spec = plan.spec
    used = {"check_input"}
    trunk, heads = chains(plan.graph)
    lines = attention_blocks(plan, trunk, used)
    head_lines, expressions = token_heads(plan, trunk, heads, "{}.transpose(1, 2)", "", used)
    position = any(plan.graph.nodes[n]["op"] == "position" for n in trunk)
    layout = plan.architecture.layout
    model = model_class(
        plan, "\n".join(lines + head_lines), "x: torch.Tensor",
        f'        check_input(x, {spec.domain.channels}, 3, 1, "{layout}")\n'
        "        h = self.embed(x.transpose(1, 2))  # (B, L, width): one token per position\n"
        + ("        h = self.position(h)\n" if position else "")
        + "        for block in self.blocks:\n"
        "            h = block(h)\n"
        + returns(expressions))
    return assemble(plan, "", used, model)
