"""The checks a spec must pass once it parses: clauses that contradict each other or ask for the impossible.

Each failure is a SpecError at the offending clause, quoting it as the user wrote it.
"""
from __future__ import annotations

from itertools import combinations

from ..domains import DOMAINS, domain as domain_plugin
from ..groups.o3 import parse_irreps
from ..groups.rigid import irreps_math
from .canonicalize import check_canonicalizable
from .model import Spec
from .normalize import domain_text, factor_text, hint_text, output_text, plural, with_article

RIGID = ("E", "SE", "O", "SO")
PLANE = ("rotation", "dihedral", "flip")
COUNTED = ("rotation", "dihedral", "hue", "scale")

# Pairs of symmetries where one already contains the other (or both are the same kind of thing).
OVERLAPS = {
    frozenset({"rotation", "dihedral"}): "are both rotation groups (D<N> contains C<N>): give one",
    frozenset({"dihedral", "flip"}): "overlap: D<N> already contains the mirror",
    frozenset({"octahedral", "full octahedral"}): "overlap: 'full octahedral' already contains the 24 rotations",
    frozenset({"full octahedral", "flip"}): "overlap: 'full octahedral' already contains the mirrors",
    frozenset({"translation", "E"}): "overlap: E(n) already contains the translations",
    frozenset({"translation", "SE"}): "overlap: SE(n) already contains the translations",
    **{frozenset(pair): "are both rigid-motion groups: give one" for pair in combinations(RIGID, 2)},
    **{frozenset((rigid, finite)): ("are both rotation groups: the continuous one contains every rotation "
                                    "('SO(2) discretized N' is C<N>): give one")
       for rigid in RIGID for finite in ("rotation", "dihedral")},
    **{frozenset((rigid, "flip")): f"overlap: {rigid}(2) already contains the mirrors" for rigid in ("E", "O")},
}
# Deeper plans take seconds to build and give megabytes of source; no equivariant architecture needs them.
MAX_LAYERS = 1000
OUTPUT_NAMES = {"invariant": "invariant", "equivariant": "equivariant", "vector": "vector",
                "fields": "field", "orientation": "orientation"}
OUTPUT_NAMES.update({"irreps": "per-point irreps", "cloud irreps": "per-cloud irreps"})
IRREPS = ("irreps", "cloud irreps")
# Hints that belong to some domains only (each plug-in lists the ones it takes), and what they are for.
SCOPED_HINTS = {"cutoff": "the neighbourhoods of points", "neighbours": "the neighbourhoods of points",
                "length_scale": "distances between points", "sparse": "edge lists"}
SCOPED_HINTS["canonicalize"] = "turning inputs back to a canonical pose"
SCOPED_HINTS["padding"] = "the borders of grid convolutions"
SCOPED_HINTS["downsample"] = "halving grids"


def validate(spec: Spec, sources: dict[str, str] | None = None) -> None:
    """Raise SpecError at the first clause of `spec` that cannot hold.

    `sources` maps location keys to the clauses as written (the parser passes them); without it messages quote
    the canonical text.
    """
    checks = _Checks(spec, sources or {})
    checks.domain()
    checks.factors()
    checks.overlaps()
    checks.no_translation()
    checks.outputs()
    checks.hints()
    checks.approximate()


class _Checks:
    def __init__(self, spec: Spec, sources: dict[str, str]):
        self.spec = spec
        self.sources = sources

    # ---------------------------------------------------------------- the checks
    def domain(self):
        domain = self.spec.domain
        dims = domain_plugin(domain.kind).point_dims
        if dims and domain.dim not in dims:
            self.fail("domain", f"point clouds have 2 or 3 coordinates per point, but '{self.written('domain')}' "
                                f"has {domain.dim} (other values per point go in 'with C features')")

    def factors(self):
        domain = self.spec.domain
        for index, factor in enumerate(self.spec.symmetry):
            key = f"symmetry.{index}"
            written = self.written(key)
            if factor.kind in COUNTED and (factor.n is None or factor.n < 1):
                self.fail(key, f"the number of elements must be at least 1: '{written}'")
            plugin = domain_plugin(domain.kind)
            if factor.kind not in plugin.factors:
                self.fail(key, f"'{written}' does not act on {with_article(domain.kind)}: {plugin.instead}")
            if factor.kind in RIGID and plugin.grid_dims and factor.n != plugin.grid_dims:
                self.fail(key, f"'{written}' moves {factor.n}-D space, but {plugin.plural} are "
                               f"{plugin.grid_dims}-D: write {factor.kind}({plugin.grid_dims})")
            elif factor.kind in RIGID and not plugin.grid_dims and factor.n != domain.dim:
                self.fail(key, f"'{written}' moves {factor.n}-D points, but '{self.written('domain')}' "
                               f"has {domain.dim}-D points")
            if factor.kind == "hue" and domain.channels != 3:
                self.fail(key, f"'{written}' rotates the hue of RGB images (3 channels), but "
                               f"'{self.written('domain')}' has {plural(domain.channels, 'channel')}")
            if factor.kind in RIGID and plugin.grid_dims == 2 and not _square(domain.shape):
                height, width = domain.shape
                self.fail(key, f"'{written}' turns the image by every angle, but a {height}x{width} image is not "
                               "square: only turns by 180 degrees ('C2', 'D2') keep its shape")
            if factor.kind in ("rotation", "dihedral") and factor.n > 2 and not _square(domain.shape):
                height, width = domain.shape
                self.fail(key, f"'{written}' turns the image by multiples of {360 / factor.n:g} degrees, but a "
                               f"{height}x{width} image is not square: only turns by 180 degrees ('C2', 'D2') "
                               "keep its shape")

    def overlaps(self):
        pairs = combinations(enumerate(self.spec.symmetry), 2)
        for (i, first), (j, second) in pairs:
            if first.kind == second.kind:
                reason = "are the same kind of symmetry: give one"
            else:
                reason = OVERLAPS.get(frozenset((first.kind, second.kind)))
            if reason:
                key, earlier = f"symmetry.{j}", f"symmetry.{i}"
                self.fail(key, f"'{self.written(key)}' and '{self.written(earlier)}' ({self.place(earlier)}) "
                               f"{reason}")

    def no_translation(self):
        if self.spec.translation:
            return
        domain = self.spec.domain.kind
        if not domain_plugin(domain).positions:
            self.fail("no translation", f"{domain}s have no positions to shift: leave 'no translation' out")
        for index, factor in enumerate(self.spec.symmetry):
            if factor.kind in ("E", "SE"):
                key = f"symmetry.{index}"
                self.fail("no translation", f"'no translation' contradicts '{self.written(key)}' ({self.place(key)}), "
                                            f"which contains translations (O(n) and SO(n) do not)")

    def outputs(self):
        domain = self.spec.domain.kind
        outputs = domain_plugin(domain).outputs
        first_of_kind = {}
        for index, output in enumerate(self.spec.outputs):
            key = f"output.{index}"
            written = self.written(key)
            if output.kind in first_of_kind:
                earlier = first_of_kind[output.kind]
                self.fail(key, f"a second {OUTPUT_NAMES[output.kind]} output: '{written}' and "
                               f"'{self.written(earlier)}' ({self.place(earlier)}); give each kind of output once")
            first_of_kind[output.kind] = key
            if output.kind in IRREPS:
                self.irreps(key, written, output)
            if output.kind == "vector" and output.kind not in outputs:
                self.fail(key, f"'{written}' gives vectors that turn with the points: it is for point clouds, "
                               f"not {with_article(domain)}")
            if output.kind == "fields" and output.kind not in outputs:
                self.fail(key, f"'{written}' is for images, not {with_article(domain)}: "
                               f"'equivariant output {output.size}' gives {output.size} channels that move with the "
                               "input")
            if output.kind == "orientation" and output.kind not in outputs:
                self.fail(key, f"'{written}' is for images, not {with_article(domain)}")
            if output.kind == "orientation" and not any(f.kind in PLANE + RIGID + ("hue",) for f in self.spec.symmetry):
                self.fail(key, f"'{written}' needs a rotation or mirror group to tell orientations apart "
                               "('rotation N', 'D<N>', 'SO(2)', 'O(2)' or 'flip'), or 'hue N' to tell hue shifts "
                               "apart")

    def irreps(self, key: str, written: str, output):
        """Irreps of O(3) or O(2): 3-D or 2-D point clouds with a rotation group, degrees this version builds."""
        domain = self.spec.domain
        if output.kind not in domain_plugin(domain.kind).outputs:
            self.fail(key, f"'{written}' gives irreps of O(3), which turn with 3-D points: it is for point clouds, "
                           f"not {with_article(domain.kind)}")
        n = domain.dim  # 2 or 3, checked with the domain
        if not any(f.kind in RIGID for f in self.spec.symmetry):
            self.fail(key, f"'{written}' gives irreps of O({n}), which need a rotation group to act on them: add "
                           f"'O({n})', 'SO({n})', 'E({n})' or 'SE({n})'")
        high = max(l for _, l, _ in parse_irreps(output.irreps))
        limit = irreps_math(n).MAX_DEGREE
        if high > limit:
            self.fail(key, f"'{written}' asks for degree {high}, which is not supported; supported: degrees up to "
                           f"{limit} (irreps 0e to {limit}o)" + (" on 2-D points" if n == 2 else ""))

    def hints(self):
        hints = self.spec.hints
        plugin = domain_plugin(self.spec.domain.kind)
        for name, purpose in SCOPED_HINTS.items():
            if getattr(hints, name) is not None and name not in plugin.hints:
                takers = " and ".join(sorted(p.plural for p in DOMAINS if name in p.hints))
                instead = ("; point clouds become sparse with 'cutoff R' or 'neighbours K'"
                           if name == "sparse" and "cutoff" in plugin.hints else "")
                self.fail(f"hint.{name}", f"'{self.written(f'hint.{name}')}' is for {purpose} ({takers}), not "
                                          f"{with_article(self.spec.domain.kind)}{instead}")
        if hints.canonicalize:
            check_canonicalizable(self.spec, self.written)
        if hints.pooling == "sum" and "pooling sum" not in plugin.hints:
            takers = " and ".join(sorted(p.plural for p in DOMAINS if "pooling sum" in p.hints))
            self.fail("hint.pooling", f"'{self.written('hint.pooling')}' adds up the elements' outputs (extensive "
                                      f"targets such as energies): it is for {takers}, not "
                                      f"{with_article(self.spec.domain.kind)}; use 'pooling max' or 'pooling avg'")
        if hints.width is not None and hints.widths is not None:
            later = self.later("hint.width", "hint.widths")
            other = "hint.widths" if later == "hint.width" else "hint.width"
            self.fail(later, f"'{self.written(later)}' and '{self.written(other)}' ({self.place(other)}) both set "
                             "the width: give one")
        for name in ("width", "widths"):
            if hints.params is not None and getattr(hints, name) is not None:
                later = self.later("hint.params", f"hint.{name}")
                other = f"hint.{name}" if later == "hint.params" else "hint.params"
                self.fail(later, f"'{self.written(later)}' and '{self.written(other)}' ({self.place(other)}) both "
                                 "set the size of the model: give one ('params' scales the default widths)")
        self.layer_counts()
        even = [size for size in hints.kernel or () if size % 2 == 0]
        if even:
            self.fail("hint.kernel", f"kernel sizes must be odd so filters have a center, but "
                                     f"'{self.written('hint.kernel')}' has {even[0]}")
        layers = hints.downsample or ()
        if any(b <= a for a, b in zip(layers, layers[1:])):
            self.fail("hint.downsample", f"'{self.written('hint.downsample')}' must list layers in increasing order, "
                                         "each once")
        if hints.padding not in (None, "same") and hints.boundary == "circular":
            later = self.later("hint.padding", "hint.boundary")
            other = "hint.boundary" if later == "hint.padding" else "hint.padding"
            self.fail(later, f"'{self.written(later)}' and '{self.written(other)}' ({self.place(other)}) disagree: "
                             "a circular boundary wraps the grid around and keeps its size; leave one out")
        fraction = hints.invariant_fraction
        if fraction is not None and not 0 <= fraction <= 1:
            self.fail("hint.invariant_fraction", "the invariant fraction must be between 0 and 1: "
                                                 f"'{self.written('hint.invariant_fraction')}'")

    def layer_counts(self):
        """`depth`, `widths` and a per-layer `kernel` must agree on the number of layers."""
        hints = self.spec.hints
        counts = {"hint.depth": hints.depth,
                  "hint.widths": len(hints.widths) if hints.widths else None,
                  "hint.kernel": len(hints.kernel) if hints.kernel and len(hints.kernel) > 1 else None,
                  "hint.padding": len(hints.padding) if isinstance(hints.padding, tuple) and len(hints.padding) > 1
                  else None}
        given = [(key, count) for key, count in counts.items() if count is not None]
        for key, count in given:
            if count > MAX_LAYERS:
                self.fail(key, f"'{self.written(key)}' asks for {count:,} layers, which is not supported; "
                               f"supported: up to {MAX_LAYERS} layers")
        for (a, count_a), (b, count_b) in combinations(given, 2):
            if count_a != count_b:
                later = self.later(a, b)
                other, count_later, count_other = (a, count_b, count_a) if later == b else (b, count_a, count_b)
                self.fail(later, f"'{self.written(later)}' and '{self.written(other)}' ({self.place(other)}) "
                                 f"disagree on the number of layers: {count_later} and {count_other}")

    def approximate(self):
        """`approximate F` where this version builds a free path beside F's equivariant one (docs §1.2)."""
        spec = self.spec
        plugin = domain_plugin(spec.domain.kind)
        kinds = spec.approximate_kinds()
        supported = _approximate_words(plugin.approximate)
        if spec.approximate_translation and "translation" not in plugin.approximate:
            self.fail("approximate translation", f"'{self.written('approximate translation')}' is not supported "
                                                 f"on {plugin.plural}; {supported}")
        for index, factor in enumerate(spec.symmetry):
            key = f"symmetry.{index}"
            if factor.approximate and factor.kind not in plugin.approximate:
                self.fail(key, f"'{self.written(key)}' is not supported on {plugin.plural}; {supported}")
        if not kinds:
            if spec.hints.penalty is not None:
                self.fail("hint.penalty", f"'{self.written('hint.penalty')}' weighs the free path of approximate "
                                          "symmetries, but no symmetry is approximate: write one as "
                                          "'approximate F' or leave the penalty out")
            return
        for index, factor in enumerate(spec.symmetry):
            key = f"symmetry.{index}"
            if factor.kind not in plugin.approximate | {"permutation"}:
                self.fail(key, f"'{self.written(key)}' cannot be combined with approximate symmetries yet; "
                               f"{supported}")
            if not factor.approximate and factor.kind in ("rotation", "dihedral") and factor.n not in (1, 2, 4):
                self.fail(key, f"'{self.written(key)}' with approximate symmetries: the strict rotations must be "
                               "right angles (1, 2 or 4 of them), or write it 'approximate' too")
        for name in ("cutoff", "neighbours"):
            if getattr(spec.hints, name) is not None:
                self.fail(f"hint.{name}", f"'{self.written(f'hint.{name}')}' makes a sparse point cloud; "
                                          "approximate symmetries are built for dense point clouds: leave it out")

    # ---------------------------------------------------------------- helpers
    def fail(self, key: str, message: str):
        raise self.spec.error(key, message)

    def written(self, key: str) -> str:
        """The clause as the user wrote it, or its canonical text for a Spec built in code."""
        if key in self.sources:
            return self.sources[key]
        section, _, rest = key.partition(".")
        if section == "domain":
            return domain_text(self.spec.domain)
        if section == "symmetry":
            return factor_text(self.spec.symmetry[int(rest)])
        if section == "output":
            return output_text(self.spec.outputs[int(rest)])
        if section == "hint":
            return hint_text(rest, getattr(self.spec.hints, rest))
        return key

    def place(self, key: str) -> str:
        line, column = self.spec.locations.get(key, (1, 1))
        return f"line {line}, column {column}"

    def later(self, a: str, b: str) -> str:
        locations = self.spec.locations
        return b if locations.get(b, (0, 0)) >= locations.get(a, (0, 0)) else a


def _approximate_words(kinds: frozenset[str]) -> str:
    """What a domain takes as `approximate F`, for messages."""
    if not kinds:
        return "approximate symmetries are supported on images and point clouds only"
    words = {"translation": "translation", "rotation": "rotation N", "dihedral": "D<N> (p4m)", "flip": "flip",
             "E": "E(n)", "SE": "SE(n)", "O": "O(n)", "SO": "SO(n)"}
    return "supported: approximate " + ", ".join(words[kind] for kind in sorted(kinds, key=list(words).index))


def _square(shape) -> bool:
    return shape is None or shape[0] == shape[1]
