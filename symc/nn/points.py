"""EGNN-style layers for point clouds: pos (B, N, D), optional features (B, N, C).

Layers see the points only through invariants of the declared group: squared distances between points, squared
distances to the centre (the centroid when translations are in the group, the origin when they are not), and, for
rotation-only groups (SE(n), SO(n)), pseudo-scalars that change sign under a mirror: signed areas (x_i - c) x (x_j - c)
in 2D, signed volumes det[x_i - c, x_j - c, u] in 3D with u a moment vector of the cloud, and the cloud's handedness.
Coordinates are updated along differences x_i - x_j (and, without translations, along x_i itself), so they move with
the points.
"""
import math

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
    With `free_inputs` D (approximate symmetries), h_i also gets a free path W [h_i, raw_i] that sees the raw
    coordinates, zero at first (symc.nn.approximate).
    """

    def __init__(self, width: int, pseudo: bool, update_coords: bool, about_origin: bool,
                 activation: str = "silu", free_inputs: int = 0):
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
        self.free = None
        if free_inputs:
            self.free = torch.nn.Linear(width + free_inputs, width, bias=False)
            torch.nn.init.zeros_(self.free.weight)
        # None when unused, so TorchScript drops the coordinate branch rather than look for missing layers
        self.coord = None
        self.radial = None
        if update_coords:
            self.coord = torch.nn.Sequential(torch.nn.Linear(width, width), act(), torch.nn.Linear(width, 1))
            self.radial = torch.nn.Linear(width, 1) if about_origin else None

    def edge_messages(self, h: torch.Tensor, distance2: torch.Tensor, signs: torch.Tensor | None) -> torch.Tensor:
        """phi_e(h_i, h_j, d_ij[, s_ij]) for all pairs. The first linear layer is applied to h_i and h_j apart and
        broadcast, the same sum as on their concatenation without building the (B, N, N, 2 width) pair tensor."""
        first = self.edge[0]
        width = h.shape[-1]
        weight = first.weight
        pre = (torch.nn.functional.linear(h, weight[:, :width], first.bias).unsqueeze(2)
               + torch.nn.functional.linear(h, weight[:, width:2 * width]).unsqueeze(1)
               + distance2 * weight[:, 2 * width])
        if self.pseudo and signs is not None:
            pre = pre + signs.unsqueeze(-1) * weight[:, 2 * width + 1]
        return self.edge[3](self.edge[2](self.edge[1](pre)))

    def forward(self, h: torch.Tensor, pos: torch.Tensor, signs: torch.Tensor | None,
                raw: torch.Tensor | None = None):
        h_in = h
        diff = pos.unsqueeze(2) - pos.unsqueeze(1)  # (B, N, N, D): x_i - x_j
        distance2 = diff.pow(2).sum(dim=-1, keepdim=True)
        messages = self.edge_messages(h, distance2, signs)  # (B, N, N, width)
        h = self.norm(h + self.node(torch.cat([h, messages.mean(dim=2)], dim=-1)))
        if self.free is not None and raw is not None:
            h = h + self.free(torch.cat([h_in, raw.to(h.dtype)], dim=-1))
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


def solid_harmonics(v: torch.Tensor, degree: int, coefficients: torch.Tensor) -> torch.Tensor:
    """(..., 2l + 1): the real solid harmonics of degree l of the vectors v (..., 3), in e3nn's basis.

    `coefficients` (2l + 1, (l + 1)(l + 2) / 2) holds each component's coefficients in the monomials x^a y^b z^c of
    degree l, listed with a from l down to 0, then b from l - a down to 0 (the generated file's HARMONICS). Powers
    are products, so gradients stay finite at v = 0.

    Vectors v (..., 2) of 2-D clouds get (Re z^l, Im z^l), z = x + iy, from `coefficients` (2, l + 1) in the
    monomials x^a y^(l - a), a from l down to 0 (symc.groups.o2).
    """
    if v.shape[-1] == 2:
        return planar_harmonics(v, degree, coefficients)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    one = torch.ones_like(x)
    px, py, pz = [one], [one], [one]
    for _ in range(degree):
        px.append(px[-1] * x)
        py.append(py[-1] * y)
        pz.append(pz[-1] * z)
    columns = []
    for a in range(degree, -1, -1):
        for b in range(degree - a, -1, -1):
            columns.append(px[a] * py[b] * pz[degree - a - b])
    return torch.stack(columns, dim=-1) @ coefficients.to(device=v.device, dtype=v.dtype).t()


def planar_harmonics(v: torch.Tensor, degree: int, coefficients: torch.Tensor) -> torch.Tensor:
    """(..., 2): (Re z^l, Im z^l) of the vectors v (..., 2), z = x + iy, as products of powers (see solid_harmonics)."""
    x, y = v[..., 0], v[..., 1]
    px, py = [torch.ones_like(x)], [torch.ones_like(y)]
    for _ in range(degree):
        px.append(px[-1] * x)
        py.append(py[-1] * y)
    columns = [px[degree - b] * py[b] for b in range(degree + 1)]
    return torch.stack(columns, dim=-1) @ coefficients.to(device=v.device, dtype=v.dtype).t()


def planar_cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(..., 1): a_x b_y - a_y b_x of 2-D vectors, invariant under rotations and negated by mirrors."""
    return a[..., 0:1] * b[..., 1:2] - a[..., 1:2] * b[..., 0:1]


class IrrepBlock(torch.nn.Module):
    """`copies` copies of the irrep (l, p) per point, as (B, N, copies * (2l + 1)), from invariant features h and three
    sets of equivariant vectors a, b, c (B, N, K, 3): sum_k w_ck(h) T_k with w a linear map of h and T_k

    - 0e: 1 (an invariant);
    - natural parity p = (-1)^l, l >= 1: Y^l(a_k), the solid harmonics of a vector;
    - unnatural parity, l >= 1: the Clebsch-Gordan coupling of Y^l(a_k) with b_k to degree l (l = 1: a cross product);
    - 0o: the triple product a_k . (b_k x c_k).

    So T_k moves by D^l(R) under rotations and by p D^l(-R) under R with det -1: exactly the irrep (l, p).

    With 2-D vectors (B, N, K, 2) the blocks are those of O(2) (symc.groups.o2): natural parity Y^l(a_k) =
    (Re, Im) of (a_k as x + iy)^l; unnatural parity the pseudoscalar b_k x c_k times Y^l(a_k) (2-D has no
    l x 1 -> l coupling); 0o the cross product a_k x b_k.
    """

    def __init__(self, width: int, channels: int, copies: int, degree: int, parity: int,
                 harmonics: list[list[float]], coupling: list[list[list[float]]]):
        super().__init__()
        self.copies = copies
        self.channels = channels
        self.degree = degree
        natural = parity == (-1) ** degree
        self.kind = (0 if natural else 3) if degree == 0 else (1 if natural else 2)
        self.weights = torch.nn.Linear(width, copies * channels)
        # float64 constants, neither parameters nor buffers: `.float()` or `.half()` cannot round them, and each use
        # casts them to the input's dtype and device
        self.harmonics = torch.tensor(harmonics if degree > 0 else [[1.0]], dtype=torch.float64)
        self.coupling = torch.tensor(coupling if self.kind == 2 else [[[0.0]]], dtype=torch.float64)

    def forward(self, h: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if self.kind == 0:
            t = torch.ones_like(a[..., :1])
        elif self.kind == 1:
            t = solid_harmonics(a, self.degree, self.harmonics)
        elif self.kind == 2 and a.shape[-1] == 2:
            t = solid_harmonics(a, self.degree, self.harmonics) * planar_cross(b, c)
        elif self.kind == 3 and a.shape[-1] == 2:
            t = planar_cross(a, b)
        elif self.kind == 2:
            t = torch.einsum("...i,...j,ijk->...k", solid_harmonics(a, self.degree, self.harmonics), b,
                             self.coupling.to(device=a.device, dtype=a.dtype))
        else:
            t = (a * torch.cross(b, c, dim=-1)).sum(dim=-1, keepdim=True)
        w = self.weights(h).view(h.shape[0], h.shape[1], self.copies, self.channels)
        return torch.einsum("bnck,bnkm->bncm", w, t).reshape(h.shape[0], h.shape[1], -1)


class IrrepsHead(torch.nn.Module):
    """Irreps of O(3) in e3nn's basis and layout, per point (B, N, dim) or per cloud (B, dim, the mean over points),
    from invariant features h (B, N, W) and the coordinates about the centre x (B, N, 3).

    Each point gets 3 sets of K equivariant vectors v_ik = mean_j phi_k(h_i, h_j, |x_i - x_j|^2) (x_i - x_j)
    + psi_k(h_i) x_i, rescaled by the invariant 1 / sqrt(1 + |v_ik|^2); the blocks (IrrepBlock) build each irrep
    of `irreps` ((copies, l, p), in order) from them.
    """

    def __init__(self, width: int, channels: int, irreps: list[tuple[int, int, int]], per_cloud: bool,
                 harmonics: dict[int, list[list[float]]], couplings: dict[int, list[list[list[float]]]],
                 activation: str = "silu"):
        super().__init__()
        act = ACTIVATION_MODULES[activation]
        self.channels = channels
        self.per_cloud = per_cloud
        self.edge = torch.nn.Sequential(torch.nn.Linear(2 * width + 1, width), act(),
                                        torch.nn.Linear(width, 3 * channels))
        self.own = torch.nn.Linear(width, 3 * channels)
        self.blocks = torch.nn.ModuleList([
            IrrepBlock(width, channels, copies, degree, parity, harmonics.get(degree, [[1.0]]),
                       couplings.get(degree, [[[0.0]]]))
            for copies, degree, parity in irreps])

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        count = h.shape[1]
        diff = x.unsqueeze(2) - x.unsqueeze(1)  # (B, N, N, 3): x_i - x_j
        pair = torch.cat([h.unsqueeze(2).expand(-1, -1, count, -1), h.unsqueeze(1).expand(-1, count, -1, -1),
                          diff.pow(2).sum(dim=-1, keepdim=True)], dim=-1)
        v = torch.einsum("bijk,bijd->bikd", self.edge(pair), diff) / count + self.own(h).unsqueeze(-1) * x.unsqueeze(2)
        v = v / (1.0 + v.pow(2).sum(dim=-1, keepdim=True)).sqrt()  # an invariant factor: bounded, smooth at 0
        k = self.channels
        a, b, c = v[:, :, :k], v[:, :, k:2 * k], v[:, :, 2 * k:]
        parts: list[torch.Tensor] = []
        for block in self.blocks:
            parts.append(block(h, a, b, c))
        out = torch.cat(parts, dim=-1)
        return out.mean(dim=1) if self.per_cloud else out


def symmetric_matrix(y: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) (or (..., 2, 2) on 2-D points): the symmetric matrix of a '1x0e+1x2e' vector y (..., 6) in e3nn's basis, which moves as
    R M R^T when y moves as D(R) y: M = y_0 I / sqrt(3) + sum_m y_(1+m) Q_m, the Q_m orthonormal and traceless with
    v^T Q_m v proportional to Y^2_m(v). Its inverse: y_0 = tr M / sqrt(3), y_1 = sqrt(2) M_xz, y_2 = sqrt(2) M_xy,
    y_3 = (2 M_yy - M_xx - M_zz) / sqrt(6), y_4 = sqrt(2) M_yz, y_5 = (M_zz - M_xx) / sqrt(2).

    On 2-D points y (..., 3) is '1x0e+1x2e' of O(2) and M (..., 2, 2) = (y_0 I + y_1 diag(1, -1) + y_2 [[0, 1],
    [1, 0]]) / sqrt(2), which moves as Q M Q^T; its inverse: y_0 = tr M / sqrt(2), y_1 = (M_xx - M_yy) / sqrt(2),
    y_2 = sqrt(2) M_xy."""
    s2, s3, s6 = math.sqrt(2.0), math.sqrt(3.0), math.sqrt(6.0)
    if y.shape[-1] == 3:
        a, c, d = y.unbind(dim=-1)
        return torch.stack([torch.stack([a + c, d], dim=-1), torch.stack([d, a - c], dim=-1)], dim=-2) / s2
    a, xz, xy, c, yz, d = y.unbind(dim=-1)
    rows = [torch.stack([a / s3 - c / s6 - d / s2, xy / s2, xz / s2], dim=-1),
            torch.stack([xy / s2, a / s3 + 2 * c / s6, yz / s2], dim=-1),
            torch.stack([xz / s2, yz / s2, a / s3 - c / s6 + d / s2], dim=-1)]
    return torch.stack(rows, dim=-2)
