"""Sparse graph layers in PyG's flat layout: x (N, C), edge_index (2, M) with row 0 the source j and row 1 the
target i of each edge (messages flow j -> i), edge_attr (M, E), batch (N,) naming each node's graph.

Nodes only meet through sums of messages into their target and through pools over each graph's nodes, and every
node-wise map is shared: relabelling the nodes, reordering the edges or reordering the graphs of a batch moves the
outputs with them, exactly up to the order of floating-point additions.
"""
import torch

from .attention import ACTIVATION_MODULES
from .layers import shape_text
from .scatter import check_batch, scatter_mean


class SparseMessagePassing(torch.nn.Module):
    """One layer over the edges j -> i: messages m_ij = W act(A h_i + B h_j + C e_ij + b), an MLP of
    [h_i, h_j, e_ij] with one hidden layer, summed into i and scaled by 1 / sqrt(in-degree of i); then
    h_i + act(norm(U h_i + messages)) (a linear skip when the width changes).

    The MLP's output layer W is linear, so it is applied once per node after the sum rather than once per edge, and
    A h and B h are computed once per node and gathered: per edge this costs two gathers, E x W multiply-adds for
    the edge features and the activation. Edges are processed `chunk` at a time, so the per-edge rows never exceed
    a chunk; under autograd each chunk is recomputed in the backward pass (activation checkpointing) when there is
    more than one, so the per-edge rows are not kept for the backward pass either.
    """

    def __init__(self, in_features: int, out_features: int, edge_features: int, chunk: int,
                 activation: str = "relu", norm: str = "layer"):
        super().__init__()
        self.chunk = chunk
        self.receiver = torch.nn.Linear(in_features, out_features)
        self.sender = torch.nn.Linear(in_features, out_features, bias=False)
        self.edge = torch.nn.Linear(edge_features, out_features, bias=False) if edge_features else None
        self.message = torch.nn.Linear(out_features, out_features, bias=False)
        self.own = torch.nn.Linear(in_features, out_features)
        if norm == "layer":
            self.norm = torch.nn.LayerNorm(out_features)
        elif norm == "batch":
            self.norm = torch.nn.BatchNorm1d(out_features)
        else:
            self.norm = torch.nn.Identity()
        self.activation = ACTIVATION_MODULES[activation]()
        self.skip = torch.nn.Linear(in_features, out_features, bias=False) if in_features != out_features else None

    def hidden(self, receiver: torch.Tensor, sender: torch.Tensor, edge_attr: torch.Tensor | None,
               source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(chunk, W): act(A h_i + B h_j + C e_ij + b) for the chunk's edges."""
        x = receiver.index_select(0, target)
        x += sender.index_select(0, source)
        edge = self.edge
        if edge is not None and edge_attr is not None:
            x = torch.addmm(x, edge_attr, edge.weight.t())
        return self.activation(x)

    def checkpointed(self, receiver: torch.Tensor, sender: torch.Tensor, edge_attr: torch.Tensor | None,
                     source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """`hidden`, its rows recomputed in the backward pass instead of kept (TorchScript keeps them)."""
        if torch.jit.is_scripting():
            return self.hidden(receiver, sender, edge_attr, source, target)
        else:
            return torch.utils.checkpoint.checkpoint(self.hidden, receiver, sender, edge_attr, source, target,
                                                     use_reentrant=False)

    def forward(self, h: torch.Tensor, source: torch.Tensor, target: torch.Tensor, edge_attr: torch.Tensor | None,
                scale: torch.Tensor) -> torch.Tensor:
        receiver = self.receiver(h)
        sender = self.sender(h)
        total = torch.zeros_like(receiver)
        edges = source.shape[0]
        recompute = edges > self.chunk and torch.is_grad_enabled()
        for start in range(0, edges, self.chunk):
            j = source[start:start + self.chunk]
            i = target[start:start + self.chunk]
            e = edge_attr[start:start + self.chunk] if edge_attr is not None else None
            if recompute:
                rows = self.checkpointed(receiver, sender, e, j, i)
            else:
                rows = self.hidden(receiver, sender, e, j, i)
            total.index_put_([i], rows, accumulate=True)  # a serial sum on CPUs: no threads to wait for
        update = self.activation(self.norm(self.own(h) + self.message(total * scale)))
        skip = self.skip
        return (h if skip is None else skip(h)) + update


def edges_by_target(edge_index: torch.Tensor, edge_attr: torch.Tensor | None):
    """(source, target, edge_attr) with the edges sorted by target, stably: each chunk of edges then reads and
    writes a narrow band of node rows in order, which caches well (about twice as fast on a CPU); every sum keeps
    its terms, so results are the same up to the order of additions."""
    order = torch.argsort(edge_index[1], stable=True)
    source, target = edge_index[0].index_select(0, order), edge_index[1].index_select(0, order)
    return source, target, edge_attr.index_select(0, order) if edge_attr is not None else None


def in_degree_scale(target: torch.Tensor, nodes: int, dtype: torch.dtype) -> torch.Tensor:
    """(N, 1): 1 / sqrt(max(1, in-degree)) of every node, from the targets (row 1 of edge_index) alone."""
    degree = torch.zeros(nodes, dtype=dtype, device=target.device)
    degree.index_add_(0, target, torch.ones(target.shape[0], dtype=dtype, device=target.device))
    return degree.clamp(min=1.0).rsqrt().unsqueeze(-1)


def graph_pool(h: torch.Tensor, batch: torch.Tensor, graphs: int, mode: str) -> torch.Tensor:
    """(G, W): the node rows of h (N, W) pooled per graph by 'mean' or 'max' (order-free; an empty graph gives 0)."""
    if mode == "max":
        out = torch.zeros((graphs, h.shape[1]), dtype=h.dtype, device=h.device)
        index = batch.unsqueeze(-1).expand(h.shape[0], h.shape[1])
        return out.scatter_reduce(0, index, h, "amax", include_self=False)
    return scatter_mean(h, batch, graphs)


def check_sparse_graph_input(x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None,
                             batch: torch.Tensor | None, features: int, edge_features: int) -> None:
    """Raise a ValueError naming the tensor, the shape expected and the shape given when (x, edge_index,
    edge_attr, batch) cannot be this sparse graph model's input."""
    if x.dim() != 2 or x.shape[1] != features:
        raise ValueError(f"expected x of shape (N, {features}), got shape {shape_text(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected floating-point x of shape (N, {features}), got dtype {x.dtype}")
    nodes = x.shape[0]
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"expected edge_index of shape (2, M) (row 0 the source, row 1 the target of each edge), "
                         f"got shape {shape_text(edge_index.shape)}")
    if edge_index.dtype != torch.long:
        raise ValueError(f"expected edge_index of shape (2, M) as int64 (torch.long) node indices, got dtype "
                         f"{edge_index.dtype}")
    edges = edge_index.shape[1]
    if edges > 0:
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0 or high >= nodes:
            bad = low if low < 0 else high
            raise ValueError(f"expected edge_index to hold node indices in [0, N) = [0, {nodes}), got {bad}")
    if edge_features == 0:
        if edge_attr is not None:
            raise ValueError(f"expected edge_attr None: this model takes no edge features, got shape "
                             f"{shape_text(edge_attr.shape)}")
    else:
        if edge_attr is None:
            raise ValueError(f"expected edge_attr of shape (M, {edge_features}) = ({edges}, {edge_features}), "
                             "got None")
        if edge_attr.dim() != 2 or edge_attr.shape[0] != edges or edge_attr.shape[1] != edge_features:
            raise ValueError(f"expected edge_attr of shape (M, {edge_features}) = ({edges}, {edge_features}), "
                             f"got shape {shape_text(edge_attr.shape)}")
        if not edge_attr.is_floating_point():
            raise ValueError(f"expected floating-point edge_attr of shape (M, {edge_features}), got dtype "
                             f"{edge_attr.dtype}")
    check_batch(batch, nodes, "graph")
