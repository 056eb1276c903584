"""Sparse graph models in PyG's flat layout: time and peak memory of one eval forward (no grad) from 100k to 1M
edges, the default symc model next to PyG's GCNConv and GINEConv stacks of the same depth and width.

    python benchmarks/graphs.py                       # every size and model, at 1 and at 2 threads
    python benchmarks/graphs.py --threads 1 --sizes 100000

The symc model is the default of `graph with 16 features and 4 edge features; permutation; invariant output 1`
(depth 3, width 64, the planner's edge chunk). Graphs: 1,000-node graphs batched together, about 10 random directed
edges per node within each graph, 4 random edge features. Each (size, model, threads) runs in a child process of
its own: build the graph and the model, one warm-up forward on a 1,000-node graph, then one timed forward; the child
reports its peak RSS (ru_maxrss) and its RSS before the timed forward (torch, the model and the graph). The PyG rows
need torch_geometric (`pip install torch_geometric`); without it they are skipped with a note.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

SPEC = "graph with 16 features and 4 edge features; permutation; invariant output 1"
FEATURES, EDGE_FEATURES, WIDTH, DEPTH = 16, 4, 64, 3
EDGES_PER_NODE = 10
NODES_PER_GRAPH = 1000
SIZES = (10_000, 31_623, 100_000)  # nodes; edges are 10 per node
MODELS = ("symc", "pyg GCNConv", "pyg GINEConv")


def make_graph(nodes: int, seed: int = 0):
    """x (N, 16), edge_index (2, 10 N) within 1,000-node graphs, edge_attr (10 N, 4), batch (N,)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    edges = EDGES_PER_NODE * nodes
    batch = torch.arange(nodes) // NODES_PER_GRAPH
    target = torch.randint(0, nodes, (edges,), generator=generator)
    start = batch[target] * NODES_PER_GRAPH
    size = torch.clamp(nodes - start, max=NODES_PER_GRAPH)
    source = start + (torch.rand(edges, generator=generator) * size).long()
    x = torch.randn(nodes, FEATURES, generator=generator)
    edge_attr = torch.randn(edges, EDGE_FEATURES, generator=generator)
    return x, torch.stack([source, target]), edge_attr, batch


def pyg_model(kind: str):
    import torch
    from torch_geometric.nn import GCNConv, GINEConv, global_mean_pool

    class Stack(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Linear(FEATURES, WIDTH)
            if kind == "pyg GCNConv":
                self.convs = torch.nn.ModuleList([GCNConv(WIDTH, WIDTH) for _ in range(DEPTH)])
            else:
                self.convs = torch.nn.ModuleList([GINEConv(torch.nn.Sequential(
                    torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, WIDTH)),
                    edge_dim=EDGE_FEATURES) for _ in range(DEPTH)])
            self.norms = torch.nn.ModuleList([torch.nn.LayerNorm(WIDTH) for _ in range(DEPTH)])
            self.head = torch.nn.Sequential(torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, 1))

        def forward(self, x, edge_index, edge_attr, batch):
            h = self.embed(x)
            for conv, norm in zip(self.convs, self.norms):
                out = conv(h, edge_index) if kind == "pyg GCNConv" else conv(h, edge_index, edge_attr)
                h = h + torch.relu(norm(out))
            return self.head(global_mean_pool(h, batch))

    return Stack()


def child(nodes: int, model_name: str, threads: int) -> dict:
    import resource
    import time

    import torch

    torch.set_num_threads(threads)
    if model_name == "symc":
        import symc

        compiled = symc.compile(SPEC)
        model = compiled.module
        chunk = compiled.plan.architecture.edge_chunk
    else:
        model, chunk = pyg_model(model_name), 0
    model.eval()
    x, edge_index, edge_attr, batch = make_graph(nodes)
    small = make_graph(NODES_PER_GRAPH, seed=1)
    with torch.no_grad():
        model(*small)
        before = _rss_now()
        start = time.perf_counter()
        y = model(x, edge_index, edge_attr, batch)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"nodes": nodes, "edges": edge_index.shape[1], "model": model_name, "threads": threads,
            "seconds": seconds, "peak_bytes": peak, "before_bytes": before, "graphs": y.shape[0], "chunk": chunk}


def _rss_now() -> int:
    with open("/proc/self/statm") as handle:
        import os

        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(nodes: int, model_name: str, threads: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", str(nodes), model_name, str(threads)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return {"nodes": nodes, "model": model_name, "threads": threads, "error": result.stderr.strip()[-300:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="node counts (edges are 10 per node)")
    parser.add_argument("--threads", default="1,2", help="torch threads per run, comma-separated")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        nodes, model_name, threads = args.child
        print(json.dumps(child(int(nodes), model_name, int(threads))))
        return
    try:
        import torch_geometric  # noqa: F401
        have_pyg = True
    except ImportError:
        have_pyg = False
    models = [m for m in args.models.split(",") if have_pyg or not m.startswith("pyg")]
    if not have_pyg:
        print("torch_geometric is not installed: the PyG rows are skipped (pip install torch_geometric)")
    print(f"spec: {SPEC}; one eval forward under no_grad, after a warm-up on a {NODES_PER_GRAPH}-node graph")
    print("| nodes | edges | threads | model | seconds | peak RSS | RSS before the forward | edge chunk |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for nodes in map(int, args.sizes.split(",")):
        for threads in map(int, args.threads.split(",")):
            for model_name in models:
                row = run(nodes, model_name, threads)
                if "error" in row:
                    print(f"| {nodes:,} | | {threads} | {model_name} | failed: {row['error']} | | | |")
                    continue
                print(f"| {row['nodes']:,} | {row['edges']:,} | {threads} | {model_name} | {row['seconds']:.2f} | "
                      f"{row['peak_bytes'] / 2 ** 30:.2f} GiB | {row['before_bytes'] / 2 ** 30:.2f} GiB | "
                      f"{row['chunk'] or ''} |", flush=True)


if __name__ == "__main__":
    main()
