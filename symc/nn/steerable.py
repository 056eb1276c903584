"""Steerable layers for the continuous rotations (and mirrors) of the plane, SO(2) and O(2).

A feature map holds fields of irreducible representations, listed as blocks (frequency, sign, count) in channel
order: a block of frequency 0 is `count` scalar channels (sign -1: pseudoscalars, which the mirror negates); a block
of frequency k >= 1 is `count` fields of two channels each, field-major, that a rotation by t turns by k t. The
filter basis between two irreps comes from symc.groups.circle as circular harmonics (t, C, S):
K(phi) = cos(t phi) C + sin(t phi) S, with phi = atan2(col, row) of the filter tap, on Gaussian rings.
"""
import math

import torch
import torch.nn.functional as F


def ring_filters(harmonics, rings, kernel_size: int) -> torch.Tensor:
    """The basis filters of one pair of irreps: (count, out_dim, in_dim, kernel, kernel), each of unit norm.

    `rings` lists (radius, width, highest harmonic) per ring; a harmonic t > 0 vanishes at the centre tap, where
    no direction is defined.
    """
    centre = (kernel_size - 1) / 2
    u = (torch.arange(kernel_size, dtype=torch.float64) - centre)[:, None].expand(kernel_size, kernel_size)
    v = (torch.arange(kernel_size, dtype=torch.float64) - centre)[None, :].expand(kernel_size, kernel_size)
    rho = torch.sqrt(u * u + v * v)
    phi = torch.atan2(v, u)
    filters = []
    for radius, width, top in rings:
        profile = torch.exp(-0.5 * ((rho - radius) / width) ** 2)
        for t, c, s in harmonics:
            if t > top:
                continue
            ring = profile * (rho > 0) if t > 0 else profile
            c, s = torch.tensor(c, dtype=torch.float64), torch.tensor(s, dtype=torch.float64)
            f = ring * (torch.cos(t * phi) * c[:, :, None, None] + torch.sin(t * phi) * s[:, :, None, None])
            norm = f.norm()
            if norm > 1e-9:
                filters.append(f / norm)
    if not filters:
        return torch.zeros(0, 1, 1, kernel_size, kernel_size)
    return torch.stack(filters).float()


def block_dim(block) -> int:
    return 1 if block[0] == 0 else 2


class SteerableConv(torch.nn.Module):
    """A convolution between two field types of irreps whose filters are steerable: rotating the input by any angle
    (and mirroring it, for O(2)) moves the output by the output's representation, up to the filters' sampling.

    `harmonics[(out_irrep, in_irrep)]` is the filter basis of a pair of irreps (frequency, sign) and `rings` the
    radial profiles; every (out field, in field) pair learns one weight per basis filter. Scalar outputs get a bias.
    """

    def __init__(self, in_blocks, out_blocks, kernel_size: int, harmonics, rings, bias: bool = True,
                 padding: int | None = None):
        super().__init__()
        self.in_blocks, self.out_blocks = tuple(in_blocks), tuple(out_blocks)
        self.kernel_size = kernel_size
        # kernel // 2 keeps the size; less crops the output evenly about the centre, which rotations keep
        self.padding = kernel_size // 2 if padding is None else int(padding)
        self.weights = torch.nn.ParameterList()
        # Per weight: where its block sits in the bank and where its basis sits in the one flat basis buffer (plain
        # int lists and one buffer, so the layer scripts).
        self.block_rows: list[int] = []
        self.block_cols: list[int] = []
        self.block_shape: list[list[int]] = []  # (basis count, out irrep dim, in irrep dim)
        self.basis_starts: list[int] = []
        bases, basis_size = [], 0
        row_starts = self._starts(self.out_blocks)
        col_starts = self._starts(self.in_blocks)
        for o, out in enumerate(self.out_blocks):
            fan_in = []
            for i, into in enumerate(self.in_blocks):
                basis = ring_filters(harmonics.get((out[:2], into[:2]), ()), rings, kernel_size)
                if basis.shape[0] and out[2] and into[2]:
                    fan_in.append((i, basis))
            terms = sum(self.in_blocks[i][2] * basis.shape[0] for i, basis in fan_in)
            for i, basis in fan_in:
                scale = math.sqrt(2.0 / terms)  # He-style: a unit-variance input gives about unit-variance output
                self.weights.append(torch.nn.Parameter(scale * torch.randn(out[2], self.in_blocks[i][2],
                                                                           basis.shape[0])))
                self.block_rows.append(row_starts[o])
                self.block_cols.append(col_starts[i])
                self.block_shape.append([basis.shape[0], basis.shape[1], basis.shape[2]])
                self.basis_starts.append(basis_size)
                bases.append(basis.reshape(-1))
                basis_size += basis.numel()
        self.register_buffer("bases", torch.cat(bases) if bases else torch.zeros(0), persistent=False)
        self.out_channels, self.in_channels = row_starts[-1], col_starts[-1]
        scalar_channels, start = [], 0
        for block in self.out_blocks:
            if block[:2] == (0, 1):
                scalar_channels += range(start, start + block[2])
            start += block_dim(block) * block[2]
        self.channels = start
        self.register_buffer("scalar_channels", torch.tensor(scalar_channels, dtype=torch.long), persistent=False)
        self.bias = torch.nn.Parameter(torch.zeros(len(scalar_channels))) if bias and scalar_channels else None
        self._cached_bank: torch.Tensor | None = None
        self._cached_version = -1

    @staticmethod
    def _starts(blocks) -> list[int]:
        """The first channel of each block, and the channel count last."""
        starts = [0]
        for block in blocks:
            starts.append(starts[-1] + block_dim(block) * block[2])
        return starts

    def filters(self) -> torch.Tensor:
        """The whole filter bank (out channels, in channels, kernel, kernel) from the learned weights."""
        k = self.kernel_size
        bank = self.bases.new_zeros(self.out_channels, self.in_channels, k, k)
        for index, weight in enumerate(self.weights):
            count, a, b = self.block_shape[index]
            basis = self.bases.narrow(0, self.basis_starts[index], count * a * b * k * k).view(count, a, b, k, k)
            block = torch.einsum("fgn,naixy->fagixy", weight, basis)
            rows, cols = block.shape[0] * a, block.shape[2] * b
            row, col = self.block_rows[index], self.block_cols[index]
            bank[row:row + rows, col:col + cols] = block.reshape(rows, cols, k, k)
        return bank

    def filter_bank(self) -> torch.Tensor:
        """The bank; in eager eval mode built once and kept until a weight changes (optimizer step, state dict)."""
        if torch.jit.is_scripting():
            return self.filters()
        if self.training or torch.compiler.is_compiling() or torch.jit.is_tracing() or len(self.weights) == 0:
            self._cached_bank = None
            return self.filters()
        version = sum(w._version for w in self.weights)
        cached = self._cached_bank
        if cached is None or version != self._cached_version or cached.dtype != self.weights[0].dtype \
                or cached.device != self.weights[0].device:
            with torch.no_grad(), torch.autocast(self.weights[0].device.type, enabled=False):
                self._cached_bank = self.filters()
            self._cached_version = version
        return self._cached_bank

    def train(self, mode: bool = True):
        self._cached_bank = None
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):
        self._cached_bank = None
        return super()._load_from_state_dict(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.filter_bank(), padding=self.padding)
        if self.bias is not None:
            bias = self.bias.new_zeros(self.channels).index_copy(0, self.scalar_channels, self.bias)
            y = y + bias[None, :, None, None]
        return y


def segments(blocks) -> list[tuple[str, int, int, int]]:
    """Runs of blocks of one kind, as (kind, first channel, channels, fields): 'scalar' (frequency 0, sign +1),
    'pseudo' (frequency 0, sign -1) or 'vector' (two channels per field, any frequency >= 1). Layers act on a
    whole run at once."""
    runs, start = [], 0
    for block in blocks:
        kind = "vector" if block[0] else ("scalar" if block[1] > 0 else "pseudo")
        width = block_dim(block) * block[2]
        if runs and runs[-1][0] == kind:
            previous = runs[-1]
            runs[-1] = (kind, previous[1], previous[2] + width, previous[3] + block[2])
        else:
            runs.append((kind, start, width, block[2]))
        start += width
    return [run for run in runs if run[2]]


def _as_fields(part: torch.Tensor, fields: int) -> torch.Tensor:
    """(B, fields * 2, *grid) -> (B, fields, 2, *grid)."""
    return part.reshape([part.shape[0], fields, 2] + list(part.shape[2:]))


def _per_channel(values: torch.Tensor, dims: int) -> torch.Tensor:
    """(C,) -> (1, C, 1, ...) broadcasting over a batch of `dims`-dimensional maps."""
    return values.reshape([1, -1] + [1] * (dims - 2))


def scale_fields(runs: list[tuple[str, int, int, int]], x: torch.Tensor, factors: torch.Tensor | None,
                 scalars: list[torch.Tensor]) -> torch.Tensor:
    """Every non-scalar field of `x` times its own factor (factors: (B or 1, fields, *grid or 1s), in field
    order), the scalar runs replaced by `scalars` (in run order): a factor multiplies a field's channels alike, so
    it keeps the field's representation."""
    out: list[torch.Tensor] = []
    field_at, scalar_at = 0, 0
    for kind, start, width, count in runs:
        part = x.narrow(1, start, width)
        if kind == "scalar":
            out.append(scalars[scalar_at])
            scalar_at += 1
        elif factors is not None:
            factor = factors.narrow(1, field_at, count)
            field_at += count
            out.append((_as_fields(part, count) * factor.unsqueeze(2)).reshape(part.shape) if kind == "vector"
                       else part * factor)
    return torch.cat(out, 1) if len(out) > 1 else out[0]


def scalar_parts(runs: list[tuple[str, int, int, int]], x: torch.Tensor) -> list[torch.Tensor]:
    """The scalar runs of `x`, in order."""
    parts: list[torch.Tensor] = []
    for kind, start, width, _ in runs:
        if kind == "scalar":
            parts.append(x.narrow(1, start, width))
    return parts


class IrrepBatchNorm(torch.nn.Module):
    """Batch norm that keeps each irrep: scalars are centred and scaled as BatchNorm2d does; pseudoscalars and
    frequency-k fields are only divided by their running root-mean-square length and scaled per field (a shift or a
    per-channel scale would not commute with the mirror or the rotations)."""

    def __init__(self, blocks, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.runs = segments(blocks)
        self.momentum, self.eps = momentum, eps
        scalars = sum(run[3] for run in self.runs if run[0] == "scalar")
        self.fields = sum(run[3] for run in self.runs if run[0] != "scalar")
        self.scalar_norm = torch.nn.BatchNorm2d(scalars, momentum=momentum, eps=eps) if scalars else None
        self.scale = torch.nn.Parameter(torch.ones(self.fields)) if self.fields else None
        self.register_buffer("running_square", torch.ones(self.fields))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scalars = scalar_parts(self.runs, x)
        normed: list[torch.Tensor] = []
        norm = self.scalar_norm
        if norm is not None and len(scalars) > 0:
            joined = norm(torch.cat(scalars, 1) if len(scalars) > 1 else scalars[0])
            taken = 0
            for part in scalars:  # the scalar runs, in order, from the one norm
                normed.append(joined.narrow(1, taken, part.shape[1]))
                taken += part.shape[1]
        squares: list[torch.Tensor] = []  # mean square per channel of each field
        for kind, start, width, count in self.runs:
            part = x.narrow(1, start, width)
            if kind == "vector":
                squares.append(_as_fields(part, count).pow(2).sum(2) / 2)
            elif kind == "pseudo":
                squares.append(part.pow(2))
        factor: torch.Tensor | None = None
        scale = self.scale
        if len(squares) > 0 and scale is not None:
            square = torch.cat(squares, 1)
            if self.training:
                mean = square.mean(dim=[0] + list(range(2, square.dim())))
                with torch.no_grad():
                    self.running_square.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
            else:
                mean = self.running_square
            factor = _per_channel(scale / torch.sqrt(mean + self.eps), x.dim())
        return scale_fields(self.runs, x, factor, normed)


class GatedActivation(torch.nn.Module):
    """Scalars through ReLU; every other field times the sigmoid of its own gate, a scalar the previous conv made
    (the gates are the last `gates` channels, in field order, and are dropped). A gate is invariant, so each field
    keeps its representation exactly, at every angle."""

    def __init__(self, blocks):
        super().__init__()
        self.runs = segments(blocks)
        self.gates = sum(run[3] for run in self.runs if run[0] != "scalar")
        self.channels = sum(run[2] for run in self.runs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scalars = [F.relu(part) for part in scalar_parts(self.runs, x)]
        return scale_fields(self.runs, x, torch.sigmoid(x.narrow(1, self.channels, self.gates)), scalars)


class NormActivation(torch.nn.Module):
    """Scalars through ReLU; every other field f scaled by ReLU(|f| - b) / |f| with a learned threshold b per field
    (its absolute value is used): the length changes, the direction (and so the representation) is kept exactly."""

    def __init__(self, blocks):
        super().__init__()
        self.runs = segments(blocks)
        fields = sum(run[3] for run in self.runs if run[0] != "scalar")
        self.threshold = torch.nn.Parameter(torch.full((fields,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: list[torch.Tensor] = []
        field_at = 0
        for kind, start, width, count in self.runs:
            part = x.narrow(1, start, width)
            if kind == "scalar":
                out.append(F.relu(part))
                continue
            threshold = _per_channel(self.threshold.narrow(0, field_at, count).abs(), x.dim())
            field_at += count
            fields = _as_fields(part, count) if kind == "vector" else part.unsqueeze(2)
            length = torch.sqrt(fields.pow(2).sum(2) + 1e-12)
            scaled = fields * (F.relu(length - threshold) / length).unsqueeze(2)
            out.append(scaled.reshape(part.shape))
        return torch.cat(out, 1) if len(out) > 1 else out[0]


class InvariantLengths(torch.nn.Module):
    """(B, channels, *grid) -> (B, fields, *grid): scalars as they are, the length of every other field (pseudo-
    scalars' absolute value): quantities no rotation or mirror changes."""

    def __init__(self, blocks):
        super().__init__()
        self.runs = segments(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: list[torch.Tensor] = []
        for kind, start, width, count in self.runs:
            part = x.narrow(1, start, width)
            if kind == "scalar":
                out.append(part)
            elif kind == "vector":
                out.append(torch.sqrt(_as_fields(part, count).pow(2).sum(2) + 1e-12))
            else:
                out.append(torch.sqrt(part.pow(2) + 1e-12))
        return torch.cat(out, 1) if len(out) > 1 else out[0]


class WeightedDirections(torch.nn.Module):
    """Orientation outputs of SO(2)/O(2) models: (B, channels, H, W) -> (B, k * 2), k frequency-1 vectors.

    Each output is a weighted mean over positions of a frequency-1 field made by a 1x1 steerable conv, with weights
    a softmax over positions of invariant logits (a 1x1 conv of the field lengths). The weights move with the image
    and the vectors turn with it, so the result turns as a frequency-1 field does; a plain mean of vectors would
    mostly cancel, leaving outputs too small to point anywhere reliably.
    """

    def __init__(self, in_blocks, k: int, harmonics, rings):
        super().__init__()
        self.lengths = InvariantLengths(in_blocks)
        fields = sum(block[2] for block in in_blocks)
        self.logits = torch.nn.Conv2d(fields, k, 1)
        self.vectors = SteerableConv(in_blocks, ((1, 1, k),), 1, harmonics, rings)
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.logits(self.lengths(x)).flatten(2), dim=-1)      # (B, k, H*W)
        vectors = self.vectors(x).reshape(x.shape[0], self.k, 2, -1)                    # (B, k, 2, H*W)
        return (vectors * weights.unsqueeze(2)).sum(-1).flatten(1)
