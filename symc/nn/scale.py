"""Scale-equivariant convolutions on images: a scale-space lifting and scale-group convolutions (as SESN does).

Between scale layers the scale axis is folded into the batch: (scales * B, channels, H, W), scale-major (row s*B + b
is sample b at scale s), so norms, activations, down-sampling and group pooling run on every scale with the same
weights. A filter is a fixed combination of Hermite-Gaussian functions sampled at sigma_s = sigma_0 * q^s with
q = SCALE_STEP and normalized by 1/sigma^2, so the filter at scale s is the scale-0 filter dilated by q^s. Zooming the
input in by q then moves the response at scale s - 1 to scale s; the top scale would need a scale that is not
computed, so scale equivariance is approximate. Each scale's filters are expanded over the finite group (rotations,
mirrors) exactly as GroupLift2d and GroupConv2d expand theirs: right angles and mirrors stay exact at every scale.
"""
import math

import torch
import torch.nn.functional as F

from .filters import FilterTransforms
from .scalesize import SCALE_STEP, SCALE_WINDOW, TRUNCATE, hermite_orders, scale_kernel_sizes


def hermite_basis(kernel_size: int, scales: int) -> torch.Tensor:
    """(scales, functions, K, K) float64, K the largest grid; scale s fills the centred k_s x k_s block, zeros
    around it. Every function is divided by its norm at scale 0, so the same coefficients give a filter whose
    response to a zoomed image is the zoomed response."""
    sizes = scale_kernel_sizes(kernel_size, scales)
    largest = sizes[-1]
    sigma0 = max(kernel_size // 2, 1) / TRUNCATE
    orders = hermite_orders()
    basis = torch.zeros(scales, len(orders), largest, largest, dtype=torch.float64)
    for s, size in enumerate(sizes):
        sigma = sigma0 * SCALE_STEP ** s
        t = (torch.arange(size, dtype=torch.float64) - size // 2) / sigma
        gauss = torch.exp(-0.5 * t * t)
        hermite = [torch.ones_like(t), t, t * t - 1, t * t * t - 3 * t]  # probabilists' He_0 .. He_3
        start = (largest - size) // 2
        for i, (n, m) in enumerate(orders):
            block = (hermite[n] * gauss)[:, None] * (hermite[m] * gauss)[None, :] / (sigma * sigma)
            basis[s, i, start:start + size, start:start + size] = block
    norms = basis[0].flatten(1).norm(dim=1)
    return basis / norms[None, :, None, None]


class ScaleLift2d(torch.nn.Module):
    """Plain channels (B, C, H, W) in, regular fields at every scale (scales * B, out_fields * order, H, W) out."""

    def __init__(self, in_channels: int, out_fields: int, kernel_size: int, spatial, scales: int):
        super().__init__()
        self.in_channels = in_channels
        self.out_fields = out_fields
        self.order = len(spatial)
        self.scales = scales
        self.sizes = scale_kernel_sizes(kernel_size, scales)
        self.register_buffer("basis", hermite_basis(kernel_size, scales).to(torch.float32), persistent=False)
        self.transforms = torch.nn.ModuleList([FilterTransforms(spatial, k) for k in self.sizes])
        functions = self.basis.shape[1]
        self.weight = torch.nn.Parameter(
            torch.randn(out_fields, in_channels, functions) * math.sqrt(2.0 / (in_channels * functions)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = []
        largest = self.sizes[-1]
        for s, transforms in enumerate(self.transforms):
            k = self.sizes[s]
            start = (largest - k) // 2
            basis = self.basis[s, :, start:start + k, start:start + k]
            base = transforms.prepare(torch.einsum("oif,fkl->oikl", self.weight, basis))
            copies = [transforms(base, g) for g in range(self.order)]
            bank = torch.stack(copies, dim=1).reshape(self.out_fields * self.order, self.in_channels, k, k)
            outputs.append(F.conv2d(x, bank.to(x.dtype), None, padding=k // 2))
        return torch.cat(outputs, dim=0)


class ScaleGroupConv2d(torch.nn.Module):
    """Regular fields at every scale in and out. Output scale s sees input scales s .. s + window - 1 (those that
    exist) through filters sampled at scale s: one weight per (input offset, field, group element, basis function),
    shared by all scales. Along the group axis the filters move as in GroupConv2d (`table`)."""

    def __init__(self, in_fields: int, out_fields: int, kernel_size: int, spatial, table, scales: int,
                 window: int = SCALE_WINDOW):
        super().__init__()
        self.in_fields = in_fields
        self.out_fields = out_fields
        self.order = len(spatial)
        self.scales = scales
        self.window = window
        self.sizes = scale_kernel_sizes(kernel_size, scales)
        self.register_buffer("basis", hermite_basis(kernel_size, scales).to(torch.float32), persistent=False)
        self.transforms = torch.nn.ModuleList([FilterTransforms(spatial, k) for k in self.sizes])
        functions = self.basis.shape[1]
        fan_in = in_fields * self.order * min(window, scales) * functions
        self.weight = torch.nn.Parameter(
            torch.randn(out_fields, in_fields, window, self.order, functions) * math.sqrt(2.0 / fan_in))
        self.register_buffer("table", torch.tensor(table, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0] // self.scales
        height, width = x.shape[-2], x.shape[-1]
        per_scale = x.reshape(self.scales, batch, self.in_fields * self.order, height, width)
        outputs = []
        largest = self.sizes[-1]
        for s, transforms in enumerate(self.transforms):
            k = self.sizes[s]
            count = min(self.window, self.scales - s)  # scales past the top are absent
            start = (largest - k) // 2
            basis = self.basis[s, :, start:start + k, start:start + k]
            base = torch.einsum("oijgf,fkl->oijgkl", self.weight[:, :, :count], basis)
            base = transforms.prepare(base)
            copies = [transforms(base.index_select(3, self.table[g]), g) for g in range(self.order)]
            bank = torch.stack(copies, dim=1)  # (out, order_out, in, offset, order_in, k, k)
            bank = bank.permute(0, 1, 3, 2, 4, 5, 6).reshape(
                self.out_fields * self.order, count * self.in_fields * self.order, k, k)
            inputs = per_scale[s:s + count].transpose(0, 1).reshape(
                batch, count * self.in_fields * self.order, height, width)
            outputs.append(F.conv2d(inputs, bank.to(x.dtype), None, padding=k // 2))
        return torch.cat(outputs, dim=0)


class ScalePool(torch.nn.Module):
    """(scales * B, ...) to (B, ...) by max or mean over the scale axis: invariant to moving along it."""

    def __init__(self, scales: int, mode: str = "max"):
        super().__init__()
        self.scales = scales
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.reshape([self.scales, x.shape[0] // self.scales] + list(x.shape[1:]))
        return y.amax(dim=0) if self.use_max else y.mean(dim=0)
