"""Learned canonicalization at the spec level: which specs can be canonicalized, and the two specs a canonicalized
model is made of (docs/spec-language.md §1.4).

A canonicalized model is a small equivariant canonicalizer (the spec's domain and group, one orientation output,
narrow layers) and a plain backbone (the spec without its rotations and mirrors). The input is turned back by the
element the canonicalizer picks, so every element must be an exact grid move: right angles and mirrors.
"""
from __future__ import annotations

from typing import Callable, Optional

from .model import Hints, Output, Spec
from .normalize import factor_text, hint_text, output_text

# Rotation and mirror groups whose every element is a right angle or a mirror: C1, C2, C4, D1, D2, D4.
EXACT_ORDERS = (1, 2, 4)
TURNING = ("rotation", "dihedral", "flip")
SUPPORTED = "'rotation 2', 'rotation 4' ('p4'), 'flip', 'D2' or 'D4' ('p4m') on images"
# Fields per layer of the canonicalizer: it only has to tell poses apart, so it is kept narrow.
CANONICALIZER_WIDTH = 8
# Hints that shape group fields or continuous-group layers, which a plain backbone does not have.
GROUP_HINTS = ("invariant_fraction", "frequencies", "nonlinearity")


def canonicalize_error(spec: Spec, written: Optional[Callable[[str], str]] = None):
    """The SpecError (at the clause to blame) that keeps `spec` from being canonicalized, or None."""
    written = written or (lambda key: _canonical_text(spec, key))
    if spec.domain.kind != "image":
        return spec.error("domain", f"canonicalization turns images back to a canonical pose, not "
                                    f"{spec.domain.kind}s; supported: {SUPPORTED}")
    for index, factor in enumerate(spec.symmetry):
        key = f"symmetry.{index}"
        if factor.kind in ("rotation", "dihedral") and factor.n not in EXACT_ORDERS:
            return spec.error(key, f"'{written(key)}' turns by {360 / factor.n:g} degrees, which no exact grid "
                                   "move does, so canonicalization could not undo it exactly; supported: "
                                   f"{SUPPORTED} (or leave 'canonicalize' out: the compiled model is equivariant "
                                   "as it is)")
        if factor.kind not in TURNING + ("translation",):
            return spec.error(key, f"'{written(key)}' cannot be undone by turning the image: canonicalization "
                                   f"supports {SUPPORTED}")
    if not any(factor.kind in TURNING for factor in spec.symmetry):
        key = "hint.canonicalize" if "hint.canonicalize" in spec.locations else "domain"
        return spec.error(key, "canonicalization needs a rotation or mirror group to undo, and the spec has none: "
                               f"add one of {SUPPORTED}")
    for index, output in enumerate(spec.outputs):
        if output.kind not in ("invariant", "equivariant"):
            key = f"output.{index}"
            return spec.error(key, f"'{written(key)}' has a group axis, which the plain backbone of a "
                                   "canonicalized model does not give; canonicalized models give 'invariant "
                                   "output' and 'equivariant output' (maps that move with the image)")
    for name in GROUP_HINTS:
        if getattr(spec.hints, name) is not None and spec.hints.canonicalize:
            key = f"hint.{name}"
            return spec.error(key, f"'{written(key)}' shapes group fields, but with 'canonicalize' the backbone is "
                                   "plain (it has no group fields): leave one of them out")
    return None


def check_canonicalizable(spec: Spec, written: Optional[Callable[[str], str]] = None) -> None:
    error = canonicalize_error(spec, written)
    if error is not None:
        raise error


def canonicalizer_spec(spec: Spec, width: int = CANONICALIZER_WIDTH) -> Spec:
    """The canonicalizer: the spec's domain and group, one orientation output, `width` fields per layer."""
    hints = Hints(width=width, target=spec.hints.target, batch=spec.hints.batch)
    return spec.model_copy(update={"outputs": (Output(kind="orientation", size=1),), "hints": hints,
                                   "locations": _kept(spec, ("domain", "symmetry", "no translation"))})


def backbone_spec(spec: Spec) -> Spec:
    """The plain backbone: the spec without its rotations and mirrors (translations kept) and without the hint."""
    kept = [(i, f) for i, f in enumerate(spec.symmetry) if f.kind not in TURNING]
    locations = {k: v for k, v in spec.locations.items() if not k.startswith("symmetry.")}
    locations.update({f"symmetry.{new}": spec.locations[f"symmetry.{old}"]
                      for new, (old, _) in enumerate(kept) if f"symmetry.{old}" in spec.locations})
    locations.pop("hint.canonicalize", None)
    return spec.model_copy(update={"symmetry": tuple(f for _, f in kept), "locations": locations,
                                   "hints": spec.hints.model_copy(update={"canonicalize": None})})


def _kept(spec: Spec, sections: tuple[str, ...]) -> dict:
    return {k: v for k, v in spec.locations.items() if k.split(".")[0] in sections}


def _canonical_text(spec: Spec, key: str) -> str:
    section, _, rest = key.partition(".")
    if section == "symmetry":
        return factor_text(spec.symmetry[int(rest)])
    if section == "output":
        return output_text(spec.outputs[int(rest)])
    if section == "hint":
        return hint_text(rest, getattr(spec.hints, rest))
    return key
