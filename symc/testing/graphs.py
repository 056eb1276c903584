"""Sparse graphs in PyG's flat layout, x (N, C), edge_index (2, M), edge_attr (M, E), batch (N,): several random
directed graphs of different sizes in one call, nodes of all graphs shuffled together, edges in random order.

Moves: the nodes relabelled (x[p], batch[p], every index in edge_index mapped to its node's new label), the edges
reordered (columns of edge_index and rows of edge_attr together), the graphs relabelled (batch -> sigma(batch)), and
all three at once. Per-node outputs move with their nodes; per-graph outputs stay, or follow the graphs' labels.
"""
from __future__ import annotations

import torch

from symc.domains.graph import is_sparse

from .domains import DomainTester, Move, identity_move, parse_sizes, tester_check
from .sets import check_graph

DEFAULT_COUNTS = [(5,), (8,)]
RANDOM_MOVES = 3
EDGES_PER_NODE = 2  # random edges j -> i within each graph, so some nodes have none coming in


def check_any_graph(module, spec, **options):
    """The graph tester hook: flat-layout graphs for sparse specs, batched dense graphs (x, adj) otherwise."""
    if is_sparse(spec):
        return check_sparse_graph(module, spec, **options)
    return check_graph(module, spec, **options)


def _inverse(p: torch.Tensor) -> torch.Tensor:
    inverse = torch.empty_like(p)
    inverse[p] = torch.arange(len(p))
    return inverse


class SparseGraphTester(DomainTester):
    def __init__(self, spec):
        self.spec = spec
        self.channels, self.edge_channels = spec.domain.channels, spec.domain.edge_channels

    def sizes(self, sizes):
        default = [tuple(self.spec.domain.shape)] if self.spec.domain.shape else DEFAULT_COUNTS
        return parse_sizes(sizes, default, 1, "node counts N")

    def inputs(self, size, batch, generator):
        """`batch` graphs of size[0], size[0] + 1 and size[0] + 2 nodes, nodes and edges shuffled."""
        counts = [size[0] + i % 3 for i in range(batch)]
        starts = [sum(counts[:g]) for g in range(batch)]
        graph = torch.repeat_interleave(torch.arange(batch), torch.tensor(counts))
        sources, targets = [], []
        for start, count in zip(starts, counts):
            wanted = EDGES_PER_NODE * count if count > 1 else 0
            j = torch.randint(0, count, (wanted,), generator=generator)
            i = (j + torch.randint(1, max(count, 2), (wanted,), generator=generator)) % count  # i != j
            sources.append(start + j)
            targets.append(start + i)
        edge_index = torch.stack([torch.cat(sources), torch.cat(targets)])
        nodes = len(graph)
        order = torch.randperm(nodes, generator=generator)  # flat rows in no particular order, as data may come
        edge_index = _inverse(order)[edge_index]
        graph = graph[order]
        edge_index = edge_index[:, torch.randperm(edge_index.shape[1], generator=generator)]
        x = torch.randn(nodes, self.channels, generator=generator, dtype=torch.float64)
        edge_attr = (torch.randn(edge_index.shape[1], self.edge_channels, generator=generator, dtype=torch.float64)
                     if self.edge_channels else None)
        self._graphs, self._nodes, self._edges = batch, nodes, edge_index.shape[1]  # the moves act on these
        return x, edge_index, edge_attr, graph  # forward(x, edge_index, edge_attr=None, batch=None)

    def _move(self, name: str, nodes=None, edges=None, graphs=None) -> Move:
        """nodes: the new node k is the old node nodes[k]; edges: the new edge m is the old edges[m]; graphs: the
        old graph g is labelled graphs[g]."""
        def inputs(x):
            features, edge_index, edge_attr, batch = x
            if graphs is not None:
                batch = graphs[batch]
            if nodes is not None:
                features, batch = features[nodes], batch[nodes]
                edge_index = _inverse(nodes)[edge_index]
            if edges is not None:
                edge_index = edge_index[:, edges]
                edge_attr = edge_attr[edges] if edge_attr is not None else None
            return features, edge_index, edge_attr, batch

        def output(kind, y):
            if kind == "invariant":
                if graphs is None:
                    return y
                moved = torch.empty_like(y)
                moved[graphs] = y  # the graph now labelled graphs[g] holds the old graph g's row
                return moved
            return y[nodes] if nodes is not None else y

        return Move(name, inputs, output)

    def moves(self, size, generator):
        graphs, nodes, edges = self._graphs, self._nodes, self._edges  # of the inputs made just before
        moves = [identity_move(), self._move("nodes in reverse order", nodes=torch.arange(nodes - 1, -1, -1))]
        moves += [self._move(f"nodes relabelled {i + 1}", nodes=torch.randperm(nodes, generator=generator))
                  for i in range(RANDOM_MOVES)]
        moves += [self._move(f"edges reordered {i + 1}", edges=torch.randperm(edges, generator=generator))
                  for i in range(RANDOM_MOVES)]
        moves.append(self._move("graphs relabelled", graphs=torch.randperm(graphs, generator=generator)))
        moves.append(self._move("nodes, edges and graphs at once", nodes=torch.randperm(nodes, generator=generator),
                                edges=torch.randperm(edges, generator=generator),
                                graphs=torch.randperm(graphs, generator=generator)))
        return moves

    def expected_shape(self, kind, k, inputs):
        x, _, _, batch = inputs
        graphs = int(batch.max()) + 1 if len(batch) else 1
        return (graphs, k) if kind == "invariant" else (x.shape[0], k)

    def header(self):
        edges = f", {self.edge_channels} random features per edge" if self.edge_channels else ""
        return [f"inputs: graphs of N, N + 1 and N + 2 nodes in PyG's flat layout, {EDGES_PER_NODE} random directed "
                f"edges per node within its graph{edges}; nodes and edges shuffled",
                "actions: nodes relabelled (x[p], batch[p], edge_index through p's inverse), edges reordered "
                "(edge_index[:, q], edge_attr[q]), graphs relabelled (batch -> sigma(batch)), and all at once"]


check_sparse_graph = tester_check(SparseGraphTester)
