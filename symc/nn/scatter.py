"""Sums and means over groups of rows, the reductions of sparse message passing (PyG's flat layout): messages
(M, ...) summed into the node each edge points at, node rows (N, ...) pooled into the cloud or graph of each.

Plain torch (`index_add_`), so generated files need nothing else; the order rows arrive in does not change a sum
beyond float round-off, so models built on these stay invariant to relabelling nodes and reordering edges.
"""
import torch


def scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """(size, ...): out[k] = sum of src[m] over the rows m with index[m] = k (zero where none)."""
    out = torch.zeros((size,) + src.shape[1:], dtype=src.dtype, device=src.device)
    return out.index_add_(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """(size, ...): the mean of src's rows per index value (zero where none)."""
    total = scatter_sum(src, index, size)
    count = torch.zeros(size, dtype=src.dtype, device=src.device).index_add_(
        0, index, torch.ones_like(index, dtype=src.dtype))
    return total / count.clamp(min=1).reshape((size,) + (1,) * (src.dim() - 1))


def group_count(batch: torch.Tensor | None, rows: int) -> int:
    """G, the number of clouds or graphs: one more than the largest batch index (1 without a batch vector)."""
    if batch is None or rows == 0:
        return 1
    return int(batch.max()) + 1
