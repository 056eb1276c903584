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

    def __init__(self, in_blocks, out_blocks, kernel_size: int, harmonics, rings, bias: bool = True):
        super().__init__()
        self.in_blocks, self.out_blocks = tuple(in_blocks), tuple(out_blocks)
        self.kernel_size = kernel_size
        self.weights = torch.nn.ParameterList()
        self.pairs = []  # (out block index, in block index, index into weights / basis buffers)
        for o, out in enumerate(self.out_blocks):
            fan_in = []
            for i, into in enumerate(self.in_blocks):
                basis = ring_filters(harmonics.get((out[:2], into[:2]), ()), rings, kernel_size)
                if basis.shape[0] and out[2] and into[2]:
                    fan_in.append((i, basis))
            terms = sum(self.in_blocks[i][2] * basis.shape[0] for i, basis in fan_in)
            for i, basis in fan_in:
                index = len(self.weights)
                self.register_buffer(f"basis{index}", basis, persistent=False)
                scale = math.sqrt(2.0 / terms)  # He-style: a unit-variance input gives about unit-variance output
                self.weights.append(torch.nn.Parameter(scale * torch.randn(out[2], self.in_blocks[i][2],
                                                                           basis.shape[0])))
                self.pairs.append((o, i, index))
        scalar_channels, start = [], 0
        for block in self.out_blocks:
            if block[:2] == (0, 1):
                scalar_channels += range(start, start + block[2])
            start += block_dim(block) * block[2]
        self.channels = start
        self.register_buffer("scalar_channels", torch.tensor(scalar_channels, dtype=torch.long), persistent=False)
        self.bias = torch.nn.Parameter(torch.zeros(len(scalar_channels))) if bias and scalar_channels else None

    def filters(self) -> torch.Tensor:
        """The whole filter bank (out channels, in channels, kernel, kernel) from the learned weights."""
        k = self.kernel_size
        rows = []
        for o, out in enumerate(self.out_blocks):
            row = [None] * len(self.in_blocks)
            for pair_out, i, index in self.pairs:
                if pair_out == o:
                    basis = getattr(self, f"basis{index}")
                    block = torch.einsum("fgn,naixy->fagixy", self.weights[index], basis)
                    row[i] = block.reshape(out[2] * block_dim(out), -1, k, k)
            for i, into in enumerate(self.in_blocks):
                if row[i] is None:
                    row[i] = self._zeros(out[2] * block_dim(out), into[2] * block_dim(into))
            rows.append(torch.cat(row, dim=1))
        return torch.cat(rows, dim=0)

    def _zeros(self, rows: int, cols: int) -> torch.Tensor:
        reference = self.weights[0] if len(self.weights) else torch.zeros(())
        return reference.new_zeros(rows, cols, self.kernel_size, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.filters(), padding=self.kernel_size // 2)
        if self.bias is not None:
            bias = self.bias.new_zeros(self.channels).index_copy(0, self.scalar_channels, self.bias)
            y = y + bias[None, :, None, None]
        return y


def segments(blocks):
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
    return tuple(run for run in runs if run[2])


def _as_fields(part: torch.Tensor, fields: int) -> torch.Tensor:
    """(B, fields * 2, *grid) -> (B, fields, 2, *grid)."""
    return part.reshape(part.shape[0], fields, 2, *part.shape[2:])


def scale_fields(runs, x: torch.Tensor, factors, on_scalars) -> torch.Tensor:
    """Every non-scalar field of `x` times its own factor (factors: (B or 1, fields, *grid or 1s), in field
    order), scalar runs through `on_scalars`: a factor multiplies a field's channels alike, so it keeps the field's
    representation."""
    out, field_at = [], 0
    for kind, start, width, count in runs:
        part = x.narrow(1, start, width)
        if kind == "scalar":
            out.append(on_scalars(part))
            continue
        factor = factors.narrow(1, field_at, count)
        field_at += count
        out.append((_as_fields(part, count) * factor.unsqueeze(2)).reshape(part.shape) if kind == "vector"
                   else part * factor)
    return torch.cat(out, 1) if len(out) > 1 else out[0]


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
        parts = [x.narrow(1, start, width) for _, start, width, _ in self.runs]
        scalars = [p for run, p in zip(self.runs, parts) if run[0] == "scalar"]
        normed_scalars = self.scalar_norm(torch.cat(scalars, 1) if len(scalars) > 1 else scalars[0]) \
            if scalars else None
        others = [(run, p) for run, p in zip(self.runs, parts) if run[0] != "scalar"]
        squares = [_as_fields(p, run[3]).pow(2).sum(2) / 2 if run[0] == "vector" else p.pow(2)
                   for run, p in others]  # mean square per channel of each field
        if others:
            square = torch.cat(squares, 1)
            if self.training:
                mean = square.mean(dim=(0, *range(2, square.dim())))
                with torch.no_grad():
                    self.running_square.mul_(1 - self.momentum).add_(self.momentum * mean.detach())
            else:
                mean = self.running_square
            factor = (self.scale / torch.sqrt(mean + self.eps)).reshape(1, -1, *([1] * (x.dim() - 2)))
        taken = [0]

        def scalars_normed(part: torch.Tensor) -> torch.Tensor:  # the scalar runs, in order, from the one norm
            width = part.shape[1]
            taken[0] += width
            return normed_scalars.narrow(1, taken[0] - width, width)
        return scale_fields(self.runs, x, factor if others else None, scalars_normed)


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
        return scale_fields(self.runs, x, torch.sigmoid(x.narrow(1, self.channels, self.gates)), F.relu)


class NormActivation(torch.nn.Module):
    """Scalars through ReLU; every other field f scaled by ReLU(|f| - b) / |f| with a learned threshold b per field
    (its absolute value is used): the length changes, the direction (and so the representation) is kept exactly."""

    def __init__(self, blocks):
        super().__init__()
        self.runs = segments(blocks)
        fields = sum(run[3] for run in self.runs if run[0] != "scalar")
        self.threshold = torch.nn.Parameter(torch.full((fields,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, field_at = [], 0
        for kind, start, width, count in self.runs:
            part = x.narrow(1, start, width)
            if kind == "scalar":
                out.append(F.relu(part))
                continue
            threshold = self.threshold.narrow(0, field_at, count).abs().reshape(1, -1, *([1] * (x.dim() - 2)))
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
        out = []
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
