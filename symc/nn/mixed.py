"""Layers on mixed features: trivial (invariant) fields and regular fields side by side.

A mixed map has `trivial + fields * order` channels: the trivial channels first (one per field, moved spatially
only), then the regular fields, field-major as in symc.nn.conv. A group element g moves it as
out_trivial = spatial_g(in_trivial) and out[h] = spatial_g(in[table[g][h]]) for the regular part.
"""
import math

import torch

from .conv import ExpandedConv2d


class MixedConv2d(ExpandedConv2d):
    """Equivariant conv between mixed field types: four blocks in one filter bank, one conv2d (or FFT) call.

    trivial -> trivial: the group average of a base filter's copies (a filter the group's moves leave unchanged);
    trivial -> regular: lifting, copy g of a base filter for output slot g;
    regular -> trivial: input slot h uses copy h of one base filter per field pair;
    regular -> regular: the group convolution of GroupConv2d.
    Blocks with no fields on either side hold no weights.
    """

    def __init__(self, in_trivial: int, in_fields: int, out_trivial: int, out_fields: int, kernel_size: int,
                 spatial, table, bias: bool = False, algorithm: str = "direct", channels_last: bool = False):
        super().__init__(kernel_size, spatial, out_trivial + out_fields, bias, algorithm, channels_last)
        self.in_trivial, self.in_fields = in_trivial, in_fields
        self.out_trivial, self.out_fields = out_trivial, out_fields
        order, k = len(spatial), kernel_size
        fan_in = (in_trivial + in_fields * order) * k * k
        std = math.sqrt(2.0 / fan_in)
        # Averaging over the group shrinks a filter's spread by about sqrt(order): start that block wider.
        self.weight_tt = self._block((out_trivial, in_trivial, k, k), std * math.sqrt(order))
        self.weight_tr = self._block((out_fields, in_trivial, k, k), std)
        self.weight_rt = self._block((out_trivial, in_fields, k, k), std)
        self.weight_rr = self._block((out_fields, in_fields, order, k, k), std)
        self.register_buffer("table", torch.tensor(table, dtype=torch.long), persistent=False)

    @staticmethod
    def _block(shape, std: float):
        count = 1
        for s in shape:
            count *= s
        return torch.nn.Parameter(torch.randn(shape) * std) if count else None

    def base_weights(self) -> list[torch.Tensor]:
        # Loops, not comprehension ifs, so TorchScript compiles it.
        weights: list[torch.Tensor] = []
        for w in (self.weight_tt, self.weight_tr, self.weight_rt, self.weight_rr):
            if w is not None:
                weights.append(w)
        return weights

    def expand_weight(self) -> torch.Tensor:
        k, order = self.kernel_size, self.order
        ti, ri, to, ro = self.in_trivial, self.in_fields, self.out_trivial, self.out_fields
        reference = self.base_weights()[0]
        small: list[torch.Tensor] = []
        for w in (self.weight_tt, self.weight_tr, self.weight_rt):
            if w is not None:
                small.append(w.reshape(-1, k, k))
        sizes = [to * ti, ro * ti, to * ri]
        if len(small) > 0:
            base = self.transforms.prepare(torch.cat(small))
            copies = torch.stack([self.transforms(base, g) for g in range(order)])  # (order, filters, k, k)
        else:
            copies = reference.new_zeros(order, 0, k, k)
        tt, tr, rt = copies.split(sizes, dim=1)
        tt = tt.mean(dim=0).reshape(to, ti, k, k)
        tr = tr.reshape(order, ro, ti, k, k).transpose(0, 1).reshape(ro * order, ti, k, k)
        rt = rt.reshape(order, to, ri, k, k).permute(1, 2, 0, 3, 4).reshape(to, ri * order, k, k)
        if self.weight_rr is not None:
            base = self.transforms.prepare(self.weight_rr)
            rr = torch.stack([self.transforms(base.index_select(2, self.table[g]), g) for g in range(order)], dim=1)
            rr = rr.reshape(ro * order, ri * order, k, k)
        else:
            rr = reference.new_zeros(ro * order, ri * order, k, k)
        return torch.cat([torch.cat([tt, rt], dim=1), torch.cat([tr, rr], dim=1)], dim=0)

    def expanded_bias(self) -> torch.Tensor | None:
        # Trivial fields have one channel each; regular fields repeat theirs over the group axis.
        if self.bias is None:
            return None
        trivial, regular = self.bias.split([self.out_trivial, self.out_fields])
        return torch.cat([trivial, regular.repeat_interleave(self.order)])


class MixedFieldNorm2d(torch.nn.Module):
    """Per-field normalization of a mixed map: trivial fields as plain channels, regular fields with statistics,
    scale and shift shared by each field's group axis (as FieldNorm2d)."""

    def __init__(self, trivial: int, fields: int, order: int, kind: str = "batch"):
        super().__init__()
        self.trivial, self.fields, self.order = trivial, fields, order
        self.trivial_norm = self._norm(trivial, kind)
        self.regular_norm = self._norm(fields, kind) if fields else None

    @staticmethod
    def _norm(fields: int, kind: str) -> torch.nn.Module:
        if kind == "batch":
            return torch.nn.BatchNorm2d(fields)
        return torch.nn.GroupNorm(1 if kind == "layer" else math.gcd(fields, 8), fields)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        trivial, regular = x.split([self.trivial, self.fields * self.order], dim=1)
        trivial = self.trivial_norm(trivial)
        if self.regular_norm is None:
            return trivial
        regular = self.regular_norm(regular.reshape(b, self.fields, self.order * h, w))
        return torch.cat([trivial, regular.reshape(b, self.fields * self.order, h, w)], dim=1)


class MixedGroupPool(torch.nn.Module):
    """Mixed map (B, trivial + fields*order, H, W) to invariant scalars (B, trivial + fields, H, W): trivial fields
    pass through, regular fields are pooled (max or mean) over the group axis."""

    def __init__(self, trivial: int, fields: int, order: int, mode: str = "max"):
        super().__init__()
        self.trivial, self.fields, self.order = trivial, fields, order
        self.use_max = mode == "max"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trivial, regular = x.split([self.trivial, self.fields * self.order], dim=1)
        y = regular.reshape(x.shape[0], self.fields, self.order, x.shape[-2], x.shape[-1])
        return torch.cat([trivial, y.amax(dim=2) if self.use_max else y.mean(dim=2)], dim=1)


class MixedFieldLinear(torch.nn.Module):
    """(B, trivial + in_fields*order) -> (B, out_fields, order): one linear map over regular fields shared by every
    group element, plus the trivial features' contribution, the same for every element (so scores permute with the
    input exactly as FieldLinear's do)."""

    def __init__(self, trivial: int, in_fields: int, out_fields: int, order: int):
        super().__init__()
        self.trivial, self.in_fields, self.order = trivial, in_fields, order
        self.linear = torch.nn.Linear(in_fields, out_fields) if in_fields else None
        self.trivial_linear = torch.nn.Linear(trivial, out_fields, bias=self.linear is None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        trivial, regular = x.split([self.trivial, self.in_fields * self.order], dim=1)
        shared = self.trivial_linear(trivial).unsqueeze(2)  # (B, out, 1): the same for every element
        if self.linear is None:
            return shared.expand(-1, -1, self.order)
        fields = regular.reshape(x.shape[0], self.in_fields, self.order)
        return self.linear(fields.transpose(1, 2)).transpose(1, 2) + shared
