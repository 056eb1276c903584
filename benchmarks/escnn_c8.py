"""escnn's C8 tutorial architecture (escnn `examples/model.ipynb`, `C8SteerableCNN`), for `benchmarks/twin.py`.

Six R2Conv blocks of 24, 48, 48, 96, 96, 64 regular C8 fields with kernels 7, 5, 5, 5, 5, 5, inner batch norms and
ReLUs, antialiased average pooling after blocks 2, 4 and 6, group pooling and a two-layer head; 29x29 inputs.
`same_size=True` is the variant with every convolution padded to keep the size (29, 15, 8 on the way down, as
symc's default padding does), and a mean over positions after the group pooling instead of the last 5x5 pooling. Imports escnn, so it is only loaded when escnn is installed (see docs/benchmarks.md §3).
"""
import torch
from escnn import gspaces
from escnn import nn as enn

WIDTHS = (24, 48, 48, 96, 96, 64)
KERNELS = (7, 5, 5, 5, 5, 5)
PADDINGS = (1, 2, 2, 2, 2, 1)   # as in the tutorial: 29 -> 25 -> 13 -> 7 -> 5 -> 1
SAME_PADDINGS = (3, 2, 2, 2, 2, 2)   # as symc: 29 -> 29 -> 15 -> 15 -> 8 -> 8


class C8SteerableCNN(torch.nn.Module):
    def __init__(self, n_classes: int = 10, same_size: bool = False):
        super().__init__()
        self.same_size = same_size
        self.r2_act = gspaces.rot2dOnR2(N=8)
        in_type = enn.FieldType(self.r2_act, [self.r2_act.trivial_repr])
        self.input_type = in_type
        layers = [enn.MaskModule(in_type, 29, margin=1)]
        paddings = SAME_PADDINGS if same_size else PADDINGS
        for index, (width, kernel, padding) in enumerate(zip(WIDTHS, KERNELS, paddings)):
            out_type = enn.FieldType(self.r2_act, width * [self.r2_act.regular_repr])
            layers += [enn.R2Conv(in_type, out_type, kernel_size=kernel, padding=padding, bias=False),
                       enn.InnerBatchNorm(out_type), enn.ReLU(out_type, inplace=True)]
            if index in (1, 3):
                layers.append(enn.PointwiseAvgPoolAntialiased(out_type, sigma=0.66, stride=2))
            in_type = out_type
        if not same_size:
            layers.append(enn.PointwiseAvgPoolAntialiased(in_type, sigma=0.66, stride=1, padding=0))
        self.features = enn.SequentialModule(*layers)
        self.gpool = enn.GroupPooling(in_type)
        c = self.gpool.out_type.size
        self.fully_net = torch.nn.Sequential(torch.nn.Linear(c, 64), torch.nn.BatchNorm1d(64),
                                             torch.nn.ELU(inplace=True), torch.nn.Linear(64, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gpool(self.features(enn.GeometricTensor(x, self.input_type))).tensor
        if self.same_size:
            y = y.mean(dim=(-2, -1))
        return self.fully_net(y.reshape(y.shape[0], -1))
