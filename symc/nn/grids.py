"""Regular group convolutions and field layers on 1D and 3D grids: sequences (time reversal) and volumes (cube).

A group element's spatial action is `(source, flips)`: output axis b of a moved map reads input axis source[b], reversed
when flips[b] is 1 (torch.flip of a 'same'-padded odd kernel about its centre). Time reversal is ((0,), (1,)); a cube
symmetry permutes and reverses the three axes. Feature maps of a regular layer have `fields * order` channels,
field-major, and element g moves them as out[h] = g(in[table[g][h]]), as on images (symc/nn/conv.py).
"""
import math

import torch
import torch.nn.functional as F

from .fft import fft_allowed, fft_conv
from .layers import shape_text


def move_filters(w: torch.Tensor, source: list[int], flips: list[int]) -> torch.Tensor:
    """Filters (..., *kernel) moved by the element (source, flips) acting on their last len(source) axes."""
    lead = w.dim() - len(source)
    w = w.permute(list(range(lead)) + [lead + a for a in source])
    dims: list[int] = []
    for b in range(len(flips)):  # a loop, not a filtered comprehension: TorchScript has none
        if flips[b]:
            dims.append(lead + b)
    return torch.flip(w, dims=dims) if len(dims) > 0 else w


class RegularConvNd(torch.nn.Module):
    """'Same'-padded, stride-1 regular group convolution on 1D or 3D grids.

    With `table` None it lifts plain channels to regular fields (one moved copy of each filter per element); with a
    table it maps regular fields to regular fields (filters moved spatially and along the group axis). `boundary` is
    'zero' or 'circular'; `algorithm` 'direct' (torch's conv) or 'fft' (symc's FFT convolution). Only base filters
    are parameters; the expanded bank is cached in eval mode until the weights change.
    """

    def __init__(self, in_size: int, out_fields: int, kernel_size: int, spatial, table=None, bias: bool = False,
                 boundary: str = "zero", algorithm: str = "direct"):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel size must be odd so filters have a centre, got {kernel_size}")
        self.dims = len(spatial[0][0])
        self.order = len(spatial)
        self.spatial = [(tuple(s), tuple(f)) for s, f in spatial]
        self.sources = [[int(a) for a in s] for s, _ in spatial]  # lists: what TorchScript indexes
        self.flips = [[int(b) for b in f] for _, f in spatial]
        self.kernel_size = kernel_size
        self.out_fields = out_fields
        self.boundary = boundary
        self.use_fft = algorithm == "fft"
        self.lifting = table is None
        group_axis = () if self.lifting else (self.order,)
        self.in_channels = in_size * (1 if self.lifting else self.order)
        fan_in = self.in_channels * kernel_size ** self.dims
        shape = (out_fields, in_size) + group_axis + (kernel_size,) * self.dims
        self.weight = torch.nn.Parameter(torch.randn(shape) * math.sqrt(2.0 / fan_in))
        self.bias = torch.nn.Parameter(torch.zeros(out_fields)) if bias else None
        # Row g lists which base slice feeds each input element (empty when lifting: no group axis in).
        self.register_buffer("table", torch.tensor(table if table is not None else [], dtype=torch.long),
                             persistent=False)
        self.register_buffer("expansion", self._expansion_index(in_size, table), persistent=False)
        self._cached_bank = None
        self._cached_version = -1

    def _expansion_index(self, in_size: int, table) -> torch.Tensor:
        """Flat positions in one output field's base filters (in[, order], *kernel) of every entry of its copies:
        the bank is one gather, and its gradient one indexed sum (the moves are index moves of positions)."""
        taps = self.kernel_size ** self.dims
        pixels = torch.stack([move_filters(torch.arange(taps).reshape([self.kernel_size] * self.dims), source, flips)
                              .reshape(-1) for source, flips in self.spatial])                  # (g, taps)
        if table is None:
            slots = torch.arange(in_size)[None, :].expand(self.order, -1)                       # (g, i)
        else:
            table = torch.as_tensor(table, dtype=torch.long)
            slots = (torch.arange(in_size)[None, :, None] * self.order + table[:, None, :]).reshape(self.order, -1)
        return (slots[:, :, None] * taps + pixels[:, None, :]).reshape(-1)

    def expand_weight(self) -> torch.Tensor:
        bank = self.weight.reshape(self.out_fields, -1).index_select(1, self.expansion)  # (out, order * in * ...)
        return bank.reshape([self.out_fields * self.order, self.in_channels] + [self.kernel_size] * self.dims)

    def filter_bank(self) -> torch.Tensor:
        # Scripted, traced and compiled graphs expand inside the graph: a Python-side cache would be frozen into them.
        if torch.jit.is_scripting():
            return self.expand_weight()
        if self.training or torch.compiler.is_compiling() or torch.jit.is_tracing():
            self._cached_bank = None
            return self.expand_weight()
        if self._cached_bank is None or self._cached_version != self.weight._version:
            # At the weights' own precision: an autocast region must not leave 16-bit filters cached.
            with torch.no_grad(), torch.autocast(self.weight.device.type, enabled=False):
                self._cached_bank = self.expand_weight()
            self._cached_version = self.weight._version
        return self._cached_bank

    def train(self, mode: bool = True):
        self._cached_bank = None
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):
        self._cached_bank = None
        return super()._load_from_state_dict(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bank = self.filter_bank()
        bias = self.bias.repeat_interleave(self.order) if self.bias is not None else None
        if self.use_fft and fft_allowed():
            return fft_conv(x, bank, bias, circular=self.boundary == "circular")
        half = self.kernel_size // 2
        if self.boundary == "circular":
            x = F.pad(x, [half, half] * self.dims, mode="circular")
            half = 0
        if self.dims == 1:
            return F.conv1d(x, bank, bias, padding=half)
        return F.conv3d(x, bank, bias, padding=half)


class FieldNorm(torch.nn.Module):
    """Normalization per field with statistics shared by its group axis and all positions, on any grid."""

    def __init__(self, fields: int, order: int, kind: str = "batch"):
        super().__init__()
        self.fields = fields
        if kind == "batch":
            self.norm = torch.nn.BatchNorm1d(fields)
        else:
            self.norm = torch.nn.GroupNorm(1 if kind == "layer" else math.gcd(fields, 8), fields)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.reshape(x.shape[0], self.fields, -1)).reshape(x.shape)


class FieldPool(torch.nn.Module):
    """Regular fields (B, fields*order, *grid) to invariant scalars (B, fields, *grid): max or mean over the group."""

    def __init__(self, fields: int, order: int, mode: str = "max"):
        super().__init__()
        self.fields = fields
        self.order = order
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.reshape([x.shape[0], self.fields, self.order] + list(x.shape[2:]))
        return y.amax(dim=2) if self.use_max else y.mean(dim=2)


class GlobalPool(torch.nn.Module):
    """Mean or max over every grid position: (B, C, *grid) -> (B, C)."""

    def __init__(self, mode: str = "mean"):
        super().__init__()
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(2)
        return flat.amax(dim=-1) if self.use_max else flat.mean(dim=-1)


class SymmetricDownsample3d(torch.nn.Module):
    """Halves D, H and W with windows symmetric about the volume's centre (see SymmetricDownsample2d): windows of 2
    at stride 2 on an even side, padded windows of 3 on an odd side, so every cube symmetry maps windows onto
    windows at every size."""

    def __init__(self, mode: str = "max"):
        super().__init__()
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sizes = x.shape[-3:]
        kernel = [2 + s % 2 for s in sizes]
        padding = [s % 2 for s in sizes]
        if self.use_max:
            return F.max_pool3d(x, kernel, 2, padding)
        return F.avg_pool3d(x, kernel, 2, padding, count_include_pad=False)


def check_grid_input(x: torch.Tensor, channels: int, rank: int, min_size: int, layout: str, cube: bool) -> None:
    """Raise a ValueError naming the expected layout when `x` cannot be this sequence or volume model's input."""
    if x.dim() != rank:
        raise ValueError(f"expected input of shape {layout}, got a tensor of rank {x.dim()} with shape "
                         f"{shape_text(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(f"expected input of shape {layout} with {channels} channels, got {x.shape[1]} channels "
                         f"(shape {shape_text(x.shape)})")
    if min(x.shape[2:]) < min_size:
        raise ValueError(f"expected input of shape {layout} with every size at least {min_size}, got "
                         f"{shape_text(x.shape)}")
    if cube and (x.shape[2] != x.shape[3] or x.shape[3] != x.shape[4]):
        raise ValueError(f"expected a cubic input {layout} with D = H = W (cube symmetries turn it by 90 degrees), "
                         f"got {shape_text(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point input of shape {layout}, got dtype {x.dtype}")
