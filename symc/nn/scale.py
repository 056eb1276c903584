"""Scale-equivariant convolutions on grids of 1, 2 or 3 axes: a scale-space lifting and scale-group convolutions
(as SESN does).

Between scale layers the scale axis is folded into the batch: (scales * B, channels, *grid), scale-major (row s*B + b
is sample b at scale s), so norms, activations and group pooling run on every scale with the same weights. A filter
is a fixed combination of Hermite-Gaussian functions (products of one 1D function per axis) sampled at
sigma_s = sigma_0 * q^s with q = SCALE_STEP and normalized by 1/sigma^dims, so the filter at scale s is the scale-0
filter dilated by q^s. Zooming the input in by q then moves the response at scale s - 1 to scale s; the top scale
would need a scale that is not computed, so scale equivariance is approximate. Each scale's filters are expanded
over the finite group exactly as GroupConv expands its own (symc.nn.filters, the same moves table): right angles,
mirrors and channel actions (hue) stay exact at every scale.
"""
import math

import torch

from ..sizes import SCALE_STEP, SCALE_WINDOW, TRUNCATE, hermite_orders, scale_kernel_sizes
from .conv import conv_nd
from .filters import FilterCopies


def hermite_basis(kernel_size: int, scales: int, dims: int = 2) -> torch.Tensor:
    """(scales, functions, K, ..., K) float64 with `dims` grid axes, K the largest grid; scale s fills the centred
    k_s block, zeros around it. Every function is divided by its norm at scale 0, so the same coefficients give a
    filter whose response to a zoomed grid is the zoomed response."""
    sizes = scale_kernel_sizes(kernel_size, scales)
    largest = sizes[-1]
    sigma0 = max(kernel_size // 2, 1) / TRUNCATE
    orders = hermite_orders(dims)
    basis = torch.zeros([scales, len(orders)] + [largest] * dims, dtype=torch.float64)
    for s, size in enumerate(sizes):
        sigma = sigma0 * SCALE_STEP ** s
        t = (torch.arange(size, dtype=torch.float64) - size // 2) / sigma
        gauss = torch.exp(-0.5 * t * t)
        hermite = [torch.ones_like(t), t, t * t - 1, t * t * t - 3 * t]  # probabilists' He_0 .. He_3
        start = (largest - size) // 2
        window = tuple([s, slice(None)] + [slice(start, start + size)] * dims)
        for i, degrees in enumerate(orders):
            block = hermite[degrees[0]] * gauss
            for n in degrees[1:]:
                block = block[..., None] * (hermite[n] * gauss)
            basis[window][i] = block / sigma ** dims
    norms = basis[0].flatten(1).norm(dim=1)
    return basis / norms.reshape([1, -1] + [1] * dims)


def scale_bases(kernel_size: int, scales: int, dims: int) -> torch.Tensor:
    """(functions, sum of k_s^dims) float32: each scale's functions on its own centred grid, flattened and side by
    side (split by taps per scale in forward)."""
    basis = hermite_basis(kernel_size, scales, dims)
    largest = basis.shape[-1]
    parts = []
    for s, size in enumerate(scale_kernel_sizes(kernel_size, scales)):
        start = (largest - size) // 2
        block = basis[s]
        for axis in range(dims):
            block = block.narrow(1 + axis, start, size)
        parts.append(block.reshape(block.shape[0], -1))
    return torch.cat(parts, dim=1).to(torch.float32)


class ScaleLift(torch.nn.Module):
    """Plain channels (B, C, *grid) in, regular fields at every scale (scales * B, out_fields * order, *grid) out.

    `actions` (optional, one matrix per element) turn the first input channels as in GroupConv (hue rotations of RGB).
    """

    def __init__(self, in_channels: int, out_fields: int, kernel_size: int, moves, scales: int, actions=None):
        super().__init__()
        self.in_channels = in_channels
        self.out_fields = out_fields
        self.order = len(moves)
        self.dims = len(moves[0][0])
        self.scales = scales
        self.sizes = scale_kernel_sizes(kernel_size, scales)
        self.taps = [k ** self.dims for k in self.sizes]
        self.register_buffer("basis", scale_bases(kernel_size, scales, self.dims), persistent=False)
        table = [[0] * self.order] * self.order  # no regular inputs: the group table is never read
        self.copies = torch.nn.ModuleList([FilterCopies(moves, table, k, (in_channels, 0), (0, out_fields), actions)
                                           for k in self.sizes])
        functions = self.basis.shape[0]
        self.weight = torch.nn.Parameter(
            torch.randn(out_fields, in_channels, functions) * math.sqrt(2.0 / (in_channels * functions)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = []
        bases = self.basis.split(self.taps, dim=1)
        for s, copies in enumerate(self.copies):
            base = torch.einsum("oif,ft->oit", self.weight, bases[s])
            bank = copies(None, base, None, None)
            outputs.append(conv_nd(x, bank.to(x.dtype), None, self.sizes[s] // 2))
        return torch.cat(outputs, dim=0)


class ScaleGroupConv(torch.nn.Module):
    """Regular fields at every scale in and out. Output scale s sees input scales s .. s + window - 1 (those that
    exist) through filters sampled at scale s: one weight per (input offset, field, group element, basis function),
    shared by all scales. Along the group axis the filters move as in GroupConv (`table`)."""

    def __init__(self, in_fields: int, out_fields: int, kernel_size: int, moves, table, scales: int,
                 window: int = SCALE_WINDOW):
        super().__init__()
        self.in_fields = in_fields
        self.out_fields = out_fields
        self.order = len(moves)
        self.dims = len(moves[0][0])
        self.scales = scales
        self.window = window
        self.sizes = scale_kernel_sizes(kernel_size, scales)
        self.taps = [k ** self.dims for k in self.sizes]
        self.counts = [min(window, scales - s) for s in range(scales)]  # scales past the top are absent
        self.register_buffer("basis", scale_bases(kernel_size, scales, self.dims), persistent=False)
        # Scale s reads `counts[s]` input scales: offset-major input fields (offset, field) for its group conv.
        self.copies = torch.nn.ModuleList([FilterCopies(moves, table, k, (0, c * in_fields), (0, out_fields))
                                           for k, c in zip(self.sizes, self.counts)])
        functions = self.basis.shape[0]
        fan_in = in_fields * self.order * min(window, scales) * functions
        self.weight = torch.nn.Parameter(
            torch.randn(out_fields, in_fields, window, self.order, functions) * math.sqrt(2.0 / fan_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0] // self.scales
        grid = list(x.shape[2:])
        channels = self.in_fields * self.order
        per_scale = x.reshape([self.scales, batch, channels] + grid)
        outputs = []
        bases = self.basis.split(self.taps, dim=1)
        for s, copies in enumerate(self.copies):
            count = self.counts[s]
            base = torch.einsum("oijgf,ft->ojigt", self.weight[:, :, :count], bases[s])
            bank = copies(None, None, None, base.reshape(self.out_fields, count * self.in_fields, self.order, -1))
            inputs = per_scale[s:s + count].transpose(0, 1).reshape([batch, count * channels] + grid)
            outputs.append(conv_nd(inputs, bank.to(x.dtype), None, self.sizes[s] // 2))
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
