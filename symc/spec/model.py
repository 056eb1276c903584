"""Typed, immutable description of what a user asked for (the parser's output).

A `Spec` records the request as written, normalized (aliases resolved, defaults filled); deciding what architecture
that implies is the IR's job, not this module's.
"""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from .errors import SpecError
from .normalize import normalized_text

DomainKind = Literal["image", "volume", "sequence", "set", "point cloud", "graph"]

# Symmetry factor kinds. `n` means: order for rotation/dihedral/hue/scale, space dimension for the continuous groups.
FactorKind = Literal[
    "translation",      # shifts (implied on grids unless `no translation`)
    "rotation",         # C_n: rotation N, C<N>, SO(2)/SE(2) discretized N, p4
    "dihedral",         # D_n: D<N>, O(2)/E(2) discretized N, p4m
    "flip",             # mirror left-right (D_1)
    "hue",              # hue rotations, n of them
    "scale",            # n discrete scales
    "permutation",      # S(n) on sets, points, nodes
    "E", "SE", "O", "SO",   # continuous groups of point clouds, n = 2 or 3
    "octahedral",       # 24 cube rotations
    "full octahedral",  # 48 cube symmetries
    "time reversal",
]

OutputKind = Literal["invariant", "equivariant", "vector", "fields", "orientation",
                     "irreps",          # point clouds: irreps of O(3) per point (B, N, dim)
                     "cloud irreps"]    # the same per cloud (B, dim)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Domain(_Frozen):
    kind: DomainKind
    channels: int = Field(ge=0)
    """C: input channels (image/volume/sequence/set) or per-element features (point cloud/graph; 0 = none)."""
    shape: Optional[tuple[int, ...]] = None
    """Sizes as written: (H, W), (D, H, W), (L,), set/point cloud (N,), graph (N,) nodes; None = any size."""
    dim: Optional[int] = None
    """Point-cloud coordinate dimension D (2 or 3)."""
    edge_channels: int = Field(default=0, ge=0)
    """Graphs: E features per edge (0 = none); with them the graph is sparse, edges given as an edge index."""


class Factor(_Frozen):
    kind: FactorKind
    n: Optional[int] = None
    approximate: bool = False
    """`approximate F`: the model gets a free path beside the equivariant one, pulled toward F by a penalty."""


class Output(_Frozen):
    kind: OutputKind
    size: int = Field(default=1, ge=1)
    """K: classes/values/channels/fields; for `vector` it is 1; for irreps the dimension."""
    irreps: Optional[str] = None
    """Irreps outputs: the irreps of O(3) (or of O(2) on 2-D points) in e3nn's canonical text, '1x0e+1x1o'."""


class Hints(_Frozen):
    depth: Optional[int] = None
    width: Optional[int] = None
    widths: Optional[tuple[int, ...]] = None
    kernel: Optional[tuple[int, ...]] = None
    """One entry means every layer; several mean one per layer."""
    padding: Optional[Union[Literal["same", "valid"], tuple[int, ...]]] = None
    """Grid convolutions: 'same' keeps the size (kernel // 2 on each side), 'valid' pads nothing, numbers pad that
    many on each side (one entry for every layer, or one per layer)."""
    downsample: Optional[tuple[int, ...]] = None
    """Grid models: the layers (counted from 1) after which the grid is halved; () for none."""
    params: Optional[int] = None
    invariant_fraction: Optional[float] = None
    pooling: Optional[Literal["max", "avg", "sum"]] = None
    activation: Optional[Literal["relu", "gelu", "silu", "elu"]] = None
    norm: Optional[Literal["batch", "layer", "group", "none"]] = None
    backbone: Optional[Literal["conv", "attention", "deepsets", "message passing"]] = None
    position_encoding: Optional[Literal["auto", "rotary", "learned", "sinusoidal", "radial", "none"]] = None
    conv: Optional[Literal["auto", "direct", "fft"]] = None
    boundary: Optional[Literal["zero", "circular"]] = None
    frequencies: Optional[int] = None
    """Band limit of continuous rotation groups on images: the highest irrep frequency features carry."""
    nonlinearity: Optional[Literal["gated", "norm"]] = None
    """How continuous-group image models act on fields that are not scalars."""
    cutoff: Optional[float] = None
    """Point clouds: neighbours are the points within this distance (in the positions' own units); sparse."""
    neighbours: Optional[int] = None
    """Point clouds: neighbours are the K nearest points (within the cutoff when both are given); sparse."""
    length_scale: Optional[float] = None
    """Point clouds: the distance the radial basis is scaled by when no cutoff sets it."""
    sparse: Optional[bool] = None
    """Graphs: edges given as an edge index (2, M) in PyG's flat layout rather than as a dense adjacency."""
    canonicalize: Optional[bool] = None
    """Images: a plain backbone behind a small learned canonicalizer that turns each input back to its pose."""
    dtype: Optional[Literal["float32", "bfloat16", "float16"]] = None
    penalty: Optional[float] = None
    """Approximate symmetries: the weight of the squared free-path weights in `symmetry_penalty()`."""
    target: Optional[str] = None
    batch: Optional[int] = None


class Spec(_Frozen):
    domain: Domain
    symmetry: tuple[Factor, ...] = ()
    """Factors in the order written, aliases resolved; implied translation is not listed."""
    translation: bool = True
    """False when the spec says `no translation` (positions may matter)."""
    approximate_translation: bool = False
    """Grids: `approximate translation` (shifts are implied there, so this flag says it, not a factor)."""
    outputs: tuple[Output, ...] = ()
    hints: Hints = Hints()
    text: str = ""
    """The spec exactly as given (for error messages)."""
    locations: dict[str, tuple[int, int]] = Field(default_factory=dict)
    """(line, column) of each clause: keys 'domain', 'symmetry.I', 'no translation', 'output.I', 'hint.NAME'."""

    def error(self, key: str, message: str, suggestion: str | None = None) -> SpecError:
        """A SpecError pointing at the clause `key` (see `locations`), or at the spec's start."""
        line, column = self.locations.get(key, (1, 1))
        return SpecError(message, line, column, self.text, suggestion)

    def approximate_kinds(self) -> tuple[str, ...]:
        """The kinds of the factors written `approximate`, 'translation' included on grids."""
        kinds = ("translation",) if self.approximate_translation else ()
        return kinds + tuple(factor.kind for factor in self.symmetry if factor.approximate)

    def normalized(self) -> str:
        return normalized_text(self)

    def __str__(self) -> str:
        return self.normalized()
