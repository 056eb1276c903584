"""Sparse point clouds in PyG's flat layout, pos (N, D), features (N, C), batch (N,): several clouds of different
sizes in one call, points in shuffled order, and every action applied cloud by cloud.

Each cloud gets its own rotation or rotation-reflection R_g (det +1 only for SE/SO) and its own shift t_g (E/SE
only); the flat rows are permuted (pos, features and batch together, so points move within and across the array);
and the clouds are relabelled (batch -> sigma(batch)). Per-point outputs move with their points and their cloud's
R_g (vectors v R_g^T, irreps y D(R_g)^T); per-cloud outputs stay, or follow the relabelling.
"""
from __future__ import annotations

import torch

from symc.domains.point_cloud import is_sparse
from symc.groups.actions import random_orthogonal
from symc.groups.o3 import irreps_text

from .domains import Move, identity_move, tester_check
from .points import IRREP_KINDS, TRANSLATION_SCALE, PointCloudTester, check_point_cloud

RANDOM_ELEMENTS = 3
PER_POINT = ("equivariant", "vector", "irreps")
PER_CLOUD = ("invariant", "cloud irreps")
SPREAD = 0.35  # positions spread over this many radial ranges: most points of a small cloud are neighbours
RANGE_PER_LENGTH = 5.0  # as the planner: without a cutoff the radial basis spans 5 length scales


def check_any_point_cloud(module, spec, **options):
    """The point-cloud tester hook: flat-layout clouds for sparse specs, batched (B, N, D) clouds otherwise."""
    if is_sparse(spec):
        return check_sparse_point_cloud(module, spec, **options)
    return check_point_cloud(module, spec, **options)


class SparsePointTester(PointCloudTester):
    """The dense tester's group and irreps bookkeeping, with flat-layout inputs and per-cloud moves."""

    def __init__(self, spec):
        super().__init__(spec)
        hints = spec.hints
        self.scale = SPREAD * (hints.cutoff if hints.cutoff is not None else
                               RANGE_PER_LENGTH * (hints.length_scale or 1.0))

    def inputs(self, size, batch, generator):
        """`batch` clouds of size[0], size[0] + 1 and size[0] + 2 points, flattened and shuffled."""
        counts = torch.tensor([size[0] + i % 3 for i in range(batch)])
        cloud = torch.repeat_interleave(torch.arange(batch), counts)
        order = torch.randperm(len(cloud), generator=generator)
        pos = self.scale * torch.randn(len(cloud), self.dim, generator=generator, dtype=torch.float64)
        pos = pos + 2.0 * self.scale * torch.randn(batch, self.dim, generator=generator, dtype=torch.float64)[cloud]
        cloud = cloud[order]
        self._clouds, self._points = batch, len(cloud)  # the moves act on these counts
        features = None if self.spec.domain.channels == 0 else \
            torch.randn(len(cloud), self.spec.domain.channels, generator=generator, dtype=torch.float64)
        return pos, features, cloud  # forward(pos, features=None, batch=None)

    def _move(self, name: str, rotations=None, shifts=None, perm=None, relabel=None) -> Move:
        """rotations (G, D, D) and shifts (G, D) per cloud; perm reorders the flat rows; relabel maps cloud ids."""
        state = {}

        def inputs(x):
            pos, features, batch = x
            state["batch"] = batch
            if rotations is not None:
                pos = torch.einsum("nij,nj->ni", rotations[batch], pos)
            if shifts is not None:
                pos = pos + shifts[batch]
            if relabel is not None:
                batch = relabel[batch]
            if perm is not None:
                pos, batch = pos[perm], batch[perm]
                features = features[perm] if features is not None else None
            return pos, features, batch

        def output(kind, y):
            batch = state["batch"]
            if rotations is not None:
                if kind == "vector":
                    y = torch.einsum("nij,nj->ni", rotations[batch], y)
                elif kind in IRREP_KINDS:
                    d = torch.stack([torch.from_numpy(self.representation(self.irreps[kind], r.numpy()))
                                     for r in rotations])
                    y = torch.einsum("nij,nj->ni", d[batch] if kind == "irreps" else d, y)
            if kind in PER_CLOUD:
                if relabel is not None:  # the new cloud relabel[g] holds the old cloud g's row
                    moved = torch.empty_like(y)
                    moved[relabel] = y
                    y = moved
                return y
            return y[perm] if perm is not None else y

        return Move(name, inputs, output)

    def _random_elements(self, clouds: int, det: int, generator) -> torch.Tensor:
        return torch.stack([random_orthogonal(self.dim, det, generator) for _ in range(clouds)])

    def moves(self, size, generator):
        clouds, points = self._clouds, self._points  # of the inputs made just before
        moves = [identity_move(), self._move("reverse order", perm=torch.arange(points - 1, -1, -1))]
        moves += [self._move(f"permutation {i + 1}", perm=torch.randperm(points, generator=generator))
                  for i in range(RANDOM_ELEMENTS)]
        moves.append(self._move("clouds relabelled", relabel=torch.randperm(clouds, generator=generator)))
        rotations, shifts = [], []
        if self.rigid:
            rotations += [(f"rotation {i + 1} (one per cloud)", self._random_elements(clouds, 1, generator))
                          for i in range(RANDOM_ELEMENTS)]
            if self.reflections:
                rotations += [(f"reflection {i + 1} (det -1, one per cloud)",
                               self._random_elements(clouds, -1, generator)) for i in range(RANDOM_ELEMENTS)]
        if self.translation:
            shifts += [(f"translation {i + 1} (one per cloud)", TRANSLATION_SCALE * self.scale *
                        torch.randn(clouds, self.dim, generator=generator, dtype=torch.float64)) for i in range(2)]
        moves += [self._move(name, rotations=r) for name, r in rotations]
        moves += [self._move(name, shifts=t) for name, t in shifts]
        if rotations:
            name, r = rotations[-1]
            t = shifts[0][1] if shifts else None
            moves.append(self._move(f"{name}{', translation' if t is not None else ''}, permutation, relabelling",
                                    rotations=r, shifts=t, perm=torch.randperm(points, generator=generator),
                                    relabel=torch.randperm(clouds, generator=generator)))
        return moves

    def expected_shape(self, kind, k, inputs):
        pos, _, batch = inputs
        clouds = int(batch.max()) + 1 if len(batch) else 1
        return {"invariant": (clouds, k), "equivariant": (pos.shape[0], k), "vector": (pos.shape[0], self.dim),
                "irreps": (pos.shape[0], k), "cloud irreps": (clouds, k)}[kind]

    def header(self):
        group = f"{self.rigid}({self.dim})" if self.rigid else "no rotations"
        rotations = ("random orthogonal matrices R_g, det +1 and det -1" if self.reflections else
                     "random rotations R_g (det +1 only: mirror images may differ)") if self.rigid else ""
        actions = ", ".join(filter(None, ["permutations of the flat rows (pos, features, batch together)",
                                          "relabelled clouds",
                                          f"pos R_g^T per cloud with {rotations}" if rotations else "",
                                          "pos + t_g per cloud" if self.translation else ""]))
        lines = [f"inputs: clouds of N, N + 1 and N + 2 points in PyG's flat layout, shuffled; positions spread "
                 f"over {self.scale:g}",
                 f"group: {group} with permutations", f"actions: {actions}; vector outputs v R_g^T"]
        for kind, irreps in self.irreps.items():
            where = "per cloud" if kind == "cloud irreps" else "per point"
            lines.append(f"irreps output {irreps_text(irreps)} {where}: y D(R_g)^T, D = {self.action}")
        if not self.translation:
            lines.append("not tested: translations (not in the group: positions are about the origin)")
        return lines


check_sparse_point_cloud = tester_check(SparsePointTester)
