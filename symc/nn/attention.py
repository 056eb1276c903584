"""Self-attention blocks for sequences and sets, and the position encodings the planner picks by symmetry.

Tokens are (B, N, dim). Attention itself commutes with any reordering of the tokens; positions enter only through
  - rotary encodings (inside the scores, relative: they depend on i - j alone, so shifts keep the scores). With
    `circular`, frequencies are whole periods over the length, so a circular shift keeps them exactly. With
    `symmetric`, scores use cos(theta (i - j)) only, even in the offset, so time reversal keeps them too;
  - absolute encodings added to the tokens once ('learned' or 'sinusoidal'), for specs that say `no translation`;
    `symmetric` makes them even about the sequence centre so time reversal still holds.
"""
import math

import torch
import torch.nn.functional as F

ACTIVATION_MODULES = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "silu": torch.nn.SiLU, "elu": torch.nn.ELU}
ROTARY_BASE = 10000.0


def rotary_angles(length: int, half: int, circular: bool, device: torch.device,
                  base: float = ROTARY_BASE) -> torch.Tensor:
    """(length, half) angles position * frequency, computed in float64. (`base` is an argument because TorchScript
    reads no float globals.)"""
    steps = torch.arange(half, dtype=torch.float64, device=device)
    if circular:
        frequencies = 2.0 * math.pi * (steps + 1.0) / length  # whole periods: position L reads as position 0
    else:
        frequencies = base ** (-steps / half)
    return torch.arange(length, dtype=torch.float64, device=device)[:, None] * frequencies[None, :]


def turn_pairs(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, half: int) -> torch.Tensor:
    """Rotates each pair (x_d, x_{d + half}) by its angle."""
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def apply_rotary(q: torch.Tensor, k: torch.Tensor, circular: bool,
                 symmetric: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """q, k (B, heads, L, head_dim) with positions 0..L-1 mixed in so that q_i . k_j depends on i - j only."""
    length, head_dim = q.shape[-2], q.shape[-1]
    half = head_dim // 2
    angles = rotary_angles(length, half, circular, q.device)
    cos, sin = angles.cos().to(q.dtype), angles.sin().to(q.dtype)
    if symmetric:
        # q_d k_d cos(t_d (i - j)) = (q_d cos t_d i)(k_d cos t_d j) + (q_d sin t_d i)(k_d sin t_d j)
        cos, sin = torch.cat([cos, cos], dim=-1), torch.cat([sin, sin], dim=-1)
        return torch.cat([q * cos, q * sin], dim=-1), torch.cat([k * cos, k * sin], dim=-1)
    return turn_pairs(q, cos, sin, half), turn_pairs(k, cos, sin, half)


class AttentionBlock(torch.nn.Module):
    """Pre-norm transformer block: multi-head self-attention then an MLP, both residual.

    `rotary` ('none' or 'rotary') with `circular` and `symmetric` as in the module docstring. `mask` (B, N) marks
    real tokens True: padded ones are never attended to.
    """

    def __init__(self, dim: int, heads: int, activation: str = "gelu", rotary: str = "none",
                 circular: bool = False, symmetric: bool = False):
        super().__init__()
        if dim % heads or (dim // heads) % 2:
            raise ValueError(f"width {dim} must split into {heads} heads of even size")
        self.heads = heads
        self.head_dim = dim // heads
        self.use_rotary = rotary == "rotary"
        self.circular = circular
        self.symmetric = symmetric
        self.norm1 = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.projection = torch.nn.Linear(dim, dim)
        self.norm2 = torch.nn.LayerNorm(dim)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, 2 * dim), ACTIVATION_MODULES[activation](),
                                       torch.nn.Linear(2 * dim, dim))

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, count, dim = h.shape
        qkv = self.qkv(self.norm1(h)).reshape(batch, count, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.use_rotary:
            q, k = apply_rotary(q, k, self.circular, self.symmetric)
        attend = mask[:, None, None, :] if mask is not None else None
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, scale=1.0 / math.sqrt(self.head_dim))
        h = h + self.projection(out.transpose(1, 2).reshape(batch, count, dim))
        return h + self.mlp(self.norm2(h))


class PositionEncoding(torch.nn.Module):
    """Absolute positions added to tokens (B, L, dim): 'learned' (needs the spec's length) or 'sinusoidal'."""

    def __init__(self, kind: str, dim: int, length: int = 0, symmetric: bool = False):
        super().__init__()
        self.learned = kind == "learned"
        self.symmetric = symmetric
        self.length = length
        self.dim = dim
        self.base = ROTARY_BASE
        # None unless learned: TorchScript then drops the learned branch (it cannot read a missing attribute)
        self.table = torch.nn.Parameter(torch.randn(length, dim) * 0.1) if self.learned else None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        length = h.shape[1]
        table = self.table
        if table is not None:
            if length != self.length:
                raise ValueError(f"learned positions were made for length {self.length}, got length {length}")
            if self.symmetric:  # even about the centre: reversing the sequence keeps every position's vector
                table = 0.5 * (table + torch.flip(table, dims=(0,)))
            return h + table.to(h.dtype)
        positions = torch.arange(length, dtype=torch.float64, device=h.device)
        steps = torch.arange(self.dim, dtype=torch.float64, device=h.device)
        if self.symmetric:  # cosines of the distance from the centre are even under reversal
            angles = (positions - (length - 1) / 2.0)[:, None] * self.base ** (-steps / self.dim)[None, :]
            return h + angles.cos().to(h.dtype)
        half = self.dim // 2
        angles = positions[:, None] * self.base ** (-steps[:half] / half)[None, :]
        table = torch.cat([angles.sin(), angles.cos(), torch.zeros(length, self.dim - 2 * half,
                                                                   dtype=torch.float64, device=h.device)], dim=-1)
        return h + table.to(h.dtype)
