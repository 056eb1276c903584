"""Sets (B, N, C) and graphs (x (B, N, C), adj (B, N, N)): the same permutation of every per-element axis."""
from __future__ import annotations

import torch

from .domains import tester_check, DomainTester, identity_move, parse_sizes, permutation_moves

DEFAULT_COUNTS = [(7,), (8,)]
EDGE_PROBABILITY = 0.3


class SetTester(DomainTester):
    def __init__(self, spec):
        self.spec = spec

    def sizes(self, sizes):
        default = [tuple(self.spec.domain.shape)] if self.spec.domain.shape else DEFAULT_COUNTS
        return parse_sizes(sizes, default, 1, "element counts N")

    def inputs(self, size, batch, generator):
        return (torch.randn(batch, size[0], self.spec.domain.channels, generator=generator, dtype=torch.float64),)

    def moves(self, size, generator):
        return [identity_move()] + permutation_moves(size[0], generator, lambda p, x: (x[0][:, p],),
                                                     ("equivariant",))

    def expected_shape(self, kind, k, inputs):
        batch, count = inputs[0].shape[:2]
        return (batch, k) if kind == "invariant" else (batch, count, k)

    def header(self):
        return ["actions: permutations of the N axis x[:, p] (the reversed order and random ones)"]


class GraphTester(SetTester):
    def inputs(self, size, batch, generator):
        count = size[0]
        x = torch.randn(batch, count, self.spec.domain.channels, generator=generator, dtype=torch.float64)
        edges = (torch.rand(batch, count, count, generator=generator, dtype=torch.float64) < EDGE_PROBABILITY)
        adj = torch.triu(edges.to(torch.float64), diagonal=1)
        return x, adj + adj.transpose(1, 2)  # undirected, no self loops

    def moves(self, size, generator):
        return [identity_move()] + permutation_moves(size[0], generator, lambda p, x: (x[0][:, p], x[1][:, p][:, :, p]),
                                                     ("equivariant",))

    def header(self):
        return [f"inputs: random undirected graphs (edge probability {EDGE_PROBABILITY})",
                "actions: node permutations x[:, p], adj[:, p][:, :, p] (the reversed order and random ones)"]


check_set = tester_check(SetTester)
check_graph = tester_check(GraphTester)
