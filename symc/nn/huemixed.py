"""The lifting layer of RGB images under a group with hue rotations, when the lift also takes position channels or
gives trivial (invariant) fields.

Input channels: the 3 RGB channels first, which hue rotations turn, then any position channels (symc.nn.positions),
which no group element changes. Output: `trivial` invariant channels first, then `fields` regular fields, as in
symc.nn.mixed. The copy of a base filter for element g = (spatial part, hue step) is the filter moved spatially by g
with its RGB input channels mixed by g's inverse hue rotation (as HueLift2d) and its position channels left alone.
Regular outputs use copy g for slot g; trivial outputs use the group average of all copies, a filter every element
leaves unchanged: the hue average of the mixing matrices is the projection onto the grey axis (1, 1, 1)/sqrt(3) for
every hue order N >= 2 (for N = 2 the half turn keeps the grey axis alone too), so trivial outputs see the
brightness of RGB and the positions, never the hue.
"""
import torch

from .hue import hue_rotations
from .mixed import MixedConv2d


class HueMixedLift2d(MixedConv2d):
    """RGB (+ hue-invariant extra channels) in; `out_trivial` invariant channels and `out_fields` regular fields out."""

    def __init__(self, in_channels: int, out_trivial: int, out_fields: int, kernel_size: int, spatial, hue,
                 bias: bool = False, algorithm: str = "direct", channels_last: bool = False):
        if in_channels < 3:
            raise ValueError(f"hue rotations act on 3 (RGB) channels, got {in_channels}")
        # A lift has no regular inputs, so the group table is never read: the identity rows stand in for it.
        table = [list(range(len(spatial)))] * len(spatial)
        super().__init__(in_channels, 0, out_trivial, out_fields, kernel_size, spatial, table, bias, algorithm,
                         channels_last)
        # R_g^-1 = R_g^T per element, float64 and not a buffer, as in HueLift2d (a bfloat16 copy would not be exact).
        self.hue_inverse = hue_rotations(hue).transpose(1, 2).contiguous()

    def expand_weight(self) -> torch.Tensor:
        k, order = self.kernel_size, self.order
        ti, to, ro = self.in_trivial, self.out_trivial, self.out_fields
        blocks: list[torch.Tensor] = []
        for w in (self.weight_tt, self.weight_tr):  # a loop, not a filtered comprehension: TorchScript has none
            if w is not None:
                blocks.append(w)
        base = self.transforms.prepare(torch.cat(blocks))  # (to + ro, in, k, k)
        rgb, extra = base.split([3, ti - 3], dim=1)
        rgb = rgb.permute(0, 2, 3, 1)  # channels last for matmul
        inverse = self.hue_inverse.to(device=base.device, dtype=base.dtype)
        copies = torch.stack([self.transforms(torch.cat([torch.matmul(rgb, inverse[g]).permute(0, 3, 1, 2), extra],
                                                        dim=1), g) for g in range(order)])  # (order, to+ro, in, k, k)
        tt, tr = copies.split([to, ro], dim=1)
        tt = tt.mean(dim=0)
        tr = tr.transpose(0, 1).reshape(ro * order, ti, k, k)
        return torch.cat([tt, tr], dim=0)
