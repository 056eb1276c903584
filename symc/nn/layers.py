"""Normalization, pooling, down-sampling and head layers that keep the symmetry of fields on any grid.

Maps are (B, channels, *grid) with a field type (trivial, regular): `trivial` invariant channels first, then
`regular` fields of `order` channels each, field-major (symc.nn.conv). Nothing here depends on the grid's rank.
"""
import math

import torch
import torch.nn.functional as F


def field_norm(fields: int, kind: str) -> torch.nn.Module:
    """Batch statistics per field ('batch'), over all fields of a sample ('layer'), or over groups of fields."""
    if kind == "batch":
        return torch.nn.BatchNorm1d(fields)
    return torch.nn.GroupNorm(1 if kind == "layer" else math.gcd(fields, 8), fields)


class FieldNorm(torch.nn.Module):
    """Normalization with statistics, scale and shift per field: a trivial field is one channel, a regular field
    shares them over its group axis and every position (folding the group axis into the positions makes the torch
    norms pool over it)."""

    def __init__(self, field_type, order: int, kind: str = "batch"):
        super().__init__()
        self.trivial, self.fields = int(field_type[0]), int(field_type[1])
        self.order = order
        self.trivial_norm = field_norm(self.trivial, kind) if self.trivial else None
        self.norm = field_norm(self.fields, kind) if self.fields else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        if self.trivial_norm is None and self.norm is not None:
            return self.norm(x.reshape(b, self.fields, -1)).reshape(x.shape)
        trivial, regular = x.split([self.trivial, self.fields * self.order], dim=1)
        if self.trivial_norm is not None:
            trivial = self.trivial_norm(trivial.reshape(b, self.trivial, -1)).reshape(trivial.shape)
        if self.norm is None:
            return trivial
        regular = self.norm(regular.reshape(b, self.fields, -1)).reshape(regular.shape)
        return torch.cat([trivial, regular], dim=1)


class SymmetricDownsample(torch.nn.Module):
    """Halves every grid size with a window grid that is symmetric about the grid's centre (1, 2 or 3 axes).

    'max' and 'avg' use windows of 2 at stride 2 on an even side (they tile it exactly) and windows of 3 at stride 2
    with one cell of padding on an odd side (centred on cells 0, 2, ..., n-1). 'blur' is anti-aliased for rotations
    by other angles: binomial taps [1, 3, 3, 1]/8 on an even side and [1, 2, 1]/4 on an odd side, same centres, one
    axis after the other; 'smooth' uses the wider binomials [1, 5, 10, 10, 5, 1]/32 and [1, 4, 6, 4, 1]/16
    (steerable models, which turn by every angle). Either way reversing or permuting the axes about the centre (rotations by right angles,
    mirrors, time reversal, cube symmetries) maps windows onto windows, so the pooled map is moved exactly as the
    input was, for every input size.
    """

    def __init__(self, mode: str = "max"):
        super().__init__()
        self.mode = mode
        self.register_buffer("taps_even", torch.tensor([1.0, 3.0, 3.0, 1.0]) / 8.0, persistent=False)
        self.register_buffer("taps_odd", torch.tensor([1.0, 2.0, 1.0]) / 4.0, persistent=False)
        if mode == "smooth":  # wider binomials (standard deviation 1 pixel), for rotations by every angle
            self.taps_even = torch.tensor([1.0, 5.0, 10.0, 10.0, 5.0, 1.0]) / 32.0
            self.taps_odd = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = x.dim() - 2
        sizes = x.shape[2:]
        if self.mode in ("blur", "smooth"):
            for axis in range(dims):
                x = self._blur_axis(x, sizes[axis] % 2, axis, dims)
            return x
        kernel = [2 + s % 2 for s in sizes]
        padding = [s % 2 for s in sizes]
        if self.mode == "max":
            if dims == 1:
                return F.max_pool1d(x, kernel, 2, padding)
            if dims == 2:
                return F.max_pool2d(x, kernel, 2, padding)
            return F.max_pool3d(x, kernel, 2, padding)
        if dims == 1:
            return F.avg_pool1d(x, kernel, 2, padding, count_include_pad=False)
        if dims == 2:
            return F.avg_pool2d(x, kernel, 2, padding, count_include_pad=False)
        return F.avg_pool3d(x, kernel, 2, padding, count_include_pad=False)

    def _blur_axis(self, x: torch.Tensor, odd: int, axis: int, dims: int) -> torch.Tensor:
        taps = (self.taps_odd if odd else self.taps_even).to(x.dtype)
        channels = x.shape[1]
        shape = [channels, 1] + [1] * dims
        shape[2 + axis] = taps.shape[0]
        kernel = taps.reshape([1, 1] + shape[2:]).expand(shape)
        stride = [1] * dims
        stride[axis] = 2
        padding = [0] * dims
        padding[axis] = (taps.shape[0] - 1) // 2   # window centres stay on cells 0, 2, ... (odd), between (even)
        if dims == 1:
            return F.conv1d(x, kernel, None, stride, padding, 1, channels)
        if dims == 2:
            return F.conv2d(x, kernel, None, stride, padding, 1, channels)
        return F.conv3d(x, kernel, None, stride, padding, 1, channels)


class FieldPool(torch.nn.Module):
    """Fields (B, trivial + fields*order, *grid) to invariant scalars (B, trivial + fields, *grid): trivial channels
    pass through, each regular field is pooled (max or mean) over its group axis."""

    def __init__(self, field_type, order: int, mode: str = "max"):
        super().__init__()
        self.trivial, self.fields = int(field_type[0]), int(field_type[1])
        self.order = order
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.trivial == 0:
            y = x.reshape([x.shape[0], self.fields, self.order] + list(x.shape[2:]))
            return y.amax(dim=2) if self.use_max else y.mean(dim=2)
        trivial, regular = x.split([self.trivial, self.fields * self.order], dim=1)
        y = regular.reshape([x.shape[0], self.fields, self.order] + list(x.shape[2:]))
        return torch.cat([trivial, y.amax(dim=2) if self.use_max else y.mean(dim=2)], dim=1)


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


class GlobalPool(torch.nn.Module):
    """Mean or max over every grid position: (B, C, *grid) -> (B, C)."""

    def __init__(self, mode: str = "mean"):
        super().__init__()
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = [d for d in range(2, x.dim())]
        return x.amax(dim=dims) if self.use_max else x.mean(dim=dims)


class FieldLinear(torch.nn.Module):
    """(B, trivial + in_fields*order) -> (B, out_fields, order): one linear map over regular fields shared by every
    group element, plus the trivial features' contribution, the same for every element.

    It commutes with any permutation of the group axis, so orientation scores stay equivariant.
    """

    def __init__(self, in_type, out_fields: int, order: int):
        super().__init__()
        self.trivial, self.in_fields = int(in_type[0]), int(in_type[1])
        self.order = order
        self.linear = torch.nn.Linear(self.in_fields, out_fields) if self.in_fields else None
        self.trivial_linear = (torch.nn.Linear(self.trivial, out_fields, bias=self.linear is None)
                               if self.trivial else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trivial, regular = x.split([self.trivial, self.in_fields * self.order], dim=1)
        if self.linear is None:
            return self.trivial_linear(trivial).unsqueeze(2).expand(-1, -1, self.order)
        fields = regular.reshape(x.shape[0], self.in_fields, self.order)
        scores = self.linear(fields.transpose(1, 2)).transpose(1, 2)
        if self.trivial_linear is not None:
            scores = scores + self.trivial_linear(trivial).unsqueeze(2)  # (B, out, 1): the same for every element
        return scores


def shape_text(shape: list[int]) -> str:
    """A shape as Python prints a tuple, `(2, 3)` or `(5,)`, also inside TorchScript (which has no tuple())."""
    return "(" + ", ".join([str(s) for s in shape]) + ("," if len(shape) == 1 else "") + ")"


def check_input(x: torch.Tensor, channels: int, rank: int, min_size: int, layout: str, cube: bool = False) -> None:
    """Raise a ValueError naming the expected layout when `x` cannot be this grid model's input (sequences
    (B, C, L), images (B, C, H, W), volumes (B, C, D, H, W))."""
    if x.dim() != rank:
        raise ValueError(f"expected input of shape {layout}, got a tensor of rank {x.dim()} with shape "
                         f"{shape_text(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(f"expected input of shape {layout} with {channels} channels, got {x.shape[1]} channels "
                         f"(shape {shape_text(x.shape)})")
    if min(x.shape[2:]) < min_size:
        sides = "height and width" if rank == 4 else "every size"
        raise ValueError(f"expected input of shape {layout} with {sides} at least {min_size}, got "
                         f"{shape_text(x.shape)}")
    if cube and (x.shape[2] != x.shape[3] or x.shape[3] != x.shape[4]):
        raise ValueError(f"expected a cubic input {layout} with D = H = W (cube symmetries turn it by 90 degrees), "
                         f"got {shape_text(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point input of shape {layout}, got dtype {x.dtype}")
