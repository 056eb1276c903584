"""An escnn steerable CNN for continuous rotations SO(2) on 29x29 one-channel images, to set against symc's SO(2) model.

    python benchmarks/escnn_so2.py [--widths 8,16,16,32,32,32] [--kernels 5] [--frequencies 4]
                                   [--nonlinearity gated|norm] [--batches 16,64] [--reps 10] [--threads 2]

Built as escnn builds such models (`gspaces.rot2dOnR2(N=-1, maximum_frequency=L)`): a layer of width w holds w
fields of every irrep of frequency 0..L, so w * (1 + 2L) channels. Per block: `R2Conv` (escnn's default basis:
rings, sigma and frequencies_cutoff; padding to keep the size; no bias), `IIDBatchNorm2d`, then either

- "gated": the conv also makes one trivial gate field per non-trivial field (w * L more channels); escnn's
  `GatedNonLinearity1` multiplies each non-trivial field by the sigmoid of its gate and drops the gates; the
  trivial fields go through ReLU;
- "norm": `NormNonLinearity('n_relu')` (a learned threshold per field) on the non-trivial fields, ReLU on the
  trivial ones.

Antialiased average pooling (`PointwiseAvgPoolAntialiased2D`, sigma 0.66, stride 2) after blocks 2 and 4 on the
whole field type: a blur and subsampling applied to every channel alike is linear and commutes with any mixing of
channels, so it keeps every irrep's transformation (escnn leaves it unrestricted and its SE(3) example pools irrep
fields the same way; only max pooling needs pointwise fields). Then invariants: the trivial fields as they are and
the norm of every other field (`NormPool`), a mean over positions, and a two-layer head. This is the layout of
symc's SO(2) models (gates after the irreps, invariant lengths, a mean, a hidden layer). `same_size=False` uses
the paddings of escnn's C8 tutorial (`benchmarks/escnn_c8.py`) instead, which shrink the maps, and needs six
blocks. Imports escnn, so it is only loaded where escnn is installed (see docs/benchmarks.md §3).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from escnn import gspaces
from escnn import nn as enn

WIDTHS = (8, 16, 16, 32, 32, 32)
KERNELS = (5, 5, 5, 5, 5, 5)
MAX_FREQUENCY = 4
POOL_AFTER = (1, 3)              # blocks 2 and 4, as in escnn's C8 tutorial
TUTORIAL_PADDINGS = (1, 2, 2, 2, 2, 1)
HEAD_HIDDEN = 64
SIZE = 29


class SO2SteerableCNN(torch.nn.Module):
    def __init__(self, n_classes: int = 10, widths=WIDTHS, kernels=KERNELS, max_frequency: int = MAX_FREQUENCY,
                 same_size: bool = True, nonlinearity: str = "gated", in_channels: int = 1, size: int = SIZE):
        super().__init__()
        if nonlinearity not in ("gated", "norm"):
            raise ValueError(f"nonlinearity must be 'gated' or 'norm', not {nonlinearity!r}")
        kernels = tuple(kernels) if not isinstance(kernels, int) else (kernels,) * len(widths)
        if len(kernels) != len(widths):
            raise ValueError(f"{len(widths)} widths but {len(kernels)} kernels")
        if not same_size and len(widths) != len(TUTORIAL_PADDINGS):
            raise ValueError("same_size=False uses the C8 tutorial's paddings and needs six blocks")
        self.same_size = same_size
        self.max_frequency = L = max_frequency
        self.r2_act = gs = gspaces.rot2dOnR2(N=-1, maximum_frequency=L)
        trivial = gs.trivial_repr
        irreps = [gs.irrep(k) for k in range(L + 1)]
        in_type = enn.FieldType(gs, in_channels * [trivial])
        self.input_type = in_type
        layers = [enn.MaskModule(in_type, size, margin=1)]
        paddings = tuple((k - 1) // 2 for k in kernels) if same_size else TUTORIAL_PADDINGS
        for index, (width, kernel, padding) in enumerate(zip(widths, kernels, paddings)):
            # w fields of each irrep 0..L, irrep-major, as symc lays them out
            fields = [irrep for irrep in irreps for _ in range(width)]
            out_type = enn.FieldType(gs, fields)
            scalars, others = width, width * L
            if nonlinearity == "gated":
                conv_type = enn.FieldType(gs, fields + others * [trivial])
                labels = scalars * ["scalar"] + 2 * others * ["gated"]
                gated_type = conv_type.index_select(list(range(scalars, len(conv_type))))
                act = enn.MultipleModule(conv_type, labels, [
                    (enn.ReLU(conv_type.index_select(list(range(scalars))), inplace=True), "scalar"),
                    (enn.GatedNonLinearity1(gated_type, gates=others * ["gated"] + others * ["gate"]), "gated"),
                ])
            else:
                conv_type = out_type
                labels = scalars * ["scalar"] + others * ["norm"]
                act = enn.MultipleModule(conv_type, labels, [
                    (enn.ReLU(conv_type.index_select(list(range(scalars))), inplace=True), "scalar"),
                    (enn.NormNonLinearity(conv_type.index_select(list(range(scalars, len(conv_type)))),
                                          "n_relu", bias=True), "norm"),
                ])
            assert act.out_type == out_type, (act.out_type, out_type)
            layers += [enn.R2Conv(in_type, conv_type, kernel_size=kernel, padding=padding, bias=False),
                       enn.IIDBatchNorm2d(conv_type), act]
            if index in POOL_AFTER:
                layers.append(enn.PointwiseAvgPoolAntialiased2D(out_type, sigma=0.66, stride=2))
            in_type = out_type
        if not same_size:
            layers.append(enn.PointwiseAvgPoolAntialiased2D(in_type, sigma=0.66, stride=1, padding=0))
        self.features = enn.SequentialModule(*layers)
        self.scalars = widths[-1]
        nontrivial = in_type.index_select(list(range(self.scalars, len(in_type))))
        self.lengths = enn.NormPool(nontrivial)
        self.invariants = len(in_type)
        self.fully_net = torch.nn.Sequential(torch.nn.Linear(self.invariants, HEAD_HIDDEN),
                                             torch.nn.BatchNorm1d(HEAD_HIDDEN), torch.nn.ELU(inplace=True),
                                             torch.nn.Linear(HEAD_HIDDEN, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.features(enn.GeometricTensor(x, self.input_type)).tensor
        scalars = y[:, :self.scalars]
        lengths = self.lengths(enn.GeometricTensor(y[:, self.scalars:], self.lengths.in_type)).tensor
        invariants = torch.cat([scalars, lengths], dim=1).mean(dim=(-2, -1))
        return self.fully_net(invariants)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def construction_seconds(**kw) -> float:
    """Seconds to build one `SO2SteerableCNN(**kw)` (escnn caches bases within a process: the first is slowest)."""
    start = time.perf_counter()
    SO2SteerableCNN(**kw)
    return time.perf_counter() - start


def train_step_seconds(model: torch.nn.Module, batch: int, repetitions: int, warmup: int = 2,
                       size: int = SIZE) -> list[float]:
    """Seconds per train step (zero_grad, forward, mean-square loss, backward, Adam step), as benchmarks/twin.py
    times one, in train mode on random `batch`x1x`size`x`size` inputs, after `warmup` steps."""
    model.train()
    inputs = torch.randn(batch, model.input_type.size, size, size)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        model(inputs).float().square().mean().backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def equivariance_error(model: torch.nn.Module, angles: int = 8, batch: int = 2) -> float:
    """Largest relative change of the eval outputs under rotations of the input by multiples of 2 pi / angles that
    escnn's gspace applies (90-degree ones move pixels exactly; others interpolate)."""
    model.eval()
    x = torch.randn(batch, model.input_type.size, SIZE, SIZE)
    gx = enn.GeometricTensor(x, model.input_type)
    with torch.no_grad():
        ref = model(x)
        worst = 0.0
        for k in range(1, angles):
            g = model.r2_act.fibergroup.element(2 * torch.pi * k / angles)
            out = model(gx.transform(g).tensor)
            worst = max(worst, ((out - ref).norm() / ref.norm()).item())
    return worst


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--kernels", default="5", help="one kernel size for all blocks, or one per block")
    parser.add_argument("--frequencies", type=int, default=MAX_FREQUENCY, help="maximum frequency L")
    parser.add_argument("--nonlinearity", choices=("gated", "norm"), default="gated")
    parser.add_argument("--batches", default="16,64")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    widths = tuple(int(w) for w in args.widths.split(","))
    kernels = tuple(int(k) for k in args.kernels.split(","))
    kernels = kernels * len(widths) if len(kernels) == 1 else kernels
    kw = dict(widths=widths, kernels=kernels, max_frequency=args.frequencies, nonlinearity=args.nonlinearity)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} logical cores; "
          f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"SO(2), L={args.frequencies}, widths {widths}, kernels {kernels}, {args.nonlinearity}, {SIZE}x{SIZE}")
    first = construction_seconds(**kw)
    second = construction_seconds(**kw)
    torch.manual_seed(0)
    model = SO2SteerableCNN(**kw)
    print(f"construction: first {first:.2f} s, second in the same process {second:.2f} s")
    print(f"parameters: {parameter_count(model):,}")
    print(f"equivariance error (eval): multiples of 90 degrees {equivariance_error(model, angles=4):.1e}, "
          f"of 45 degrees {equivariance_error(model, angles=8):.1e}")
    for batch in (int(b) for b in args.batches.split(",")):
        times = train_step_seconds(model, batch, args.reps)
        q = statistics.quantiles(times, n=4)
        print(f"train step batch {batch}: median {statistics.median(times) * 1e3:.0f} ms, fastest "
              f"{min(times) * 1e3:.0f} ms, IQR {q[0] * 1e3:.0f}-{q[2] * 1e3:.0f} ms ({args.reps} reps)")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
