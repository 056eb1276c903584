"""EGNN-style layers for point clouds: pos (B, N, D), optional features (B, N, C).

Layers see the points only through invariants of the declared group: squared distances between points, squared
distances to the centre (the centroid when translations are in the group, the origin when they are not), and, for
rotation-only groups (SE(n), SO(n)), pseudo-scalars that change sign under a mirror: signed areas (x_i - c) x (x_j - c)
in 2D, signed volumes det[x_i - c, x_j - c, u] in 3D with u a moment vector of the cloud, and the cloud's handedness.
Coordinates are updated along differences x_i - x_j (and, without translations, along x_i itself), so they move with
the points.
"""
import torch

from .attention import ACTIVATION_MODULES
from .layers import shape_text


def cloud_centre(pos: torch.Tensor, translation: bool) -> torch.Tensor:
    """(B, 1, D): the centroid when translations are in the group, else the origin."""
    if translation:
        return pos.mean(dim=1, keepdim=True)
    return torch.zeros_like(pos[:, :1])


def pseudo_scalars(pos: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """(B, N, N) signed areas (2D) or signed volumes (3D) of point pairs about the centre, weighted by |x_j - c|^2:
    invariant under rotations, negated by mirrors, and scaled by the cloud's mean squared radius to a length.

    Without the weight they would average out over j (the centred points sum to zero), leaving layers nearly blind
    to handedness; with it the mean over j is a cross product (2D) or a triple product (3D) of two different
    moment vectors of the cloud, which is generically non-zero.
    """
    rel = pos - centre
    a = rel.unsqueeze(2)  # x_i - c
    b = rel.unsqueeze(1)  # x_j - c
    squared = rel.pow(2).sum(dim=-1)  # (B, N)
    spread = squared.mean(dim=1)[:, None, None] + 1e-6  # (B, 1, 1)
    weight = squared.unsqueeze(1)  # |x_j - c|^2, (B, 1, N)
    if pos.shape[-1] == 2:
        return (a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]) * weight / spread.pow(1.5)
    # u: a vector that turns (and mirrors) with the cloud, a different moment from the weight's
    moment = (rel * squared.pow(2).unsqueeze(-1)).mean(dim=1) / spread[:, 0].pow(2)  # (B, 3)
    cross = torch.cross(a.expand(-1, -1, b.shape[2], -1), b.expand(-1, a.shape[1], -1, -1), dim=-1)
    return (cross * moment[:, None, None, :]).sum(dim=-1) * weight / spread.pow(2)


def handedness(pos: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """(B, 1) a pseudo-scalar of the whole cloud, scale-free: the cross product (2D) or triple product (3D) of its
    moment vectors m_k = mean_i (x_i - c) (|x_i - c|^2 / r^2)^k / r, r^2 the mean squared radius.

    Pair pseudo-scalars largely cancel when pooled over a centred cloud; this one does not, so a rotation-only model
    sees a shape and its mirror image differently from its first layer on.
    """
    rel = pos - centre
    squared = rel.pow(2).sum(dim=-1, keepdim=True)  # (B, N, 1)
    spread = squared.mean(dim=1, keepdim=True) + 1e-6  # (B, 1, 1)
    scaled = squared / spread
    moments = [(rel / spread.sqrt() * scaled.pow(k)).mean(dim=1) for k in range(1, pos.shape[-1] + 1)]
    if pos.shape[-1] == 2:
        return (moments[0][:, 0] * moments[1][:, 1] - moments[0][:, 1] * moments[1][:, 0]).unsqueeze(-1)
    # det[m1, m2, m3] as a triple product: torch's det has no half-precision kernels on CPU
    return (moments[0] * torch.cross(moments[1], moments[2], dim=-1)).sum(dim=-1, keepdim=True)


class EGNNLayer(torch.nn.Module):
    """One E(n)-equivariant message-passing layer (Satorras et al. 2021) over all pairs of points.

    m_ij = phi_e(h_i, h_j, |x_i - x_j|^2[, s_ij]); h_i += phi_h(h_i, mean_j m_ij); with `update_coords`,
    x_i += mean_j (x_i - x_j) / (|x_i - x_j| + 1) phi_x(m_ij) (+ x_i psi(h_i) when `about_origin`).
    """

    def __init__(self, width: int, pseudo: bool, update_coords: bool, about_origin: bool,
                 activation: str = "silu"):
        super().__init__()
        act = ACTIVATION_MODULES[activation]
        extra = 2 if pseudo else 1
        self.pseudo = pseudo
        self.update_coords = update_coords
        self.about_origin = about_origin
        self.edge = torch.nn.Sequential(torch.nn.Linear(2 * width + extra, width), act(),
                                        torch.nn.Linear(width, width), act())
        self.node = torch.nn.Sequential(torch.nn.Linear(2 * width, width), act(), torch.nn.Linear(width, width))
        self.norm = torch.nn.LayerNorm(width)
        # None when unused, so TorchScript drops the coordinate branch rather than look for missing layers
        self.coord = None
        self.radial = None
        if update_coords:
            self.coord = torch.nn.Sequential(torch.nn.Linear(width, width), act(), torch.nn.Linear(width, 1))
            self.radial = torch.nn.Linear(width, 1) if about_origin else None

    def forward(self, h: torch.Tensor, pos: torch.Tensor, signs: torch.Tensor | None):
        count = h.shape[1]
        diff = pos.unsqueeze(2) - pos.unsqueeze(1)  # (B, N, N, D): x_i - x_j
        distance2 = diff.pow(2).sum(dim=-1, keepdim=True)
        pair = [h.unsqueeze(2).expand(-1, -1, count, -1), h.unsqueeze(1).expand(-1, count, -1, -1), distance2]
        if self.pseudo and signs is not None:
            pair.append(signs.unsqueeze(-1))
        messages = self.edge(torch.cat(pair, dim=-1))  # (B, N, N, width)
        h = self.norm(h + self.node(torch.cat([h, messages.mean(dim=2)], dim=-1)))
        if self.coord is not None:  # update_coords
            # sqrt has an infinite slope at 0 (each point's distance to itself), which made every gradient NaN:
            # read 1 there instead, where diff is 0 anyway, so the step is unchanged and gradients stay finite
            length = torch.where(distance2 > 0, distance2, torch.ones_like(distance2)).sqrt()
            step = diff / (length + 1.0) * self.coord(messages)
            pos = pos + step.mean(dim=2)
            if self.radial is not None:
                pos = pos + pos * torch.tanh(self.radial(h))
        return h, pos


def check_point_input(pos: torch.Tensor, features: torch.Tensor | None, dim: int, channels: int,
                      layout: str) -> None:
    """Raise a ValueError naming the expected layout when (pos, features) cannot be this point-cloud model's input."""
    if pos.dim() != 3 or pos.shape[-1] != dim:
        raise ValueError(f"expected positions of shape {layout} with D = {dim} coordinates, got shape "
                         f"{shape_text(pos.shape)}")
    if not pos.is_floating_point():
        raise ValueError(f"expected floating-point positions {layout}, got dtype {pos.dtype}")
    if channels == 0 and features is not None:
        raise ValueError("this model takes no per-point features: call it with positions alone")
    if channels > 0:
        if features is None:
            raise ValueError(f"expected features of shape (B, N, {channels}) with the positions")
        if features.dim() != 3 or features.shape[:2] != pos.shape[:2] or features.shape[2] != channels:
            raise ValueError(f"expected features of shape (B, N, {channels}) = ({pos.shape[0]}, {pos.shape[1]}, "
                             f"{channels}), got {shape_text(features.shape)}")
