"""Approximate symmetries (residual pathway priors): beside each equivariant layer, a free path of the same input and
output shapes, zero at initialization, that may break the approximate factors and is pulled back by a penalty.

The free path keeps the strict factors: a free filter bank (or position map) is averaged over the strict elements'
moves (`moved`, `position_moves`), so it commutes with them, and is unconstrained for the rest. Every free parameter's name starts with 'free',
which is how `free_penalty` finds them all, whatever layer holds them.
"""
import torch

from .filters import move_filters


def regular_permutation(trivial: int, fields: int, row) -> list[int]:
    """Channel indices p with out[c] = in[p[c]] for a field type (trivial, fields) under one element, `row` its row
    of the regular table: trivial channels stay, regular channel f * order + h reads f * order + row[h]."""
    order = len(row)
    index = list(range(trivial))
    for f in range(fields):
        index += [trivial + f * order + int(row[h]) for h in range(order)]
    return index


def moved(tensor: torch.Tensor, move, row, in_type, out_type) -> torch.Tensor:
    """g . W for W = tensor (out, in, *grid): moved by g's `move` on its last axes and along both channel axes by
    g's permutation of the field types (`row`: g's row of the regular table)."""
    out_index = torch.tensor(regular_permutation(out_type[0], out_type[1], row), device=tensor.device)
    in_index = torch.tensor(regular_permutation(in_type[0], in_type[1], row), device=tensor.device)
    return move_filters(tensor.index_select(0, out_index).index_select(1, in_index), move[0], move[1])


def position_features(sizes: list[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(P, *sizes) smooth functions of position: each axis's coordinate in [-1, 1] and their pairwise products,
    P = d + d (d + 1) / 2 on a d-axis grid. Defined on any size, so the model keeps taking any size."""
    axes = [torch.linspace(-1.0, 1.0, s, dtype=dtype, device=device) for s in sizes]
    grids = torch.meshgrid(axes, indexing="ij")
    features = list(grids)
    for a in range(len(grids)):
        for b in range(a, len(grids)):
            features.append(grids[a] * grids[b])
    return torch.stack(features)


def position_count(dims: int) -> int:
    return dims + dims * (dims + 1) // 2


def position_moves(moves, strict, dims: int) -> torch.Tensor:
    """(len(strict), P, P): how each strict element's move turns the position features into each other,
    g(phi_p) = sum_q A[p, q] phi_q (signed permutations of coordinates and products on square grids), so the free
    position map can be averaged over the strict elements through its weights, at any size."""
    features = position_features([3] * dims, torch.float64, torch.device("cpu")).reshape(position_count(dims), -1)
    inverse = torch.linalg.pinv(features)
    matrices = []
    for g in strict:
        source, flips = moves[g][0], moves[g][1]
        grids = position_features([3] * dims, torch.float64, torch.device("cpu"))
        matrices.append(move_filters(grids, source, flips).reshape(len(features), -1) @ inverse)
    return torch.stack(matrices).round().to(torch.float32)


def free_penalty(module: torch.nn.Module, weight: float) -> torch.Tensor:
    """weight x the sum of squares of every free-path parameter of `module` (0 at initialization)."""
    total = torch.zeros(())
    for name, p in module.named_parameters():
        if any(part.startswith("free") for part in name.split(".")):
            total = total.to(p.dtype) + p.pow(2).sum()
    return weight * total


class FreeReadout(torch.nn.Module):
    """The free path of a point-cloud head: out = sum_w,d W[o, w, d] h_w t_d with t = (1, raw coordinates), per
    point or averaged over the cloud. It sees the coordinates as given, so it can follow a preferred axis or origin."""

    def __init__(self, width: int, dim: int, out: int, per_cloud: bool):
        super().__init__()
        self.per_cloud = per_cloud
        self.free = torch.nn.Parameter(torch.zeros(out, width, dim + 1))

    def forward(self, h: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        t = torch.cat([torch.ones_like(raw[..., :1]), raw.to(h.dtype)], dim=-1)
        out = torch.einsum("bnw,bnd,owd->bno", h, t, self.free)
        return out.mean(dim=1) if self.per_cloud else out
