"""Lifting and regular group convolutions on images.

Feature maps of a regular layer have `fields * order` channels, field-major: channel `f * order + h` is field f at
group element h. A group element g moves such a map as out[h] = spatial_g(in[table[g][h]]) with
table[g][h] = index of g^-1 h; the convolutions below commute with that action because the filter for output element g
is the base filter moved by g (spatially, and along the group axis by the same table).

Only the base filters are parameters; the expanded filter bank is rebuilt from them in training and cached in eval mode.
"""
import math

import torch
import torch.nn.functional as F

from .fft import fft_allowed, fft_conv, fft_sizes, filter_spectrum
from .filters import FilterTransforms


class ExpandedConv2d(torch.nn.Module):
    """Shared machinery: a 'same'-padded stride-1 conv whose filter bank is expanded from base weights.

    `algorithm` is 'direct' (torch's conv2d, in `channels_last` memory format if asked) or 'fft' (symc's FFT
    convolution); the planner picks per layer. Both compute the same cross-correlation.
    """

    def __init__(self, kernel_size: int, spatial, bias_fields: int, bias: bool, algorithm: str = "direct",
                 channels_last: bool = False):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel size must be odd so filters have a centre, got {kernel_size}")
        if algorithm not in ("direct", "fft"):
            raise ValueError(f"algorithm must be 'direct' or 'fft', got {algorithm!r}")
        self.use_fft = algorithm == "fft"
        self.channels_last = channels_last
        self.kernel_size = kernel_size
        self.order = len(spatial)
        self.transforms = FilterTransforms(spatial, kernel_size)
        self.bias = torch.nn.Parameter(torch.zeros(bias_fields)) if bias else None
        self._cached_weight = None
        self._cached_version = -1
        self._cached_spectrum = None
        self._cached_sizes = None
        self._cached_bank = None

    def expand_weight(self) -> torch.Tensor:
        raise NotImplementedError

    def filter_bank(self) -> torch.Tensor:
        # Scripted, traced and compiled graphs expand inside the graph: a Python-side cache would be frozen into
        # them (torch.jit.freeze folds a scripted eval model's expansion into constants instead).
        if torch.jit.is_scripting():
            return self.expand_weight()
        if self.training or torch.compiler.is_compiling() or torch.jit.is_tracing():
            self._cached_weight = None
            return self.expand_weight()
        # In eval mode the bank only changes when a base weight does (optimizer step, load_state_dict).
        weights = self.base_weights()
        version = sum(w._version for w in weights)
        if self._cached_weight is None or version != self._cached_version:
            # Expanded at the weights' own precision: an autocast region must not leave 16-bit filters cached.
            with torch.no_grad(), torch.autocast(weights[0].device.type, enabled=False):
                self._cached_weight = self.expand_weight()
            self._cached_version = version
        return self._cached_weight

    def base_weights(self) -> list[torch.Tensor]:
        """The parameters the bank is expanded from: the eval cache is rebuilt when any of them changes."""
        return [self.weight]

    def _spectrum(self, x: torch.Tensor, bank: torch.Tensor) -> torch.Tensor | None:
        """The filters' FFT; in eval mode kept until the bank or the input size changes."""
        if torch.jit.is_scripting():
            return None
        if self.training or torch.compiler.is_compiling() or torch.jit.is_tracing():
            return None
        sizes = fft_sizes(x, bank, False)
        if self._cached_spectrum is None or self._cached_sizes != sizes or self._cached_bank is not bank:
            with torch.no_grad():
                self._cached_spectrum = filter_spectrum(bank, sizes)
            self._cached_sizes = sizes
            self._cached_bank = bank
        return self._cached_spectrum

    def train(self, mode: bool = True):
        self._cached_weight = None
        self._cached_spectrum = None
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):
        self._cached_weight = None
        self._cached_spectrum = None
        return super()._load_from_state_dict(*args, **kwargs)

    def expanded_bias(self) -> torch.Tensor | None:
        """One bias per output channel: each field's bias repeated over its group axis."""
        if self.bias is None:
            return None
        return self.bias.repeat_interleave(self.order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.expanded_bias()
        bank = self.filter_bank()
        if self.use_fft and fft_allowed():
            return fft_conv(x, bank, bias, spectrum=self._spectrum(x, bank))
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return F.conv2d(x, bank, bias, padding=self.kernel_size // 2)


class GroupLift2d(ExpandedConv2d):
    """Plain channels in, regular fields out: one rotated/mirrored copy of each filter per group element."""

    def __init__(self, in_channels: int, out_fields: int, kernel_size: int, spatial, bias: bool = False,
                 algorithm: str = "direct", channels_last: bool = False):
        super().__init__(kernel_size, spatial, out_fields, bias, algorithm, channels_last)
        self.in_channels = in_channels
        self.out_fields = out_fields
        fan_in = in_channels * kernel_size * kernel_size
        self.weight = torch.nn.Parameter(
            torch.randn(out_fields, in_channels, kernel_size, kernel_size) * math.sqrt(2.0 / fan_in))
        self.register_buffer("expansion", self.transforms.expansion_index(in_channels), persistent=False)

    def expand_weight(self) -> torch.Tensor:
        bank = self.transforms.expand(self.weight, self.expansion)  # (out, order * in * k * k)
        k = self.kernel_size
        return bank.reshape(self.out_fields * self.order, self.in_channels, k, k)


class GroupConv2d(ExpandedConv2d):
    """Regular fields in, regular fields out: filters moved spatially and along the group axis."""

    def __init__(self, in_fields: int, out_fields: int, kernel_size: int, spatial, table, bias: bool = False,
                 algorithm: str = "direct", channels_last: bool = False):
        super().__init__(kernel_size, spatial, out_fields, bias, algorithm, channels_last)
        self.in_fields = in_fields
        self.out_fields = out_fields
        order = len(spatial)
        fan_in = in_fields * order * kernel_size * kernel_size
        self.weight = torch.nn.Parameter(
            torch.randn(out_fields, in_fields, order, kernel_size, kernel_size) * math.sqrt(2.0 / fan_in))
        # Row g lists, for each input element h, which base slice feeds it: index of g^-1 h.
        self.register_buffer("table", torch.tensor(table, dtype=torch.long), persistent=False)
        self.register_buffer("expansion", self.transforms.expansion_index(in_fields, table), persistent=False)

    def expand_weight(self) -> torch.Tensor:
        bank = self.transforms.expand(self.weight, self.expansion)  # (out, order_out * in * order_in * k * k)
        k = self.kernel_size
        return bank.reshape(self.out_fields * self.order, self.in_fields * self.order, k, k)
