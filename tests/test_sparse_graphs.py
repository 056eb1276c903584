"""Sparse graphs in PyG's flat layout (`graph with C features and E edge features`, or the `sparse` hint):
forward(x (N, C), edge_index (2, M), edge_attr (M, E), batch (N,)), outputs (G, K) per graph and (N, K) per node.

Shapes, batching (one graph alone = the same graph in a batch = per-graph calls), exact invariance under node
relabelling, edge reordering and graph relabelling (symc check, and in float64), input errors, chunked messages
with correct gradients, standalone and deterministic files, planted breaks the tester catches, dense graph specs
untouched, and a torch_geometric Batch fed directly.
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch

import symc
from symc.testing import EXACT_TOLERANCE, check, load_model_file

EDGES = "graph with 5 features and 3 edge features; permutation; invariant output 2; equivariant output 3; width 16"
NO_EDGES = "graph with 4 features; permutation; sparse; invariant output 2; width 16; depth 2"


def model_of(text: str, seed: int = 0) -> torch.nn.Module:
    compiled = symc.compile(text)
    torch.manual_seed(seed)
    return compiled.new_module().eval()


def random_graph(nodes: int, edges: int, channels: int, edge_channels: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(nodes, channels, generator=generator)
    edge_index = torch.randint(0, nodes, (2, edges), generator=generator)
    edge_attr = torch.randn(edges, edge_channels, generator=generator) if edge_channels else None
    return x, edge_index, edge_attr


def batched(graphs):
    """PyG's collation: node features stacked, edge indices offset by the nodes before, the batch vector."""
    xs, indices, attrs, batch, offset = [], [], [], [], 0
    for g, (x, edge_index, edge_attr) in enumerate(graphs):
        xs.append(x)
        indices.append(edge_index + offset)
        attrs.append(edge_attr)
        batch.append(torch.full((x.shape[0],), g, dtype=torch.long))
        offset += x.shape[0]
    attr = None if attrs[0] is None else torch.cat(attrs)
    return torch.cat(xs), torch.cat(indices, dim=1), attr, torch.cat(batch)


GRAPHS = [random_graph(6, 14, 5, 3, seed=1), random_graph(9, 25, 5, 3, seed=2), random_graph(4, 0, 5, 3, seed=3)]


# ---------------------------------------------------------------- shapes and batching

def test_shapes_per_graph_and_per_node():
    module = model_of(EDGES)
    x, edge_index, edge_attr, batch = batched(GRAPHS)
    with torch.no_grad():
        invariant, per_node = module(x, edge_index, edge_attr, batch)
    assert invariant.shape == (3, 2) and per_node.shape == (19, 3)
    plain = model_of(NO_EDGES)
    with torch.no_grad():
        assert plain(*random_graph(7, 20, 4, 0)[:2]).shape == (1, 2)
    c = symc.compile(NO_EDGES)
    assert "edge_attr: torch.Tensor | None = None, batch: torch.Tensor | None = None" in c.source
    assert c.plan.architecture.layout == "x (N, 4), edge_index (2, M), batch (N,)"
    assert symc.compile(EDGES).plan.architecture.layout == "x (N, 5), edge_index (2, M), edge_attr (M, 3), batch (N,)"


def test_one_graph_alone_in_a_batch_and_per_graph_calls_agree():
    module = model_of(EDGES)
    x, edge_index, edge_attr, batch = batched(GRAPHS)
    with torch.no_grad():
        invariant, per_node = module(x, edge_index, edge_attr, batch)
        alone = [module(*graph) for graph in GRAPHS]  # batch=None: one graph
        single = module(*GRAPHS[0], torch.zeros(6, dtype=torch.long))
    for g, (a_invariant, a_per_node) in enumerate(alone):
        torch.testing.assert_close(invariant[g:g + 1], a_invariant, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(per_node, torch.cat([p for _, p in alone]), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(single[0], alone[0][0], rtol=0, atol=0)


# ---------------------------------------------------------------- equivariance

@pytest.mark.parametrize("text", [
    EDGES,
    NO_EDGES,
    "graph with 3 features and 2 edge features; permutation; invariant output 1; pooling max; norm batch; "
    "widths 8,16; activation gelu",
    "graph with 2 features and 1 edge feature 6 nodes; permutation; equivariant output 2; depth 1; width 8; "
    "norm none",
])
def test_the_tester_passes_every_sparse_model_exactly(text):
    module = model_of(text)
    report = check(module, text)
    assert report.ok, str(report)
    assert report.max_error < EXACT_TOLERANCE
    elements = {row.element for row in report.rows}
    for name in ("nodes relabelled 1", "edges reordered 1", "graphs relabelled", "nodes, edges and graphs at once"):
        assert name in elements


def test_float64_models_are_invariant_to_round_off():
    module = model_of(EDGES).double()
    report = check(module, EDGES, dtype=torch.float64, sizes=[4, 7])
    assert report.ok and report.max_error < 1e-9, str(report)


class _Planted(torch.nn.Module):
    """A sparse graph model that breaks one symmetry: reads node positions, edge order or graph labels."""

    def __init__(self, breaks: str):
        super().__init__()
        self.breaks = breaks
        self.linear = torch.nn.Linear(5, 2)

    def forward(self, x, edge_index, edge_attr=None, batch=None):
        graphs = int(batch.max()) + 1
        h = torch.tanh(self.linear(x))
        if self.breaks == "nodes":
            h = h * torch.linspace(0.5, 1.5, x.shape[0]).unsqueeze(-1)  # reads the row index of each node
        weight = torch.linspace(0.5, 1.5, edge_index.shape[1]) if self.breaks == "edges" else 1.0
        message = h[edge_index[0]] * (weight * edge_attr[:, 0]).unsqueeze(-1)  # edges: weighted by position
        h = h + torch.zeros_like(h).index_add_(0, edge_index[1], message)
        pooled = torch.zeros(graphs, 2).index_add_(0, batch, h)
        if self.breaks == "graphs":
            pooled = pooled.cumsum(0)  # graph g sees the graphs labelled before it
        return pooled


@pytest.mark.parametrize("breaks, failing", [("nodes", "nodes"), ("edges", "edges reordered"),
                                             ("graphs", "graphs relabelled")])
def test_the_tester_catches_planted_breaks(breaks, failing):
    text = "graph with 5 features and 3 edge features; permutation; invariant output 2"
    assert check(_Planted("none"), text).ok
    report = check(_Planted(breaks), text)
    assert not report.ok
    assert all(row.ok for row in report.rows if row.element == "identity")
    assert any(row.element.startswith(failing) and not row.ok for row in report.rows)


@pytest.mark.parametrize("edit, broken, failing", [
    ("h = self.embed(x)", "h = self.embed(x) * torch.linspace(0.5, 1.5, x.shape[0]).unsqueeze(-1)", "nodes"),
    ("edges_by_target(edge_index, edge_attr)", "edges_by_target(edge_index[:, 1:], edge_attr[1:])", "edges"),
])
def test_the_tester_catches_edits_of_a_generated_file(edit, broken, failing, tmp_path):
    c = symc.compile(EDGES)
    assert edit in c.source
    path = tmp_path / "broken.py"
    path.write_text(c.source.replace(edit, broken))
    module, spec_text = load_model_file(path)
    report = check(module, spec_text)
    assert not report.ok
    assert any(row.element.startswith(failing) and not row.ok for row in report.rows)


# ---------------------------------------------------------------- input errors

X, EDGE_INDEX, EDGE_ATTR = random_graph(5, 8, 5, 3)


@pytest.mark.parametrize("args, message", [
    ((torch.randn(2, 5, 5), EDGE_INDEX, EDGE_ATTR), "expected x of shape (N, 5), got shape (2, 5, 5)"),
    ((torch.randn(5, 4), EDGE_INDEX, EDGE_ATTR), "expected x of shape (N, 5), got shape (5, 4)"),
    ((X.long(), EDGE_INDEX, EDGE_ATTR), "expected floating-point x of shape (N, 5), got dtype torch.int64"),
    ((X, EDGE_INDEX.t(), EDGE_ATTR), "expected edge_index of shape (2, M) (row 0 the source, row 1 the target of "
                                     "each edge), got shape (8, 2)"),
    ((X, EDGE_INDEX.int(), EDGE_ATTR), "expected edge_index of shape (2, M) as int64 (torch.long) node indices, "
                                       "got dtype torch.int32"),
    ((X, EDGE_INDEX + 5, EDGE_ATTR), "expected edge_index to hold node indices in [0, N) = [0, 5), got "),
    ((X, EDGE_INDEX - 9, EDGE_ATTR), "expected edge_index to hold node indices in [0, N) = [0, 5), got -9"),
    ((X, EDGE_INDEX), "expected edge_attr of shape (M, 3) = (8, 3), got None"),
    ((X, EDGE_INDEX, EDGE_ATTR[:7]), "expected edge_attr of shape (M, 3) = (8, 3), got shape (7, 3)"),
    ((X, EDGE_INDEX, EDGE_ATTR[:, :2]), "expected edge_attr of shape (M, 3) = (8, 3), got shape (8, 2)"),
    ((X, EDGE_INDEX, EDGE_ATTR.long()), "expected floating-point edge_attr of shape (M, 3), got dtype torch.int64"),
    ((X, EDGE_INDEX, EDGE_ATTR, torch.zeros(4, dtype=torch.long)), "expected batch of shape (N,) = (5,), got "
                                                                  "shape (4,)"),
    ((X, EDGE_INDEX, EDGE_ATTR, torch.zeros(5)), "expected batch of shape (N,) as int64 (torch.long) graph "
                                                 "indices, got dtype torch.float32"),
    ((X, EDGE_INDEX, EDGE_ATTR, -torch.ones(5, dtype=torch.long)), "expected batch to hold graph indices >= 0, "
                                                                  "got -1"),
])
def test_forward_names_the_tensor_and_both_shapes(args, message):
    module = model_of(EDGES)
    with pytest.raises(ValueError, match=re.escape(message)):
        module(*args)


def test_edge_features_are_refused_by_a_model_without_them():
    module = model_of(NO_EDGES)
    x, edge_index, _ = random_graph(5, 8, 4, 0)
    with pytest.raises(ValueError, match=re.escape("expected edge_attr None: this model takes no edge features, "
                                                   "got shape (8, 3)")):
        module(x, edge_index, torch.randn(8, 3))


@pytest.mark.parametrize("spec, message", [
    (EDGES + "; norm group", "'norm group' is not available for sparse graphs"),
    (EDGES + "; position encoding learned", "breaks the declared permutation symmetry"),
    ("graph with 3 features and 1 edge feature; permutation; invariant output 1; pooling sum",
     "'pooling sum' adds up the elements' outputs"),
])
def test_bad_sparse_graph_specs_get_located_errors(spec, message):
    with pytest.raises(symc.SpecError) as caught:
        symc.compile(spec)
    assert message in str(caught.value)


# ---------------------------------------------------------------- chunks of edges

def test_chunked_messages_give_the_same_outputs_and_gradients():
    text = "graph with 5 features and 3 edge features; permutation; invariant output 2; equivariant output 1; width 8"
    whole, chunked = model_of(text), model_of(text)
    for layer in chunked.layers:
        layer.chunk = 7  # 60 edges: 9 chunks, each recomputed in the backward pass
    x, edge_index, edge_attr = random_graph(20, 60, 5, 3, seed=4)
    batch = torch.arange(20) // 7
    results = []
    for module in (whole.train(), chunked.train()):
        module.zero_grad()
        features = x.clone().requires_grad_(True)
        invariant, per_node = module(features, edge_index, edge_attr, batch)
        (invariant.pow(2).sum() + per_node.pow(2).sum()).backward()
        results.append([invariant, per_node, features.grad] + [p.grad for p in module.parameters()])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_the_plan_sizes_the_chunk_to_the_target():
    plan = symc.compile(EDGES).plan
    text = str(plan)
    chunk = plan.architecture.edge_chunk
    for words in ("edge chunk: ", "320 B per edge", "checkpointed", f"edges, {chunk:,} at a time", "sqrt"):
        assert words in text, words
    assert f"EDGE_CHUNK = {plan.architecture.edge_chunk}" in symc.compile(EDGES).source
    assert symc.compile(EDGES + "; target A100").plan.architecture.edge_chunk > plan.architecture.edge_chunk


# ---------------------------------------------------------------- the file

def test_the_file_is_deterministic_and_runs_with_torch_alone(tmp_path):
    c = symc.compile(EDGES)
    assert c.source == symc.compile(EDGES).source
    assert symc.compile(c.spec.normalized()).source == c.source
    path = c.write(tmp_path / "model.py")
    script = textwrap.dedent(f"""
        import sys, importlib.util
        sys.modules['symc'] = None  # any import of symc would fail
        spec = importlib.util.spec_from_file_location('m', {str(path)!r})
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
        import torch
        model = m.Model().eval()
        x, edge_index = torch.randn(7, 5), torch.randint(0, 7, (2, 12))
        a, b = model(x, edge_index, torch.randn(12, 3), torch.tensor([0, 0, 0, 1, 1, 2, 2]))
        print(tuple(a.shape), tuple(b.shape), m.SPEC)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"(3, 2) (7, 3) {c.spec.normalized()}"
    assert "import symc" not in c.source and "from symc" not in c.source


def test_torchscript_keeps_the_outputs():
    module = model_of(EDGES)
    x, edge_index, edge_attr, batch = batched(GRAPHS)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 marks torch.jit deprecated
        expected = module(x, edge_index, edge_attr, batch)
        scripted = torch.jit.script(module)
        for a, b in zip(scripted(x, edge_index, edge_attr, batch), expected):
            torch.testing.assert_close(a, b)


def test_dense_graph_specs_are_untouched():
    from symc.emit.graphs import emit_any_graph_source
    from symc.emit.sets import emit_graph_source
    from symc.ir.graphs import analyze_any_graph
    from symc.ir.sets import analyze_graph
    from symc.plan.domains import graph_architecture as dense_architecture
    from symc.plan.graphs import graph_architecture

    for text in ("graph with 4 features 12 nodes; permutation; invariant output 2; equivariant output 3",
                 "graph; permutation; invariant output 3; pooling max; params 20k"):
        c = symc.compile(text)
        assert emit_any_graph_source(c.plan) == emit_graph_source(c.plan)
        assert analyze_any_graph(c.spec) == analyze_graph(c.spec)
        symmetry = analyze_graph(c.spec)
        ours, theirs = (graph_architecture(c.spec, symmetry, c.plan.hardware),
                        dense_architecture(c.spec, symmetry, c.plan.hardware))
        assert ours == theirs and ours.reasons == theirs.reasons
        assert "def forward(self, x: torch.Tensor, adj: torch.Tensor):" in c.source
        assert "SparseMessagePassing" not in c.source and "edge_index" not in c.source


# ---------------------------------------------------------------- PyG

def test_a_torch_geometric_batch_feeds_the_model_directly():
    data_module = pytest.importorskip("torch_geometric.data", reason="torch_geometric is not installed")
    module = model_of(EDGES)
    graphs = [data_module.Data(x=x, edge_index=edge_index, edge_attr=edge_attr) for x, edge_index, edge_attr in GRAPHS]
    data = data_module.Batch.from_data_list(graphs)
    with torch.no_grad():
        invariant, per_node = module(data.x, data.edge_index, data.edge_attr, data.batch)
        alone = [module(g.x, g.edge_index, g.edge_attr) for g in graphs]
    assert invariant.shape == (data.num_graphs, 2) and per_node.shape == (data.num_nodes, 3)
    torch.testing.assert_close(invariant, torch.cat([a for a, _ in alone]), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(per_node, torch.cat([p for _, p in alone]), rtol=1e-5, atol=1e-5)
