"""The canonical one-line text of a Spec.

One spelling per meaning (aliases resolved, numbers written out in full, defaults left out), clauses joined by
"; " in a fixed order: domain, symmetry factors and outputs as written, `no translation` after the factors,
hints in the order of the `Hints` fields. Parsing the text gives the same Spec back.
"""
from __future__ import annotations

from decimal import Decimal

from ..domains import domain as domain_plugin

# The Spec classes (symc.spec.model) are named in annotations only: model imports this module for Spec.normalized.


def normalized_text(spec: Spec) -> str:
    clauses = [domain_text(spec.domain)]
    if spec.approximate_translation:
        clauses.append("approximate translation")
    clauses += [factor_text(factor) for factor in spec.symmetry]
    if not spec.translation:
        clauses.append("no translation")
    clauses += [output_text(output) for output in spec.outputs]
    clauses += [hint_text(name, value) for name, value in _given_hints(spec.hints)]
    return "; ".join(clauses)


def domain_text(domain: "Domain") -> str:
    """The domain clause as its plug-in writes it (symc.domains)."""
    return domain_plugin(domain.kind).clause_text(domain)


def factor_text(factor: Factor) -> str:
    if factor.approximate:
        return "approximate " + factor_text(factor.model_copy(update={"approximate": False}))
    if factor.kind == "rotation":
        return f"C{factor.n}"
    if factor.kind == "dihedral":
        return f"D{factor.n}"
    if factor.kind in ("hue", "scale"):
        return f"{factor.kind} {factor.n}"
    if factor.kind in ("E", "SE", "O", "SO"):
        return f"{factor.kind}({factor.n})"
    return factor.kind


def output_text(output: Output) -> str:
    if output.kind == "vector":
        return "equivariant vector output"
    if output.kind in ("irreps", "cloud irreps"):
        return f"equivariant output {output.irreps}" + (" per cloud" if output.kind == "cloud irreps" else "")
    if output.kind == "fields":
        return f"equivariant output {plural(output.size, 'field')}"
    return f"{output.kind} output {output.size}"


def hint_text(name: str, value) -> str:
    if value is True:   # a flag: the hint's words alone
        return name.replace('_', ' ')
    if name == "downsample":
        return f"downsample after {','.join(map(str, value))}" if value else "downsample none"
    if isinstance(value, tuple):
        value = ",".join(map(str, value))
    elif isinstance(value, float):
        value = format(Decimal(repr(value)), "f")   # plain digits: the grammar has no exponent notation
    return f"{name.replace('_', ' ')} {value}"


def _given_hints(hints: Hints):
    for name in type(hints).model_fields:
        value = getattr(hints, name)
        if value is not None:
            yield name, value


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def with_article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun
