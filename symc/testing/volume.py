"""Volumes (B, C, D, H, W): every element of the spec's cube group (rot90 on pairs of axes, flips), or the mirror of W."""
from __future__ import annotations

import torch

from symc.groups import volume_group
from symc.groups.actions import act_volume

from .domains import tester_check, DomainTester, Move, parse_sizes

DEFAULT_SIZES = [(8, 8, 8), (9, 9, 9)]


class VolumeTester(DomainTester):
    def __init__(self, spec):
        self.spec = spec
        group = volume_group(spec.symmetry)
        self.group = group if group.order > 1 else None

    def sizes(self, sizes):
        default = [tuple(self.spec.domain.shape)] if self.spec.domain.shape else DEFAULT_SIZES
        return parse_sizes(sizes, default, 3, "(D, H, W) triples")

    def inputs(self, size, batch, generator):
        return (torch.randn(batch, self.spec.domain.channels, *size, generator=generator, dtype=torch.float64),)

    def moves(self, size, generator):
        group = self.group
        if group is None:
            return [Move("identity", lambda x: x, lambda kind, y: y)]

        def move(i):
            def act(t):
                return act_volume(group, i, t)
            return Move(group.element_name(i), lambda x: (act(x[0]),),
                        lambda kind, y: act(y) if kind == "equivariant" else y)

        return [move(i) for i in group.elements()]

    def expected_shape(self, kind, k, inputs):
        batch, _, *size = inputs[0].shape
        return (batch, k) if kind == "invariant" else (batch, k, *size)

    def header(self):
        if self.group is None:
            return ["group: none (identity only)", "not tested: translations"]
        if self.group.order == 2:
            return ["group D1: 'flip' is torch.flip(x, dims=(-1,)), the mirror of the last axis (W)",
                    "not tested: translations (the mirror is about the volume's centre)"]
        return [f"group {self.group.name} ({self.group.order} elements), named by where each output axis reads "
                "from: '(-h, d, w)' is torch.rot90(x, 1, dims=(-3, -2))",
                "not tested: translations (cube symmetries are about the volume's centre)"]


check_volume = tester_check(VolumeTester)
