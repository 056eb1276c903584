"""Learned canonicalization: a small equivariant network finds each input's pose, the input is turned back to a
canonical pose by exact grid moves, and any backbone runs on it (docs/spec-language.md §1.4, §3).

The canonicalizer gives scores over the group elements whose group axis permutes with the input (an orientation
output: moving the input by g moves the top score from element k to g k). The forward pass picks the top element
g* exactly, turns the input by g*^-1 (rot90 and flips: index moves, no arithmetic), and moves per-pixel outputs by
g* again, so the result is exactly invariant (or equivariant) whenever the top score is unique. Ties go to the
lowest element index (torch.argmax), which is deterministic.

Gradients reach the canonicalizer through a straight-through softmax: the weights of the turned copies are
`hard + (soft - soft.detach())`, whose value is the one-hot choice exactly (soft - soft.detach() is exactly zero),
while their gradient is the softmax's.
"""
import torch
import torch.nn.functional as F


def apply_move(x: torch.Tensor, source: list[int], flips: list[int]) -> torch.Tensor:
    """Move the last len(source) axes of x as a GROUP_MOVES entry says: output axis b reads input axis source[b],
    reversed where flips[b] is 1 (an exact index move)."""
    dims = len(source)
    lead = x.dim() - dims
    order = list(range(lead)) + [lead + a for a in source]
    moved = x.permute(order)
    reversed_axes = [lead + b for b in range(dims) if flips[b]]
    if len(reversed_axes) > 0:
        moved = torch.flip(moved, reversed_axes)
    return moved


class Canonicalize(torch.nn.Module):
    """Runs `backbone` on the input turned back to the pose `canonicalizer` finds.

    `moves` and `table` are the group's GROUP_MOVES and GROUP_TABLE (every move an exact index move: right angles
    and mirrors). `equivariant[i]` says whether output i is a map that moves with the input (it is moved back by
    g*) or is invariant (left as it is). The backbone and the canonicalizer keep their own parameters.
    """

    def __init__(self, backbone: torch.nn.Module, canonicalizer: torch.nn.Module, moves, table,
                 equivariant=(False,)):
        super().__init__()
        for move in moves:
            if float(move[2]) != 0.0:
                raise ValueError("canonicalization turns inputs by exact grid moves only (right angles and "
                                 f"mirrors); a move steers by {float(move[2])} radians")
        self.backbone = backbone
        self.canonicalizer = canonicalizer
        self.order = len(moves)
        self.sources = [[int(a) for a in move[0]] for move in moves]
        self.flips = [[int(f) for f in move[1]] for move in moves]
        self.inverses = [int(row[0]) for row in table]   # GROUP_TABLE[g][0] is the index of g^-1
        self.equivariant = [bool(e) for e in equivariant]

    def pose_weights(self, x: torch.Tensor) -> torch.Tensor:
        """(B, order) weights of the group elements: exactly one-hot at the top score, with the softmax's
        gradient."""
        scores = self.canonicalizer(x)
        scores = scores.reshape(scores.shape[0], -1)
        if scores.shape[1] != self.order:
            raise ValueError(f"expected the canonicalizer to give {self.order} scores per input (one per group "
                             f"element), got shape {tuple(scores.shape)}")
        soft = torch.softmax(scores, dim=1)
        hard = F.one_hot(scores.argmax(dim=1), self.order).to(soft.dtype)
        return hard + (soft - soft.detach())

    def moved(self, x: torch.Tensor, weights: torch.Tensor, inverse: bool) -> torch.Tensor:
        """sum_g weights[:, g] * (g^-1 or g) x: the chosen element's move of each sample, exactly (the other
        weights are exactly zero)."""
        copies = []
        for g in range(self.order):
            element = self.inverses[g] if inverse else g
            copies.append(apply_move(x, self.sources[element], self.flips[element]))
        stacked = torch.stack(copies, dim=1)
        return (weights.reshape(weights.shape + (1,) * (x.dim() - 1)) * stacked).sum(dim=1)

    def canonical(self, x: torch.Tensor) -> torch.Tensor:
        """The input turned back to its canonical pose (for inspection; forward uses the same steps)."""
        return self.moved(x, self.pose_weights(x), True)

    def forward(self, x: torch.Tensor):
        weights = self.pose_weights(x)
        out = self.backbone(self.moved(x, weights, True))
        if isinstance(out, (tuple, list)):
            return tuple(self.moved(y, weights, False) if self.moves_output(i) else y for i, y in enumerate(out))
        return self.moved(out, weights, False) if self.moves_output(0) else out

    def moves_output(self, index: int) -> bool:
        return index < len(self.equivariant) and self.equivariant[index]
