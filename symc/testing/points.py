"""Point clouds: pos -> pos @ R.T + t with R in O(D) (det +1 only for SE/SO; t only when translations are in the
group), and the same permutation of pos, features and every per-point output. Vector outputs move as v @ R.T, irreps
outputs as y @ D(R).T with D(R) the block-diagonal Wigner matrices of e3nn's basis (symc.groups.o3), or on 2-D points
those of O(2) (symc.groups.o2)."""
from __future__ import annotations

import torch

from symc.groups.actions import random_orthogonal
from symc.groups.o3 import irreps_text, parse_irreps
from symc.groups.rigid import irreps_math, rigid_motions

from .domains import tester_check, DomainTester, Move, identity_move, parse_sizes

DEFAULT_COUNTS = [(7,), (8,)]
RANDOM_ELEMENTS = 3  # random rotations (and, for E/O, rotation-reflections) per size
TRANSLATION_SCALE = 3.0
IRREP_KINDS = ("irreps", "cloud irreps")


class PointCloudTester(DomainTester):
    def __init__(self, spec):
        self.spec = spec
        self.dim = spec.domain.dim
        motions = rigid_motions(spec.symmetry, self.dim)
        self.rigid, self.translation, self.reflections = motions.kind, motions.translations, motions.reflections
        # irreps outputs (one per point, one per cloud at most): how each moves, from symc.groups.o3
        self.irreps = {o.kind: parse_irreps(o.irreps) for o in spec.outputs if o.kind in IRREP_KINDS}
        # D(R) of e3nn's basis on 3-D points, of O(2)'s (cos l phi, sin l phi) on 2-D ones
        self.representation = irreps_math(self.dim).representation
        self.action = ("e3nn's Irreps.D_from_matrix(R)" if self.dim == 3 else
                       "O(2)'s block diagonal: degree l turned by l t, mirrors diag(1, -1), negated for the "
                       "unnatural parity (docs/spec-language.md §1.3.1)")

    def sizes(self, sizes):
        default = [tuple(self.spec.domain.shape)] if self.spec.domain.shape else DEFAULT_COUNTS
        return parse_sizes(sizes, default, 1, "point counts N")

    def inputs(self, size, batch, generator):
        pos = torch.randn(batch, size[0], self.dim, generator=generator, dtype=torch.float64)
        if self.spec.domain.channels == 0:
            return (pos,)
        return pos, torch.randn(batch, size[0], self.spec.domain.channels, generator=generator, dtype=torch.float64)

    def _move(self, name: str, rotation=None, shift=None, perm=None) -> Move:
        def inputs(x):
            pos = x[0]
            if rotation is not None:
                pos = pos @ rotation.T
            if shift is not None:
                pos = pos + shift
            moved = (pos,) + x[1:]
            return tuple(t[:, perm] for t in moved) if perm is not None else moved

        def output(kind, y):
            if kind in ("invariant", "cloud irreps") and (rotation is None or kind == "invariant"):
                return y
            if kind == "vector" and rotation is not None:
                y = y @ rotation.T
            if kind in IRREP_KINDS and rotation is not None:  # D(R) of e3nn's basis, parity included
                y = y @ torch.from_numpy(self.representation(self.irreps[kind], rotation.numpy())).T
            return y[:, perm] if perm is not None and kind != "cloud irreps" else y

        return Move(name, inputs, output)

    def moves(self, size, generator):
        count = size[0]
        moves = [identity_move(), self._move("reverse order", perm=torch.arange(count - 1, -1, -1))]
        moves += [self._move(f"permutation {i + 1}", perm=torch.randperm(count, generator=generator))
                  for i in range(RANDOM_ELEMENTS)]
        rotations, shifts = [], []
        if self.rigid:
            for i in range(RANDOM_ELEMENTS):
                rotations.append((f"rotation {i + 1}", random_orthogonal(self.dim, 1, generator)))
            if self.reflections:
                for i in range(RANDOM_ELEMENTS):
                    rotations.append((f"reflection {i + 1} (det -1)", random_orthogonal(self.dim, -1, generator)))
        if self.translation:
            for i in range(2):
                shifts.append((f"translation {i + 1}",
                               TRANSLATION_SCALE * torch.randn(self.dim, generator=generator, dtype=torch.float64)))
        moves += [self._move(name, rotation=r) for name, r in rotations]
        moves += [self._move(name, shift=t) for name, t in shifts]
        if rotations:
            name, r = rotations[-1]
            t = shifts[0][1] if shifts else None
            moves.append(self._move(f"{name}{', translation' if t is not None else ''}, permutation", rotation=r,
                                    shift=t, perm=torch.randperm(count, generator=generator)))
        return moves

    def expected_shape(self, kind, k, inputs):
        batch, count = inputs[0].shape[:2]
        return {"invariant": (batch, k), "equivariant": (batch, count, k), "vector": (batch, count, self.dim),
                "irreps": (batch, count, k), "cloud irreps": (batch, k)}[kind]

    def header(self):
        group = f"{self.rigid}({self.dim})" if self.rigid else "no rotations"
        rotations = ("random orthogonal matrices R, det +1 and det -1" if self.reflections else
                     "random rotations R (det +1 only: mirror images may differ)") if self.rigid else ""
        actions = ", ".join(filter(None, ["permutations of the points (pos, features and per-point outputs together)",
                                          f"pos @ R.T with {rotations}" if rotations else "",
                                          "pos + t" if self.translation else ""]))
        lines = [f"group: {group} with permutations", f"actions: {actions}; vector outputs v @ R.T"]
        for kind, irreps in self.irreps.items():
            where = "per cloud (not permuted)" if kind == "cloud irreps" else "per point"
            mirrors = " (parity p times D(-R) when det R = -1)" if self.dim == 3 else ""
            lines.append(f"irreps output {irreps_text(irreps)} {where}: y @ D(R).T, D(R) = {self.action}"
                         + (mirrors if self.reflections else "; rotations only: parity not claimed"))
        if not self.translation:
            lines.append("not tested: translations (not in the group: positions are about the origin)")
        return lines


check_point_cloud = tester_check(PointCloudTester)
