"""Pointwise, normalization, pooling and head layers that keep regular fields' symmetry."""
import math

import torch
import torch.nn.functional as F


class FieldNorm2d(torch.nn.Module):
    """Normalization with statistics, scale and shift per field, shared by all of the field's group elements.

    `kind` 'batch' uses batch statistics; 'layer' normalizes each sample over all its fields; 'group' over
    groups of fields. Folding the group axis into the rows makes the torch norms pool over it.
    """

    def __init__(self, fields: int, order: int, kind: str = "batch"):
        super().__init__()
        self.fields = fields
        self.order = order
        if kind == "batch":
            self.norm = torch.nn.BatchNorm2d(fields)
        else:
            groups = 1 if kind == "layer" else math.gcd(fields, 8)
            self.norm = torch.nn.GroupNorm(groups, fields)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        y = self.norm(x.reshape(b, self.fields, self.order * h, w))
        return y.reshape(b, self.fields * self.order, h, w)


class SymmetricDownsample2d(torch.nn.Module):
    """Halves each spatial size with a window grid that is symmetric about the image centre.

    'max' and 'avg' use windows of 2 at stride 2 on an even side (they tile it exactly) and windows of 3 at stride 2
    with one cell of padding on an odd side (centred on cells 0, 2, ..., n-1). 'blur' is anti-aliased for rotations
    by other angles: binomial taps [1, 3, 3, 1]/8 on an even side and [1, 2, 1]/4 on an odd side, same centres.
    Either way rotating or mirroring the input about its centre maps windows onto windows, so the pooled map is
    moved exactly as the input was, for every input size.
    """

    def __init__(self, mode: str = "max"):
        super().__init__()
        self.mode = mode
        self.register_buffer("taps_even", torch.tensor([1.0, 3.0, 3.0, 1.0]) / 8.0, persistent=False)
        self.register_buffer("taps_odd", torch.tensor([1.0, 2.0, 1.0]) / 4.0, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        if self.mode == "blur":
            return self._blur_axis(self._blur_axis(x, h % 2, 2), w % 2, 3)
        kernel = (2 + h % 2, 2 + w % 2)
        padding = (h % 2, w % 2)
        if self.mode == "max":
            return F.max_pool2d(x, kernel, 2, padding)
        return F.avg_pool2d(x, kernel, 2, padding, count_include_pad=False)

    def _blur_axis(self, x: torch.Tensor, odd: int, dim: int) -> torch.Tensor:
        taps = (self.taps_odd if odd else self.taps_even).to(x.dtype)
        channels = x.shape[1]
        if dim == 2:
            kernel, stride, padding = taps.reshape(1, 1, -1, 1).expand(channels, 1, -1, 1), (2, 1), (1, 0)
        else:
            kernel, stride, padding = taps.reshape(1, 1, 1, -1).expand(channels, 1, 1, -1), (1, 2), (0, 1)
        return F.conv2d(x, kernel, None, stride, padding, 1, channels)


class GroupPool(torch.nn.Module):
    """Regular fields (B, fields*order, ...) to invariant scalars (B, fields, ...) by max or mean over the group."""

    def __init__(self, fields: int, order: int, mode: str = "max"):
        super().__init__()
        self.fields = fields
        self.order = order
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.reshape(x.shape[0], self.fields, self.order, x.shape[-2], x.shape[-1])
        return y.amax(dim=2) if self.use_max else y.mean(dim=2)


def isotypic_bases(table: list[list[int]], classes: list[int]) -> list[torch.Tensor]:
    """Orthonormal bases (order x d) of the real isotypic components of a finite group's regular representation.

    `table[g][h]` is the index of g^-1 h (element 0 is the identity); `classes[g]` labels g's real conjugacy class
    (its class joined with the inverses' class). Right multiplications commute with the left action that moves
    regular fields, and so does any combination Z of them with one weight per real class (a central element of the
    group algebra, symmetric because inverse elements share a weight). With weights in general position the
    eigenspaces of Z are exactly the isotypic components.
    """
    order = len(table)
    weights = [math.sin(2.0 + 1.7 * c) + 0.3 * math.cos(7.0 * c * c) for c in range(max(classes) + 1)]
    z = [[0.0] * order for _ in range(order)]
    for h in range(order):
        h_inverse = table[h][0]
        for g in range(order):
            z[h][table[h_inverse][g]] += weights[classes[g]]  # table[h^-1][g] is h g
    values, vectors = torch.linalg.eigh(torch.tensor(z, dtype=torch.float64))
    # As many components as real classes: cut the ascending eigenvalues at their largest gaps. (Cutting by count
    # rather than by a tolerance keeps the output's size fixed even for a wrong table, which the tester then flags.)
    count = max(classes) + 1
    cuts = sorted((values[1:] - values[:-1]).argsort(descending=True)[:count - 1].add(1).tolist())
    edges = [0] + cuts + [order]
    return [vectors[:, a:b] for a, b in zip(edges[:-1], edges[1:])]


class GroupSpectrum(torch.nn.Module):
    """Pooled regular fields (B, fields*order) to invariants (B, fields*components): each field's length in every
    real isotypic component of the regular representation.

    The group moves a field by an orthogonal map that keeps each component, so the lengths are unchanged, for any
    finite group. For rotations they are the amplitudes of the field's Fourier series over angles: what a max over
    the group throws away (how the response varies with orientation) is kept, only the absolute angle is lost.
    """

    def __init__(self, fields: int, order: int, table: list[list[int]], classes: list[int]):
        super().__init__()
        self.fields = fields
        self.order = order
        bases = isotypic_bases(table, classes)
        self.components = len(bases)
        sizes = [b.shape[1] for b in bases]
        # One matrix for all projections, then a 0/1 matrix that sums squared coordinates per component. Kept in
        # float64 and cast per call, so that float64 models stay exact to float64 rounding.
        self.register_buffer("basis", torch.cat(bases, 1), persistent=False)
        member = torch.zeros(order, len(bases))
        start = 0
        for j, d in enumerate(sizes):
            member[start:start + d, j] = 1.0
            start += d
        self.register_buffer("member", member, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x.reshape(x.shape[0], self.fields, self.order)
        power = (v @ self.basis.to(v.dtype)) ** 2 @ self.member.to(v.dtype)
        return torch.sqrt(power + 1e-8).flatten(1)


class GlobalPool2d(torch.nn.Module):
    """Mean or max over all spatial positions: (B, C, H, W) -> (B, C)."""

    def __init__(self, mode: str = "mean"):
        super().__init__()
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=(-2, -1)) if self.use_max else x.mean(dim=(-2, -1))


class FieldLinear(torch.nn.Module):
    """One linear map over fields shared by every group element: (B, in_fields*order) -> (B, out_fields, order).

    It commutes with any permutation of the group axis, so orientation scores stay equivariant.
    """

    def __init__(self, in_fields: int, out_fields: int, order: int):
        super().__init__()
        self.in_fields = in_fields
        self.order = order
        self.linear = torch.nn.Linear(in_fields, out_fields)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fields = x.reshape(x.shape[0], self.in_fields, self.order)
        return self.linear(fields.transpose(1, 2)).transpose(1, 2)


def shape_text(shape: list[int]) -> str:
    """A shape as Python prints a tuple, `(2, 3)` or `(5,)`, also inside TorchScript (which has no tuple())."""
    return "(" + ", ".join([str(s) for s in shape]) + ("," if len(shape) == 1 else "") + ")"


def check_image_input(x: torch.Tensor, channels: int, min_size: int, layout: str) -> None:
    """Raise a ValueError naming the expected layout when `x` cannot be this model's input."""
    if x.dim() != 4:
        raise ValueError(f"expected input of shape {layout}, got a tensor of rank {x.dim()} "
                         f"with shape {shape_text(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(f"expected input of shape {layout} with {channels} channels, got {x.shape[1]} "
                         f"channels (shape {shape_text(x.shape)})")
    if x.shape[2] < min_size or x.shape[3] < min_size:
        raise ValueError(f"expected input of shape {layout} with height and width at least {min_size}, "
                         f"got {shape_text(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point input of shape {layout}, got dtype {x.dtype}")
