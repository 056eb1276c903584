"""Spec text -> `Spec`: parse with the grammar, build the model clause by clause, then validate it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from .errors import SpecError
from .grammar import parser
from .model import Domain, Factor, Hints, Output, Spec
from ..domains import domain as domain_plugin
from ..groups import o2
from ..groups.o3 import irreps_dim, irreps_text, parse_irreps
from .normalize import with_article
from .syntax import DOMAIN_WORDS, syntax_error
from .validate import validate

TARGETS = {name.lower(): name for name in ("cpu", "T4", "L4", "A100", "H100", "H200", "RTX4090")}
SUFFIXES = {"k": 1000, "m": 1000000}
MAX_DIGITS = 40             # longer numbers are typos; this also keeps int() within Python's digit limit
MAX_COUNT = 10 ** 12        # far above any real size, so absurd numbers stop here, not in the planner
ROTATIONS = "the number of rotations"


def parse(text: str) -> Spec:
    """The Spec `text` describes. Any problem raises SpecError pointing at its line and column in `text`."""
    try:
        tree = parser().parse(text)
    except UnexpectedInput as error:
        raise syntax_error(error, text) from None
    try:
        clauses = _Builder(text).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, SpecError):
            raise error.orig_exc from None
        raise
    spec, sources = _assemble(clauses, text)
    validate(spec, sources)
    return spec


@dataclass(frozen=True)
class _Clause:
    section: str                # 'domain', 'symmetry', 'no translation', 'output' or 'hint'
    value: Any                  # Domain, Factor, None, Output, or the hint's value
    at: tuple[int, int]         # (line, column) where the clause starts
    source: str                 # the clause as written, for messages
    name: str = ""              # the Hints field, for hints


@dataclass(frozen=True)
class _Shape:
    sizes: tuple[Token, ...]
    meta: Any                   # lark's position of the shape in the text


@v_args(meta=True)
class _Builder(Transformer):
    """Turns the parse tree into a flat list of clauses, converting and checking numbers where they are written."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    # ---------------------------------------------------------------- clauses
    def start(self, meta, groups):
        return [clause for group in groups for clause in group]

    def domain_clause(self, meta, children):
        return children

    def symmetry_clause(self, meta, children):
        return children

    def output_clause(self, meta, children):
        return children

    def hint_clause(self, meta, children):
        return [clause for clause in children if clause is not None]   # `target T4 batch 8` gives two

    def no_translation(self, meta, children):
        return [self._clause("no translation", None, meta)]

    # ---------------------------------------------------------------- domains
    def image(self, meta, children):
        return self._grid(meta, "image", children[0], default_channels=3)

    def volume(self, meta, children):
        return self._grid(meta, "volume", children[0], default_channels=1)

    def sequence(self, meta, children):
        return self._grid(meta, "sequence", children[0], default_channels=1)

    def set(self, meta, children):
        sizes = self._sizes("set", children[0])
        if sizes is None:
            return self._domain(meta, kind="set", channels=1)
        return self._domain(meta, kind="set", channels=sizes[1], shape=sizes[:1])

    def point_cloud(self, meta, children):
        shape, features = children
        sizes = self._sizes("point cloud", shape) or (None, 3)
        return self._domain(meta, kind="point cloud", channels=features or 0,
                            shape=None if sizes[0] is None else sizes[:1], dim=sizes[1])

    def graph(self, meta, children):
        features, edge_features, nodes = children
        shape = None if nodes is None else (self._count(nodes, "the number of nodes", meta),)
        return self._domain(meta, kind="graph", channels=features or 1, shape=shape, edge_channels=edge_features or 0)

    def edge_features(self, meta, children):
        return self._count(children[0], "the number of edge features", meta)

    def shape(self, meta, children):
        if children[0].type == "SHAPE":   # one token such as `1 x 28 x 28`: split it, keeping each size's column
            token = children[0]
            children = [Token("NUMBER", m.group(), line=token.line, column=token.column + m.start())
                        for m in re.finditer(r"[0-9]+", token)]
        return _Shape(tuple(children), meta)

    def features(self, meta, children):
        return self._count(children[0], "the number of features", meta)

    # ---------------------------------------------------------------- symmetries
    def translation(self, meta, children):
        return self._factor(meta, "translation")

    def rotation(self, meta, children):
        return self._factor(meta, "rotation", self._count(children[0], ROTATIONS, meta))

    def cyclic(self, meta, children):
        return self._factor(meta, "rotation", self._count(_digits(children[0]), ROTATIONS, meta))

    def dihedral(self, meta, children):
        return self._factor(meta, "dihedral", self._count(_digits(children[0]), ROTATIONS, meta))

    def p4(self, meta, children):
        return self._factor(meta, "rotation", 4)

    def p4m(self, meta, children):
        return self._factor(meta, "dihedral", 4)

    def lie_group(self, meta, children):
        name, dimension, order = children
        name = str(name.children[0]).upper()
        n = self._count(dimension, "the dimension", meta)
        if order is None:
            return self._factor(meta, name, n)
        if n != 2:
            raise self._error(f"only 2-D groups can be discretized: '{self._source(meta)}' "
                              "(use SO(2), SE(2), O(2) or E(2))", meta)
        kind = "rotation" if name in ("SO", "SE") else "dihedral"    # SE(2)'s translations are implied on images
        return self._factor(meta, kind, self._count(order, ROTATIONS, meta))

    def flip(self, meta, children):
        return self._factor(meta, "flip")

    def hue(self, meta, children):
        return self._factor(meta, "hue", self._count(children[0], "the number of hue rotations", meta))

    def scale(self, meta, children):
        return self._factor(meta, "scale", self._count(children[0], "the number of scales", meta))

    def permutation(self, meta, children):
        return self._factor(meta, "permutation")

    def octahedral(self, meta, children):
        return self._factor(meta, "octahedral")

    def full_octahedral(self, meta, children):
        return self._factor(meta, "full octahedral")

    def time_reversal(self, meta, children):
        return self._factor(meta, "time reversal")

    def approximate(self, meta, children):
        inner = children[0]
        if inner.value.approximate:
            raise self._error(f"'approximate' given twice: '{self._source(meta)}'", meta)
        return self._clause("symmetry", inner.value.model_copy(update={"approximate": True}), meta)

    # ---------------------------------------------------------------- outputs
    def invariant(self, meta, children):
        return self._output(meta, "invariant", children[0])

    def equivariant(self, meta, children):
        return self._output(meta, "equivariant", children[0])

    def fields(self, meta, children):
        return self._output(meta, "fields", children[0])

    def vector(self, meta, children):
        return self._output(meta, "vector", None)

    def orientation(self, meta, children):
        return self._output(meta, "orientation", children[0])

    def irreps(self, meta, children):
        terms, per_cloud = children
        text = " + ".join(str(token) for token in terms)
        try:
            irreps = parse_irreps(text)
        except ValueError as error:
            bad = next((t for t in terms if str(t).lower() in str(error).lower()), terms[0])
            raise SpecError(f"bad irreps in '{self._source(meta)}': {error}", bad.line, bad.column, self.text) from None
        kind = "cloud irreps" if per_cloud is not None else "irreps"
        return self._clause("output", Output(kind=kind, size=irreps_dim(irreps), irreps=irreps_text(irreps)), meta)

    def irrep_sum(self, meta, children):
        return children

    def per_cloud(self, meta, children):
        return True

    # ---------------------------------------------------------------- hints
    def depth(self, meta, children):
        return self._hint(meta, "depth", self._count(children[0], "the depth", meta))

    def width(self, meta, children):
        return self._hint(meta, "width", self._count(children[0], "a width", meta))

    def widths(self, meta, children):
        return self._hint(meta, "widths", tuple(self._count(t, "a width", meta) for t in children[0]))

    def kernel(self, meta, children):
        return self._hint(meta, "kernel", tuple(self._count(t, "a kernel size", meta) for t in children[0]))

    def padding(self, meta, children):
        if isinstance(children[0], list):
            return self._hint(meta, "padding", tuple(self._whole(t, "a padding", meta) for t in children[0]))
        return self._hint(meta, "padding", str(children[0].children[0]).lower())

    def downsample(self, meta, children):
        if isinstance(children[0], list):
            return self._hint(meta, "downsample", tuple(self._count(t, "a layer number", meta) for t in children[0]))
        return self._hint(meta, "downsample", ())

    def numbers(self, meta, children):
        return children

    def params(self, meta, children):
        return self._hint(meta, "params", self._count(children[0], "the parameter budget", meta))

    def invariant_fraction(self, meta, children):
        return self._hint(meta, "invariant_fraction", float(self._number(children[0], meta)))

    def target(self, meta, children):
        if isinstance(children[0], Token):  # a user profile: checked when planning, which knows the files
            return self._hint(meta, "target", str(children[0]))
        name = str(children[0].children[0]).lower()
        return self._hint(meta, "target", TARGETS[name])

    def batch(self, meta, children):
        return self._hint(meta, "batch", self._count(children[0], "the batch size", meta))

    def _choice(name: str):
        """A hint naming one of a few words (`pooling max`, `backbone message passing`): the value is the words."""
        def build(self, meta, children):
            return self._hint(meta, name, " ".join(str(word).lower() for word in children[0].children))
        return build

    pooling = _choice("pooling")
    activation = _choice("activation")
    norm = _choice("norm")
    backbone = _choice("backbone")
    position_encoding = _choice("position_encoding")
    conv = _choice("conv")
    boundary = _choice("boundary")
    dtype = _choice("dtype")
    nonlinearity = _choice("nonlinearity")
    del _choice

    def cutoff(self, meta, children):
        return self._hint(meta, "cutoff", self._distance(children[0], "the cutoff", meta))

    def neighbours(self, meta, children):
        return self._hint(meta, "neighbours", self._count(children[0], "the number of neighbours", meta))

    def length_scale(self, meta, children):
        return self._hint(meta, "length_scale", self._distance(children[0], "the length scale", meta))

    def sparse(self, meta, children):
        return self._hint(meta, "sparse", True)

    def canonicalize(self, meta, children):
        return self._hint(meta, "canonicalize", True)

    def penalty(self, meta, children):
        return self._hint(meta, "penalty", self._distance(children[0], "the penalty weight", meta))

    def frequencies(self, meta, children):
        return self._hint(meta, "frequencies", self._count(children[0], "the number of frequencies", meta))

    # ---------------------------------------------------------------- helpers
    def _source(self, meta) -> str:
        """The clause as written, for messages: tabs and runs of spaces shown as one space."""
        return " ".join(self.text[meta.start_pos:meta.end_pos].split())

    def _clause(self, section, value, meta, name="") -> _Clause:
        return _Clause(section, value, (meta.line, meta.column), self._source(meta), name)

    def _domain(self, meta, **fields) -> _Clause:
        return self._clause("domain", Domain(**fields), meta)

    def _grid(self, meta, kind, shape, default_channels) -> _Clause:
        sizes = self._sizes(kind, shape)
        if sizes is None:
            return self._domain(meta, kind=kind, channels=default_channels)
        return self._domain(meta, kind=kind, channels=sizes[0], shape=sizes[1:])

    def _sizes(self, kind: str, shape: _Shape | None) -> tuple[int, ...] | None:
        """The sizes of a domain's shape, checked against the layout the domain takes (None: no shape given)."""
        if shape is None:
            return None
        layout = domain_plugin(kind).size_layout
        expected = layout.count("x") + 1
        if len(shape.sizes) != expected:
            raise self._error(f"{with_article(kind)} shape is {layout} ({expected} sizes), but "
                              f"'{self._source(shape.meta)}' has {len(shape.sizes)}", shape.meta)
        return tuple(self._count(token, "a size", shape.meta) for token in shape.sizes)

    def _factor(self, meta, kind, n=None) -> _Clause:
        return self._clause("symmetry", Factor(kind=kind, n=n), meta)

    def _output(self, meta, kind, size: Token | None) -> _Clause:
        size = 1 if size is None else self._count(size, "the output size", meta)
        return self._clause("output", Output(kind=kind, size=size), meta)

    def _hint(self, meta, name, value) -> _Clause:
        return self._clause("hint", value, meta, name)

    def _error(self, message, meta) -> SpecError:
        return SpecError(message, meta.line, meta.column, self.text)

    def _number(self, token: Token, meta) -> Fraction:
        """The exact value of a number as written (`1.5M` is 1500000); `meta` places the clause it is in."""
        if len(token) > MAX_DIGITS:
            raise SpecError(f"number with too many digits in '{self._source(meta)}'", token.line, token.column,
                            self.text)
        text = token.lower()
        return Fraction(text.rstrip("km")) * SUFFIXES.get(text[-1], 1)

    def _distance(self, token: Token, what: str, meta) -> float:
        """A length in the positions' units: any number above 0."""
        value = self._number(token, meta)
        if value <= 0 or value > MAX_COUNT:
            raise SpecError(f"{what} must be above 0 (and at most {MAX_COUNT:,}), not {token}: "
                            f"'{self._source(meta)}'", token.line, token.column, self.text)
        return float(value)

    def _whole(self, token: Token, what: str, meta) -> int:
        """A whole number, 0 allowed (paddings)."""
        value = self._number(token, meta)
        problem = ("must be a whole number" if value.denominator != 1 else
                   f"is too large (at most {MAX_COUNT:,})" if value > MAX_COUNT else None)
        if problem:
            raise SpecError(f"{what} {problem}, not {token}: '{self._source(meta)}'", token.line, token.column,
                            self.text)
        return int(value)

    def _count(self, token: Token, what: str, meta) -> int:
        """A whole number, at least 1 (every size, count and order in the language is one)."""
        value = self._number(token, meta)
        problem = ("must be a whole number" if value.denominator != 1 else
                   "must be at least 1" if value < 1 else
                   f"is too large (at most {MAX_COUNT:,})" if value > MAX_COUNT else None)
        if problem:
            raise SpecError(f"{what} {problem}, not {token}: '{self._source(meta)}'", token.line, token.column,
                            self.text)
        return int(value)


def _digits(token: Token) -> Token:
    """The number in `C8` or `D8`, placed where its digits are."""
    return Token("NUMBER", token[1:], line=token.line, column=token.column + 1)


def _assemble(clauses: list[_Clause], text: str) -> tuple[Spec, dict[str, str]]:
    """The Spec the clauses describe, and the source text of each clause under its location key."""
    _check_domain(clauses, text)
    _check_translation(clauses, text)
    domain = clauses[0].value
    factors, outputs, hints = [], [], {}
    locations, sources = {}, {}
    for clause in clauses:
        if clause.section == "symmetry":
            if clause.value.kind == "translation" and domain_plugin(domain.kind).grid_dims:
                if clause.value.approximate:    # kept as a flag, at its own location key
                    key = "approximate translation"
                    if key in locations:
                        raise SpecError(f"'{key}' given twice ({_place(locations[key])} and {_place(clause.at)})",
                                        *clause.at, text)
                    locations[key], sources[key] = clause.at, clause.source
                continue    # implied on grids, where the `translation` flag says it
            key = f"symmetry.{len(factors)}"
            factors.append(clause.value)
        elif clause.section == "output":
            key = f"output.{len(outputs)}"
            outputs.append(clause.value)
            if clause.value.irreps and domain.dim == 2:  # degree l >= 1 of O(2) has 2 components, not 2l + 1
                outputs[-1] = clause.value.model_copy(update={"size": o2.irreps_dim(parse_irreps(clause.value.irreps))})
        elif clause.section == "hint":
            key = f"hint.{clause.name}"
            hints[clause.name] = clause.value
        else:
            key = clause.section
        if key in locations:
            raise _given_twice(clause, locations[key], text)
        locations[key], sources[key] = clause.at, clause.source
    spec = Spec(domain=domain, symmetry=tuple(factors), translation="no translation" not in locations,
                approximate_translation="approximate translation" in locations,
                outputs=tuple(outputs), hints=Hints(**hints), text=text, locations=locations)
    return spec, sources


def _check_domain(clauses: list[_Clause], text: str) -> None:
    domains = [clause for clause in clauses if clause.section == "domain"]
    first = clauses[0]
    if not domains:
        raise SpecError(f"missing domain: a spec starts with a domain ({DOMAIN_WORDS}), "
                        f"but this one starts with '{first.source}'", *first.at, text)
    if domains[0] is not first:
        raise SpecError(f"the domain '{domains[0].source}' must be the first clause, "
                        f"before '{first.source}'", *domains[0].at, text)
    if len(domains) > 1:
        raise SpecError(f"a spec has one domain, but '{domains[1].source}' is a second one "
                        f"(the first is '{first.source}')", *domains[1].at, text)


def _check_translation(clauses: list[_Clause], text: str) -> None:
    """`translation` and `no translation` contradict each other (checked before grids drop the former)."""
    said = [c for c in clauses if c.section == "no translation" or
            (c.section == "symmetry" and c.value.kind == "translation")]
    kinds = {clause.section for clause in said}
    if len(kinds) == 2:
        first, second = said[0], next(c for c in said if c.section != said[0].section)
        raise SpecError(f"'{second.source}' contradicts '{first.source}' ({_place(first.at)})", *second.at, text)


def _given_twice(clause: _Clause, first_at: tuple[int, int], text: str) -> SpecError:
    name = clause.name.replace("_", " ") or clause.section
    return SpecError(f"'{name}' given twice ({_place(first_at)} and {_place(clause.at)})", *clause.at, text)


def _place(at: tuple[int, int]) -> str:
    return f"line {at[0]}, column {at[1]}"
