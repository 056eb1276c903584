"""Layers for sets (B, N, C) and graphs (x (B, N, C), dense adjacency (B, N, N)).

Elements only meet through symmetric pooling (sum, mean, max over the N axis) or, on graphs, through the adjacency,
which a permutation moves along with the nodes: every layer commutes with reordering. `mask` (B, N) marks real
elements True so padded ones never enter a pool.
"""
import torch

from .attention import ACTIVATION_MODULES
from .layers import shape_text


def masked_pool(h: torch.Tensor, mask: torch.Tensor | None, mode: str) -> torch.Tensor:
    """Pool (B, N, C) over N to (B, C) by 'sum', 'mean' or 'max', skipping elements where `mask` is False."""
    if mask is None:
        if mode == "max":
            return h.amax(dim=1)
        return h.sum(dim=1) if mode == "sum" else h.mean(dim=1)
    keep = mask.unsqueeze(-1)
    if mode == "max":
        return h.masked_fill(~keep, float("-inf")).amax(dim=1)
    total = (h * keep.to(h.dtype)).sum(dim=1)
    if mode == "sum":
        return total
    return total / keep.to(h.dtype).sum(dim=1).clamp(min=1.0)


class DeepSetsBlock(torch.nn.Module):
    """One DeepSets layer: each element's own linear map plus a linear map of the pooled set, then norm, activation."""

    def __init__(self, in_features: int, out_features: int, mode: str = "mean", activation: str = "relu",
                 norm: bool = True):
        super().__init__()
        self.mode = mode
        self.element = torch.nn.Linear(in_features, out_features)
        self.pooled = torch.nn.Linear(in_features, out_features, bias=False)
        self.norm = torch.nn.LayerNorm(out_features) if norm else torch.nn.Identity()
        self.activation = ACTIVATION_MODULES[activation]()

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        pooled = self.pooled(masked_pool(h, mask, self.mode)).unsqueeze(1)
        return self.activation(self.norm(self.element(h) + pooled))


class MessagePassingBlock(torch.nn.Module):
    """One message-passing layer on a dense adjacency: own linear map plus the degree-normalized sum of the
    neighbours' messages, then norm and activation. Works with weighted and directed adjacencies."""

    def __init__(self, in_features: int, out_features: int, activation: str = "relu", norm: bool = True):
        super().__init__()
        self.own = torch.nn.Linear(in_features, out_features)
        self.message = torch.nn.Linear(in_features, out_features, bias=False)
        self.norm = torch.nn.LayerNorm(out_features) if norm else torch.nn.Identity()
        self.activation = ACTIVATION_MODULES[activation]()

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        degree = adj.abs().sum(dim=-1, keepdim=True).clamp(min=1.0)
        received = torch.bmm(adj, self.message(h)) / degree
        return self.activation(self.norm(self.own(h) + received))


class SetPool(torch.nn.Module):
    """(B, N, C) -> (B, C): the permutation-invariant readout of a set, graph or point cloud."""

    def __init__(self, mode: str = "mean"):
        super().__init__()
        self.mode = mode

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return masked_pool(h, mask, self.mode)


def check_set_input(x: torch.Tensor, mask: torch.Tensor | None, features: int, layout: str) -> None:
    """Raise a ValueError naming the expected layout when (x, mask) cannot be this set model's input."""
    if x.dim() != 3:
        raise ValueError(f"expected input of shape {layout}, got a tensor of rank {x.dim()} with shape "
                         f"{shape_text(x.shape)}")
    if x.shape[2] != features:
        raise ValueError(f"expected input of shape {layout} with {features} features per element, got "
                         f"{x.shape[2]} (shape {shape_text(x.shape)})")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point input of shape {layout}, got dtype {x.dtype}")
    if mask is not None and (mask.shape != x.shape[:2] or mask.dtype != torch.bool):
        raise ValueError(f"expected a boolean mask of shape (B, N) = {shape_text(x.shape[:2])} marking real "
                         f"elements True, got {mask.dtype} of shape {shape_text(mask.shape)}")


def check_graph_input(x: torch.Tensor, adj: torch.Tensor, features: int, layout: str) -> None:
    """Raise a ValueError naming the expected layout when (x, adj) cannot be this graph model's input."""
    check_set_input(x, None, features, layout)
    batch, nodes = x.shape[0], x.shape[1]
    if adj.dim() != 3 or adj.shape[0] != batch or adj.shape[1] != nodes or adj.shape[2] != nodes:
        raise ValueError(f"expected a dense adjacency (B, N, N) = ({batch}, {nodes}, {nodes}) with x {layout}, "
                         f"got shape {shape_text(adj.shape)}")
    if not adj.is_floating_point():
        raise ValueError(f"expected a floating-point adjacency (B, N, N), got dtype {adj.dtype}")


def zero_padded(y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Per-element outputs (B, N, K) with padded elements (mask False) set to zero."""
    return y if mask is None else y * mask.unsqueeze(-1).to(y.dtype)
