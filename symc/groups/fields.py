"""Field types: what a feature map is, as an immutable direct sum of representations of the group.

A `FieldType` says how the group moves a feature map: `parts` lists (representation, multiplicity) pairs, in channel
order, on a grid of `spatial` sizes (empty once positions are pooled), kept at `scales` discrete scales. Plain input
channels and invariant scalars are trivial fields (one channel each); a regular field has one channel per group
element, moved as out[h] = g(in[g^-1 h]); "mixed" features are trivial fields followed by regular ones. Irreducible
and quotient representations have their place in the same sum. Like e3nn's `Irreps`, a field type is a value: it is
compared, hashed, added (direct sum) and described, never mutated.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Representation:
    """One representation of the group: its kind, its dimension and, for irreducible and quotient ones, a label."""

    kind: str
    """'trivial', 'regular', 'quotient' (permutes the cosets of a subgroup) or 'irreducible'."""
    dim: int
    label: str = ""


TRIVIAL = Representation("trivial", 1)


def regular(order: int) -> Representation:
    return Representation("regular", order)


@dataclass(frozen=True)
class FieldType:
    """A direct sum of representations of the group named `group` (of `order` elements) on a grid."""

    group: str
    order: int
    parts: tuple[tuple[Representation, int], ...]
    spatial: tuple[int, ...] = ()
    scales: int = 1
    """Discrete scales the features are kept at (folded into the batch by the layers): 1 without a scale factor."""

    def __post_init__(self):
        for representation, count in self.parts:
            if count < 0:
                raise ValueError(f"negative multiplicity {count} of the {representation.kind} representation")

    @classmethod
    def of(cls, group: str, order: int, trivial: int = 0, regular_fields: int = 0, spatial=(), scales: int = 1,
           keep_empty: bool = False):
        """`trivial` trivial fields, then `regular_fields` regular ones. Parts with no fields are left out, unless
        `keep_empty` (a mixed layer whose regular part is empty still says so)."""
        parts = []
        if trivial or keep_empty:
            parts.append((TRIVIAL, trivial))
        if regular_fields or keep_empty:
            parts.append((regular(order), regular_fields))
        return cls(group, order, tuple(parts), tuple(spatial), scales)

    def count(self, kind: str) -> int:
        """Fields of representations of this kind."""
        return sum(n for representation, n in self.parts if representation.kind == kind)

    @property
    def trivial(self) -> int:
        return self.count("trivial")

    @property
    def regular(self) -> int:
        return self.count("regular")

    @property
    def fields(self) -> int:
        """Fields of every kind."""
        return sum(n for _, n in self.parts)

    @property
    def channels(self) -> int:
        return sum(representation.dim * n for representation, n in self.parts)

    @property
    def representation(self) -> str:
        """'trivial' or 'regular' when every field is of that kind, 'mixed' for trivial then regular fields."""
        kinds = {representation.kind for representation, _ in self.parts}
        if kinds <= {"trivial"}:
            return "trivial"
        if kinds == {"regular"}:
            return "regular"
        return "mixed"

    def __add__(self, other: "FieldType") -> "FieldType":
        """The direct sum: this type's channels, then the other's."""
        if (self.group, self.order, self.spatial, self.scales) != (other.group, other.order, other.spatial,
                                                                   other.scales):
            raise ValueError(f"cannot add field types on different groups or grids: {self.describe()} and "
                             f"{other.describe()}")
        parts = list(self.parts)
        for representation, n in other.parts:
            if parts and parts[-1][0] == representation:
                parts[-1] = (representation, parts[-1][1] + n)
            else:
                parts.append((representation, n))
        return FieldType(self.group, self.order, tuple(parts), self.spatial, self.scales)

    def shape(self) -> tuple[int, ...]:
        if self.representation == "regular" and not self.spatial:
            shape = (self.fields, self.order)
        else:
            shape = (self.channels, *self.spatial)
        return (self.scales, *shape) if self.scales > 1 else shape

    def describe(self) -> str:
        size = "x".join(str(s) for s in self.spatial)
        terms = []
        for representation, n in self.parts:
            if representation.kind == "trivial":
                terms.append(f"{n} scalars")
            elif representation.kind == "regular":
                terms.append(f"{n} x {self.group}")
            else:
                terms.append(f"{n} x {representation.label or representation.kind}")
        kind = " + ".join(terms) or "0 scalars"
        if self.scales > 1:
            kind += f" x {self.scales} scales"
        return f"{kind} @ {size}" if size else kind
