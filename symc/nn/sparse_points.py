"""Sparse point-cloud layers in PyG's flat layout: pos (N, D), features (N, C), batch (N,), edges (2, M) from a
neighbour search (symc/nn/neighbours.py), row 0 the neighbour j and row 1 the point i that receives its message.

Each point carries invariant features h (N, W) and equivariant vectors v (N, W, D), as in PaiNN (Schuett et al.
2021). Distances enter through a Bessel radial basis scaled by the radial range (the cutoff, or a multiple of the
length scale) times a polynomial envelope that is zero, flat and curvature-free at the range (DimeNet's, p = 6), so
outputs and their gradients stay continuous as points cross the cutoff, whatever unit the positions are in.
"""
import math

import torch

from .attention import ACTIVATION_MODULES
from .layers import shape_text
from .points import IrrepBlock
from .scatter import check_batch, scatter_mean, scatter_sum

ENVELOPE_POWER = 6


def smooth_envelope(scaled: torch.Tensor, p: int = ENVELOPE_POWER) -> torch.Tensor:
    """(...): 1 - 28 d^6 + 48 d^7 - 21 d^8 for d = distance / range below 1, else 0: value, slope and curvature
    all vanish at d = 1. The power is a default argument because TorchScript reads no numbers from module globals."""
    d = scaled.clamp(max=1.0)
    value = 1.0 - (p + 1) * (p + 2) / 2 * d.pow(p) + p * (p + 2) * d.pow(p + 1) - p * (p + 1) / 2 * d.pow(p + 2)
    return torch.where(scaled < 1.0, value, torch.zeros_like(value))


def radial_basis(distance: torch.Tensor, radial_range: float, count: int) -> torch.Tensor:
    """(M, count): sin(n pi d / r) / (d / r), n = 1..count, times the envelope; finite at d = 0 (its limit n pi)."""
    scaled = distance / radial_range
    n = torch.arange(1, count + 1, dtype=distance.dtype, device=distance.device)
    angle = scaled.unsqueeze(-1) * (n * math.pi)
    safe = torch.where(scaled > 1e-6, scaled, torch.ones_like(scaled)).unsqueeze(-1)
    basis = torch.where(scaled.unsqueeze(-1) > 1e-6, torch.sin(angle) / safe, (n * math.pi).expand_as(angle))
    return basis * smooth_envelope(scaled).unsqueeze(-1)


def turned(v: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
    """(M, W, D): a vector that turns with v and unit under rotations but not under mirrors: v x unit in 3-D, v
    turned by 90 degrees in 2-D. Rotation-only groups (SE(n), SO(n)) use it to tell mirror images apart."""
    if v.shape[-1] == 3:
        return torch.cross(v, unit.unsqueeze(1).expand_as(v), dim=-1)
    return torch.stack([-v[..., 1], v[..., 0]], dim=-1)


def safe_length(v: torch.Tensor) -> torch.Tensor:
    """|v| over the last axis, with a finite gradient at 0 (where features start)."""
    return torch.sqrt(v.pow(2).sum(dim=-1) + 1e-8)


class SparseInteraction(torch.nn.Module):
    """One PaiNN-style layer over the edges (j -> i).

    Messages: (s, a, b[, c]) = phi(h_j) * W(rbf(|x_i - x_j|)); h_i += sum_j s; v_i += sum_j a v_j + b u_ij [+ c
    turned(v_j, u_ij)], u_ij the unit vector from j to i, sums scaled by a constant 1 / sqrt(expected neighbours).
    Update: U v and V v mix the vector channels; h += a_ss + a_sv <U v, V v>, v += a_vv U v with (a_vv, a_sv, a_ss)
    from an MLP of (h, |V v|). Edges are processed `chunk` at a time, so memory grows with the chunk, not with M.
    """

    def __init__(self, width: int, basis: int, extra: int, handed: bool, neighbours: float, chunk: int,
                 activation: str = "silu"):
        super().__init__()
        act = ACTIVATION_MODULES[activation]
        self.width, self.handed, self.chunk = width, handed, chunk
        self.scale = 1.0 / math.sqrt(neighbours)
        parts = 4 if handed else 3
        self.context = torch.nn.Sequential(torch.nn.Linear(width, width), act(), torch.nn.Linear(width, parts * width))
        # no bias: the basis fades to 0 at the cutoff, and so must every message
        self.filter = torch.nn.Linear(basis + extra, parts * width, bias=False)
        self.mix = torch.nn.Linear(width, 2 * width, bias=False)
        self.update = torch.nn.Sequential(torch.nn.Linear(2 * width, width), act(), torch.nn.Linear(width, 3 * width))
        self.norm = torch.nn.LayerNorm(width)

    def forward(self, h: torch.Tensor, v: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                unit: torch.Tensor, radial: torch.Tensor):
        w = self.width
        phi = self.context(h)
        dh = torch.zeros_like(h)
        dv = torch.zeros_like(v)
        for start in range(0, source.shape[0], self.chunk):
            j = source[start:start + self.chunk]
            i = target[start:start + self.chunk]
            u = unit[start:start + self.chunk]
            x = phi.index_select(0, j) * self.filter(radial[start:start + self.chunk])
            vj = v.index_select(0, j)
            vec = x[:, w:2 * w].unsqueeze(-1) * vj + x[:, 2 * w:3 * w].unsqueeze(-1) * u.unsqueeze(1)
            if self.handed:
                vec = vec + x[:, 3 * w:].unsqueeze(-1) * turned(vj, u)
            # index_put_ with accumulate, not index_add: on a busy CPU the threaded index_add stalls per call
            dh = dh.index_put((i,), x[:, :w], accumulate=True)
            dv = dv.index_put((i,), vec, accumulate=True)
        h = h + self.scale * dh
        v = v + self.scale * dv
        mixed = self.mix(v.transpose(1, 2)).transpose(1, 2)  # (N, 2W, D): channels mixed, coordinates untouched
        uv, vv = mixed[:, :w], mixed[:, w:]
        a = self.update(torch.cat([h, safe_length(vv)], dim=-1))
        v = v + a[:, :w].unsqueeze(-1) * uv
        h = h + a[:, w:2 * w] * (uv * vv).sum(dim=-1) + a[:, 2 * w:]
        return self.norm(h), v


class GatedVectors(torch.nn.Module):
    """(N, K, D): K equivariant vectors per point, each a sum of the vector channels weighted by invariant gates
    of h; with `bounded`, rescaled by 1 / sqrt(1 + |.|^2) (an invariant factor) for the irreps heads."""

    def __init__(self, width: int, count: int, bounded: bool):
        super().__init__()
        self.count, self.bounded = count, bounded
        self.gates = torch.nn.Linear(width, count * width)

    def forward(self, h: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        g = self.gates(h).view(h.shape[0], self.count, -1)  # (N, K, W)
        out = torch.einsum("nkw,nwd->nkd", g, v)
        if self.bounded:
            out = out / torch.sqrt(1.0 + out.pow(2).sum(dim=-1, keepdim=True))
        return out


class PointEmbedding(torch.nn.Module):
    """The first features and vectors of each point: h from its features (a constant without them) and, without
    translations in the group, its position about the origin (its length over the radial range when rotations are
    in the group, else its coordinates); v = 0, or x / range times gates of h when positions about the origin
    matter and turn with the group."""

    def __init__(self, channels: int, width: int, dim: int, rotations: bool, about_origin: bool,
                 radial_range: float):
        super().__init__()
        self.channels, self.dim, self.rotations, self.about_origin = channels, dim, rotations, about_origin
        self.radial_range = radial_range
        inputs = max(channels, 1) + ((1 if rotations else dim) if about_origin else 0)
        self.linear = torch.nn.Linear(inputs, width)
        self.gates = torch.nn.Linear(width, width) if about_origin and rotations else None

    def forward(self, pos: torch.Tensor, features: torch.Tensor | None):
        parts = [features.to(pos.dtype) if features is not None else torch.ones_like(pos[:, :1])]
        scaled = pos / self.radial_range
        if self.about_origin:
            parts.append(safe_length(scaled).unsqueeze(-1) if self.rotations else scaled)
        h = self.linear(torch.cat(parts, dim=-1))
        v = torch.zeros(pos.shape[0], h.shape[1], self.dim, dtype=h.dtype, device=h.device)
        if self.gates is not None:
            v = self.gates(h).unsqueeze(-1) * scaled.unsqueeze(1)
        return h, v


class SparseIrrepsHead(torch.nn.Module):
    """Irreps of O(3) in e3nn's basis and layout per point (N, dim) or per cloud (G, dim, the mean over its points),
    built by IrrepBlock from three sets of `channels` gated vectors per point."""

    def __init__(self, width: int, channels: int, irreps: list[tuple[int, int, int]], per_cloud: bool,
                 harmonics: dict[int, list[list[float]]], couplings: dict[int, list[list[list[float]]]]):
        super().__init__()
        self.channels, self.per_cloud = channels, per_cloud
        self.vectors = GatedVectors(width, 3 * channels, bounded=True)
        self.blocks = torch.nn.ModuleList([
            IrrepBlock(width, channels, copies, degree, parity, harmonics.get(degree, [[1.0]]),
                       couplings.get(degree, [[[0.0]]]))
            for copies, degree, parity in irreps])

    def forward(self, h: torch.Tensor, v: torch.Tensor, batch: torch.Tensor, clouds: int) -> torch.Tensor:
        k = self.channels
        vectors = self.vectors(h, v).unsqueeze(0)  # (1, N, 3K, 3): IrrepBlock's batch of one
        a, b, c = vectors[:, :, :k], vectors[:, :, k:2 * k], vectors[:, :, 2 * k:]
        parts: list[torch.Tensor] = []
        for block in self.blocks:
            parts.append(block(h.unsqueeze(0), a, b, c)[0])
        out = torch.cat(parts, dim=-1)
        return scatter_mean(out, batch, clouds) if self.per_cloud else out


def cloud_pool(y: torch.Tensor, batch: torch.Tensor, clouds: int, mode: str) -> torch.Tensor:
    """(G, K): the per-point rows of y (N, K) pooled per cloud by 'mean', 'sum' or 'max' (order-free)."""
    if mode == "sum":
        return scatter_sum(y, batch, clouds)
    if mode == "max":
        out = torch.full((clouds,) + y.shape[1:], float("-inf"), dtype=y.dtype, device=y.device)
        out = out.index_reduce(0, batch, y, "amax")
        return torch.where(torch.isinf(out), torch.zeros_like(out), out)  # an empty cloud pools to 0
    return scatter_mean(y, batch, clouds)


def check_sparse_point_input(pos: torch.Tensor, features: torch.Tensor | None, batch: torch.Tensor | None,
                             dim: int, channels: int, layout: str) -> None:
    """Raise a ValueError naming the expected layout when (pos, features, batch) cannot be this model's input."""
    if pos.dim() != 2 or pos.shape[-1] != dim:
        raise ValueError(f"expected positions of shape (N, {dim}) (layout {layout}), got shape {shape_text(pos.shape)}")
    if not pos.is_floating_point():
        raise ValueError(f"expected floating-point positions (N, {dim}), got dtype {pos.dtype}")
    count = pos.shape[0]
    if channels == 0 and features is not None:
        raise ValueError("this model takes no per-point features: call it as model(pos, batch=batch)")
    if channels > 0:
        if features is None:
            raise ValueError(f"expected features of shape (N, {channels}) with the positions")
        if features.dim() != 2 or features.shape[0] != count or features.shape[1] != channels:
            raise ValueError(f"expected features of shape (N, {channels}) = ({count}, {channels}), got "
                             f"{shape_text(features.shape)}")
    check_batch(batch, count, "cloud")
