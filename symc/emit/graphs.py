"""Source for sparse graph models forward(x, edge_index, edge_attr=None, batch=None) in PyG's flat layout: node
embedding, message passing in chunks of edges, heads pooled per graph or per node.

The graph plug-in's emit hook lands here; dense graphs (forward(x, adj)) are written by symc.emit.sets unchanged.
"""
from __future__ import annotations

from ..domains.graph import is_sparse
from ..plan.plan import Plan
from .common import assemble, head_expression, model_class, returns
from .grid import chains
from .sets import emit_graph_source


def emit_any_graph_source(plan: Plan) -> str:
    """Graphs: sparse with edge features or the `sparse` hint, dense (x, adj) otherwise."""
    if not is_sparse(plan.spec):
        return emit_graph_source(plan)
    return emit_sparse_graph_source(plan)


def emit_sparse_graph_source(plan: Plan) -> str:
    spec, graph, arch = plan.spec, plan.graph, plan.architecture
    channels, edge_channels = spec.domain.channels, spec.domain.edge_channels
    used = {"check_sparse_graph_input", "edges_by_target", "in_degree_scale", "SparseMessagePassing"}
    trunk, heads = chains(graph)
    embed = next(graph.nodes[n] for n in trunk if graph.nodes[n]["op"] == "embed")
    layers = [graph.nodes[n] for n in trunk if graph.nodes[n]["op"] == "message_passing"]
    constants = (f"EDGE_CHUNK = {arch.edge_chunk}  # edges whose messages are computed at once: bounds memory, "
                 "not the results")
    rows = [f'            SparseMessagePassing({d["in_features"]}, {d["out_features"]}, {d["edge_features"]}, '
            f'EDGE_CHUNK, activation="{d["activation"]}", norm="{d["norm"]}"),' for d in layers]
    lines = [f"        self.embed = torch.nn.Linear({embed['in_features']}, {embed['out_features']})",
             "        self.layers = torch.nn.ModuleList([\n" + "\n".join(rows) + "\n        ])"]
    expressions = []
    for index, chain in enumerate(heads):
        kind = graph.nodes[chain[-1]]["kind"]
        name = f"output{index}_{kind}_head" if len(heads) > 1 else "head"
        first = graph.nodes[chain[0]]
        if kind == "invariant":
            used.update({"graph_pool", "group_count"})
            lines.append(f"        self.{name} = {head_expression(graph.nodes[chain[1]])}")
            expressions.append(f'self.{name}(graph_pool(h, batch, graphs, "{first["mode"]}"))')
        else:
            lines.append(f"        self.{name} = torch.nn.Linear({first['in_features']}, {first['out_features']})")
            expressions.append(f"self.{name}(h)")
    pooled = "graph_pool" in used
    edges = f"; edge_attr (M, {edge_channels}) edge features" if edge_channels else ""
    signature = ("x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None, "
                 "batch: torch.Tensor | None = None")
    model = model_class(
        plan, "\n".join(lines), signature,
        f'        """x (N, {channels}) node features; edge_index (2, M) int64, row 0 the source j and row 1 the '
        f'target i of each edge (messages flow j -> i){edges}; batch (N,) the graph of each node (None: one '
        'graph)."""\n'
        f"        check_sparse_graph_input(x, edge_index, edge_attr, batch, {channels}, {edge_channels})\n"
        + ("        graphs = group_count(batch, x.shape[0])\n"
           "        if batch is None:\n"
           "            batch = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)\n" if pooled else "")
        + "        source, target, edge_attr = edges_by_target(edge_index, edge_attr)\n"
        "        scale = in_degree_scale(target, x.shape[0], x.dtype)  # 1 / sqrt(in-degree): the target's alone\n"
        "        h = self.embed(x)\n"
        "        for layer in self.layers:\n"
        "            h = layer(h, source, target, edge_attr, scale)\n"
        + returns(expressions))
    return assemble(plan, constants, used, model)
