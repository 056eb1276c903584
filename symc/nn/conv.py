"""The equivariant convolution of every grid: sequences (1D), images (2D) and volumes (3D), between any field types.

A map of field type (trivial, regular) has `trivial + regular * order` channels: the trivial channels first (moved
by the grid move alone), then the regular fields, field-major: channel `f * order + h` is field f at group element
h. Element g moves it as out_trivial = g(in_trivial) and out[h] = g(in[table[g][h]]) with table[g][h] = index of
g^-1 h, where g(.) is the grid move of symc.groups.moves (`moves[g] = (source, flips, angle)`). The convolution
commutes with that action because its filter for output element g is the base filter moved by g (spatially, and
along the group axis by the same table); see symc.nn.filters for the four blocks between field types.

Only the base filters are parameters; the expanded filter bank is rebuilt from them in training and cached in eval mode.
"""
import math

import torch
import torch.nn.functional as F

from .fft import fft_allowed, fft_conv, fft_sizes, filter_spectrum
from .approximate import moved, position_count, position_features, position_moves, regular_permutation
from .filters import FilterCopies


def hue_rotations(hue) -> torch.Tensor:
    """(len(hue), 3, 3) float64 rotations about the grey axis, rgb -> M @ rgb, for each (step, k) in `hue`: the
    channel action of hue groups.

    A hue rotation by t turns each pixel's RGB vector by t about (1, 1, 1)/sqrt(3) (right-handed: 120 degrees sends
    red to green).
    """
    matrices = []
    for step, k in hue:
        t = 2.0 * math.pi * step / k
        c, s = math.cos(t), math.sin(t)
        a, b = (1.0 - c) / 3.0, s / math.sqrt(3.0)
        matrices.append([[c + a, a - b, a + b], [a + b, c + a, a - b], [a - b, a + b, c + a]])
    m = torch.tensor(matrices, dtype=torch.float64)
    # Turns by multiples of 120 degrees are channel permutations: make them exactly so.
    return torch.where((m - m.round()).abs() < 1e-12, m.round(), m)


def conv_nd(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int) -> torch.Tensor:
    """torch's 1D, 2D or 3D cross-correlation, chosen by the filters' rank."""
    if weight.dim() == 3:
        return F.conv1d(x, weight, bias, padding=padding)
    if weight.dim() == 4:
        return F.conv2d(x, weight, bias, padding=padding)
    return F.conv3d(x, weight, bias, padding=padding)


class GroupConv(torch.nn.Module):
    """Stride-1 equivariant convolution from field type `in_type` to `out_type` on a grid of
    `len(moves[0][0])` axes.

    Field types are (trivial, regular) counts: a lifting of plain channels is in_type (C, 0), a group convolution
    (0, F); any mix works. `actions` (optional, one square matrix per element, rgb -> M @ rgb) turn the first
    channels of trivial inputs (hue rotations of RGB); other trivial inputs (position channels) are left alone, and
    trivial outputs, group averages, are blind to them. `boundary` is 'zero' or 'circular'; `algorithm` is 'direct'
    (torch's conv, in `channels_last` memory format if asked) or 'fft' (symc's FFT convolution); both compute the
    same cross-correlation. `padding` (kernel_size // 2 when None: 'same', the size kept) may be smaller: the output
    is then cropped by the difference on every side, evenly about the centre, so the grid moves still map it onto
    itself. Block weights: weight_tt (to, ti, *kernel), weight_tr (ro, ti, *kernel),
    weight_rt (to, ri, *kernel), weight_rr (ro, ri, order, *kernel); empty blocks hold none.

    Approximate symmetries (symc.nn.approximate): `free` adds a free bank of the whole bank's shape, zero at first,
    averaged over the `strict` elements (all of them kept when `strict` lists every element but may break the
    others); `free_position` adds a map of smooth functions of position (zero at first) to the output, averaged
    the same way: a path that can depend on where a pattern is.
    """

    def __init__(self, in_type, out_type, kernel_size: int, moves, table, actions=None, bias: bool = False,
                 boundary: str = "zero", algorithm: str = "direct", channels_last: bool = False,
                 free: bool = False, free_position: bool = False, strict=(0,), padding: int | None = None):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel size must be odd so filters have a centre, got {kernel_size}")
        padding = kernel_size // 2 if padding is None else int(padding)
        if not 0 <= padding <= kernel_size // 2:
            raise ValueError(f"padding must be between 0 and kernel_size // 2 = {kernel_size // 2}, got {padding}")
        if padding != kernel_size // 2 and boundary == "circular":
            raise ValueError("a circular boundary keeps the size: padding must be kernel_size // 2")
        if algorithm not in ("direct", "fft"):
            raise ValueError(f"algorithm must be 'direct' or 'fft', got {algorithm!r}")
        if boundary not in ("zero", "circular"):
            raise ValueError(f"boundary must be 'zero' or 'circular', got {boundary!r}")
        ti, ri = int(in_type[0]), int(in_type[1])
        to, ro = int(out_type[0]), int(out_type[1])
        self.in_trivial, self.in_fields, self.out_trivial, self.out_fields = ti, ri, to, ro
        self.order = len(moves)
        self.dims = len(moves[0][0])
        self.kernel_size = kernel_size
        self.padding = padding
        self.circular = boundary == "circular"
        self.boundary = boundary
        self.use_fft = algorithm == "fft"
        self.channels_last = channels_last
        self.copies = FilterCopies(moves, table, kernel_size, (ti, ri), (to, ro), actions)
        kernel = (kernel_size,) * self.dims
        std = math.sqrt(2.0 / ((ti + ri * self.order) * kernel_size ** self.dims))
        # Averaging over the group shrinks a filter's spread by about sqrt(order): that block starts wider.
        self.weight_tt = self._block((to, ti) + kernel, std * math.sqrt(self.order))
        self.weight_tr = self._block((ro, ti) + kernel, std)
        self.weight_rt = self._block((to, ri) + kernel, std)
        self.weight_rr = self._block((ro, ri, self.order) + kernel, std)
        self.bias = torch.nn.Parameter(torch.zeros(to + ro)) if bias else None
        # None when unused, so TorchScript drops the free branches of strict models
        self.free_bank = None
        self.free_position = None
        free_index = None
        if free:
            shape = (to + ro * self.order, ti + ri * self.order) + kernel
            count = math.prod(shape)
            # the strict elements' moves of every entry, as indices: the average is one gather and a mean
            entries = torch.arange(count).reshape(shape)
            index = [moved(entries, moves[g], table[g], (ti, ri), (to, ro)).reshape(-1) for g in strict]
            self.free_bank = torch.nn.Parameter(torch.zeros(shape))
            free_index = torch.stack(index)
        self.register_buffer("free_index", free_index, persistent=False)
        position_index, position_matrices = None, None
        if free_position:
            self.free_position = torch.nn.Parameter(torch.zeros(to + ro * self.order, position_count(self.dims)))
            position_index = torch.tensor([regular_permutation(to, ro, table[g]) for g in strict])
            position_matrices = position_moves(moves, strict, self.dims)
        self.register_buffer("position_index", position_index, persistent=False)
        self.register_buffer("position_matrices", position_matrices, persistent=False)
        self._cached_weight = None
        self._cached_version = -1
        self._cached_spectrum = None
        self._cached_sizes = None
        self._cached_bank = None

    @staticmethod
    def _block(shape, std: float):
        count = 1
        for s in shape:
            count *= s
        return torch.nn.Parameter(torch.randn(shape) * std) if count else None

    def base_weights(self) -> list[torch.Tensor]:
        """The parameters the bank is expanded from: the eval cache is rebuilt when any of them changes."""
        weights: list[torch.Tensor] = []
        for w in (self.weight_tt, self.weight_tr, self.weight_rt, self.weight_rr):  # a loop: TorchScript has no
            if w is not None:                                                        # filtered comprehension
                weights.append(w)
        if self.free_bank is not None:
            weights.append(self.free_bank)
        return weights

    def expand_weight(self) -> torch.Tensor:
        """The whole filter bank (to + ro * order, ti + ri * order, *kernel)."""
        tt, tr, rt, rr = self.weight_tt, self.weight_tr, self.weight_rt, self.weight_rr
        bank = self.copies(tt.reshape(tt.shape[0], tt.shape[1], -1) if tt is not None else None,
                           tr.reshape(tr.shape[0], tr.shape[1], -1) if tr is not None else None,
                           rt.reshape(rt.shape[0], rt.shape[1], -1) if rt is not None else None,
                           rr.reshape(rr.shape[0], rr.shape[1], self.order, -1) if rr is not None else None)
        if self.free_bank is not None and self.free_index is not None:
            bank = bank + self.free_bank.reshape(-1)[self.free_index].mean(dim=0).reshape(self.free_bank.shape)
        return bank

    def position_term(self, x: torch.Tensor, weight: torch.Tensor, index: torch.Tensor,
                      matrices: torch.Tensor) -> torch.Tensor:
        """(out channels, *grid): the free path that depends on position. Its weights are averaged over the strict
        elements (channels permuted, features turned by `matrices`), so the map keeps them at any size."""
        kept = torch.einsum("gop,gpq->oq", weight[index], matrices.to(weight.dtype)) / index.shape[0]
        features = position_features(x.shape[2:], x.dtype, x.device)
        return torch.einsum("op,p...->o...", kept.to(x.dtype), features)

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

    def _spectrum(self, x: torch.Tensor, bank: torch.Tensor) -> torch.Tensor | None:
        """The filters' FFT; in eval mode kept until the bank or the input size changes."""
        if torch.jit.is_scripting():
            return None
        if self.training or torch.compiler.is_compiling() or torch.jit.is_tracing():
            return None
        sizes = fft_sizes(x, bank, self.circular)
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
        """One bias per output channel: trivial fields have one channel each, regular fields repeat theirs over
        the group axis."""
        if self.bias is None:
            return None
        if self.out_trivial == 0:
            return self.bias.repeat_interleave(self.order)
        trivial, regular = self.bias.split([self.out_trivial, self.out_fields])
        return torch.cat([trivial, regular.repeat_interleave(self.order)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.convolve(x)
        weight, index, matrices = self.free_position, self.position_index, self.position_matrices
        if weight is not None and index is not None and matrices is not None:
            out = out + self.position_term(out, weight, index, matrices)
        return out

    def convolve(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.expanded_bias()
        bank = self.filter_bank()
        if self.use_fft and fft_allowed():
            return fft_conv(x, bank, bias, circular=self.circular, spectrum=self._spectrum(x, bank),
                            crop=self.kernel_size // 2 - self.padding)
        if self.channels_last and self.dims > 1:
            x = x.contiguous(memory_format=torch.channels_last if self.dims == 2 else torch.channels_last_3d)
        padding = self.padding
        if self.circular:
            x = F.pad(x, [padding, padding] * self.dims, mode="circular")
            padding = 0
        return conv_nd(x, bank, bias, padding)
