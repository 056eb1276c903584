"""Sums and means over groups of rows, the reductions of sparse message passing (PyG's flat layout): messages
(M, ...) summed into the node each edge points at, node rows (N, ...) pooled into the cloud or graph of each.

Plain torch (`index_add_`), so generated files need nothing else; the order rows arrive in does not change a sum
beyond float round-off, so models built on these stay invariant to relabelling nodes and reordering edges.
"""
import torch

from .layers import shape_text


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


def check_batch(batch: torch.Tensor | None, rows: int, item: str) -> None:
    """Raise a ValueError naming the expected layout unless `batch` is None or (rows,) int64 `item` indices >= 0."""
    if batch is None:
        return
    if batch.dim() != 1 or batch.shape[0] != rows:
        raise ValueError(f"expected batch of shape (N,) = ({rows},), got shape {shape_text(batch.shape)}")
    if batch.dtype != torch.long:
        raise ValueError(f"expected batch of shape (N,) as int64 (torch.long) {item} indices, got dtype {batch.dtype}")
    if rows > 0 and int(batch.min()) < 0:
        raise ValueError(f"expected batch to hold {item} indices >= 0, got {int(batch.min())}")
