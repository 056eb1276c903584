"""Fuzzed specs: whatever text comes in, symc answers with a model or a well-placed SpecError, never a traceback.

Three generators, all deterministic (`derandomize=True`, no example database) so every CI run sees the same
specs:

- valid specs drawn from the grammar, domain by domain: every spelling of every clause, labels, products, shapes
  in all three forms, outputs and hints in consistent combinations, odd case and whitespace, comments, and now
  and then huge numbers. They must parse, round-trip through their normal form, and compile; a valid spec that
  is refused must say so in a SpecError placed inside the text (images: naming what is supported instead);
- mutations of valid specs: clauses deleted, swapped, duplicated; words misspelled; separators changed; Unicode,
  control characters and odd whitespace typed in; numbers made huge or strange; text cut short;
- token soup: grammar keywords, numbers and punctuation in random order.

Together they run VALID_EXAMPLES + MUTATED_EXAMPLES + SOUP_EXAMPLES (>= 10,000) specs through parse, plan and emit.
Building modules costs far more, so a smaller sample of tiny valid specs (FORWARD_EXAMPLES) is written to a file,
imported from it, and run forward; right-angle image models among them must also pass `symc.check`.
"""
from __future__ import annotations

import builtins
import re
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symc
from symc.spec import SpecError, parse
from symc.spec.grammar import keywords
from symc.testing import check, load_model_file

VALID_EXAMPLES = 3500
MUTATED_EXAMPLES = 5000
SOUP_EXAMPLES = 1500
FORWARD_EXAMPLES = 40
assert VALID_EXAMPLES + MUTATED_EXAMPLES + SOUP_EXAMPLES >= 10_000

REPRODUCIBLE = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))

# A valid image spec may still be refused (hue, scale, some hints are not lowered yet, a params budget no whole
# number of fields can meet); the refusal must then say what is supported or what would work.
REFUSAL_WORDS = re.compile(r"supported|cannot be met|smallest model", re.IGNORECASE)


@pytest.fixture(autouse=True, scope="module")
def cpu_target_without_probe():
    """`target cpu` measures this machine in a subprocess once per cache; the fuzz wants the planner, not that."""
    from symc.plan import hardware
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hardware, "calibrated_cpu", lambda: hardware.GENERIC_CPU)
        yield


# ---------------------------------------------------------------- the properties

def assert_points_inside(error: SpecError, text: str) -> None:
    """The error's line and column are in the text, and its rendering shows that line with a caret under it."""
    assert isinstance(error.message, str) and error.message.strip()
    lines = text.split("\n")
    assert 1 <= error.line <= len(lines), (error.line, len(lines))
    line = lines[error.line - 1].rstrip("\r")
    assert 1 <= error.column <= len(line) + 1, (error.column, line)
    rendered = str(error).split("\n")
    if error.text:
        assert error.text == text
        assert rendered[0].startswith(f"line {error.line}, column {error.column}: ")
        assert rendered[1] == "    " + line.replace("\t", " ")
        assert rendered[2] == "    " + " " * (error.column - 1) + "^"
    if error.suggestion:
        assert rendered[-1] == f"did you mean '{error.suggestion}'?"


def parse_and_compile(text: str):
    """The Compiled model, or None after checking that the SpecError raised points inside `text`.

    Any other exception escapes and fails the test: that is the property.
    """
    try:
        spec = parse(text)
    except SpecError as error:
        assert_points_inside(error, text)
        return None
    try:
        return symc.compile(spec)
    except SpecError as error:
        assert_points_inside(error, text)
        return None


# ---------------------------------------------------------------- valid specs, from the grammar

def cased(draw, word: str) -> str:
    """Keywords are case-insensitive: write them as users might."""
    return draw(st.sampled_from([word, word, word.upper(), word.capitalize()]))


def spaced(draw, *words: str) -> str:
    return "".join(w + (draw(st.sampled_from([" ", " ", "  ", "\t"])) if i < len(words) - 1 else "")
                   for i, w in enumerate(words))


def number(draw, value: int) -> str:
    """A whole number in one of the spellings the grammar reads as exactly that value."""
    forms = [str(value)]
    if value % 1000 == 0:
        forms.append(f"{value // 1000}{draw(st.sampled_from(['k', 'K']))}")
    if value % 1_000_000 == 0:
        forms.append(f"{value // 1_000_000}M")
    if value % 100 == 0 and 1000 <= value < 1_000_000:
        forms.append(f"{value / 1000:g}k")
    forms.append(f"{value}.0")
    return draw(st.sampled_from(forms))


def count(draw, low: int = 1, high: int = 8, huge: bool = True) -> int:
    """Mostly small, now and then enormous (within the language's limit of 10^12)."""
    if huge and draw(st.integers(0, 19)) == 0:
        return draw(st.integers(10 ** 3, 10 ** 12))
    return draw(st.integers(low, high))


def shape_text(draw, sizes) -> str:
    style = draw(st.integers(0, 2))
    if style == 0:
        return "x".join(map(str, sizes))
    if style == 1:
        return " x ".join(map(str, sizes))
    return "(" + ", ".join(map(str, sizes)) + ")"


class SpecDraft:
    """Clauses of one spec as they are drawn, with what the later clauses need to know."""

    def __init__(self, domain: str):
        self.domain = domain
        self.domain_text = ""
        self.factors: list[str] = []          # symmetry factors, written
        self.no_translation = False
        self.outputs: list[str] = []
        self.hints: list[str] = []
        self.plane = False                    # a rotation or mirror group (orientation outputs need one)
        self.right_angles = True              # every element maps pixel grids onto themselves
        self.order = 1


def image_domain(draw, draft: SpecDraft, tiny: bool) -> None:
    rotation = draw(st.sampled_from(["none", "rotation", "dihedral"]))
    n = draw(st.sampled_from([1, 2, 3, 4, 4, 6, 8])) if tiny else count(draw, 1, 16)
    if rotation == "rotation":
        forms = [f"rotation {n}", f"C{n}", f"SO(2) discretized {n}", f"SE(2) discretized {n}"] + (["p4"] * (n == 4))
        draft.factors.append(cased(draw, draw(st.sampled_from(forms))))
    elif rotation == "dihedral":
        forms = [f"D{n}", f"O(2) discretized {n}", f"E(2) discretized {n}"] + (["p4m"] * (n == 4))
        draft.factors.append(cased(draw, draw(st.sampled_from(forms))))
    mirrored = rotation == "dihedral"
    if rotation != "dihedral" and draw(st.booleans()):
        draft.factors.append(cased(draw, draw(st.sampled_from(["flip", "mirror", "reflection"]))))
        mirrored = True
    turns = n if rotation != "none" else 1
    draft.order = turns * (2 if mirrored else 1)
    draft.plane = rotation != "none" or mirrored
    draft.right_angles = 4 % turns == 0
    hue = not tiny and draw(st.integers(0, 5)) == 0
    if hue:
        draft.factors.append(spaced(draw, cased(draw, "hue"), number(draw, count(draw, 1, 6))))
    if not tiny and draw(st.integers(0, 7)) == 0:
        draft.factors.append(spaced(draw, cased(draw, "scale"), number(draw, count(draw, 1, 4))))
    if draw(st.booleans()):
        draft.factors.append(cased(draw, "translation"))
    elif not tiny and draw(st.integers(0, 7)) == 0:
        draft.no_translation = True
    channels = 3 if hue else draw(st.integers(1, 4))
    if tiny or draw(st.booleans()):
        side = draw(st.integers(4, 12)) if tiny else count(draw, 1, 40)
        square = rotation != "none" and turns > 2
        other = side if square or draw(st.booleans()) else (
            draw(st.integers(4, 12)) if tiny else count(draw, 1, 40))
        draft.domain_text = spaced(draw, cased(draw, "image"), shape_text(draw, (channels, side, other)))
    else:
        draft.domain_text = cased(draw, "image")   # C = 3 when the shape is left out
        if channels != 3 and not hue:
            draft.domain_text = spaced(draw, cased(draw, "image"), shape_text(draw, (channels, 16, 16)))


def volume_domain(draw, draft: SpecDraft, tiny: bool) -> None:
    cube = draw(st.sampled_from(["", "octahedral", "cube rotations", "full octahedral"]))
    if cube:
        draft.factors.append(cased(draw, cube))
    if draw(st.integers(0, 7)) == 0 and not tiny:
        draft.factors.append(spaced(draw, cased(draw, "scale"), number(draw, count(draw, 1, 4))))
    if draw(st.booleans()):
        draft.factors.append(cased(draw, "translation"))
    if draw(st.booleans()) or tiny:
        side = draw(st.integers(2, 6)) if tiny else count(draw, 1, 32)
        sides = (side,) * 3 if cube or draw(st.booleans()) else (side, draw(st.integers(2, 6)), side)
        draft.domain_text = spaced(draw, cased(draw, "volume"), shape_text(draw, (draw(st.integers(1, 3)), *sides)))
    else:
        draft.domain_text = cased(draw, "volume")


def sequence_domain(draw, draft: SpecDraft, tiny: bool) -> None:
    name = draw(st.sampled_from(["sequence", "signal", "time series"]))
    words = [cased(draw, w) for w in name.split()]
    if draw(st.booleans()):
        draft.factors.append(cased(draw, "time reversal"))
    if draw(st.integers(0, 7)) == 0 and not tiny:
        draft.factors.append(spaced(draw, cased(draw, "scale"), number(draw, count(draw, 1, 4))))
    if draw(st.booleans()):
        draft.factors.append(cased(draw, "translation"))
    elif draw(st.integers(0, 5)) == 0:
        draft.no_translation = True
    if draw(st.booleans()) or tiny:
        length = draw(st.integers(4, 24)) if tiny else count(draw, 1, 300)
        words.append(shape_text(draw, (draw(st.integers(1, 4)), length)))
    draft.domain_text = spaced(draw, *words)


def set_domain(draw, draft: SpecDraft, tiny: bool) -> None:
    if draw(st.booleans()):
        draft.factors.append(cased(draw, draw(st.sampled_from(["permutation", "S(n)"]))))
    words = [cased(draw, "set")]
    if draw(st.booleans()) or tiny:
        words.append(shape_text(draw, (draw(st.integers(1, 8)) if tiny else count(draw, 1, 100),
                                       draw(st.integers(1, 4)))))
    draft.domain_text = spaced(draw, *words)


def point_cloud_domain(draw, draft: SpecDraft, tiny: bool) -> None:
    dim = draw(st.sampled_from([2, 3]))
    words = [cased(draw, "point"), cased(draw, "cloud")]
    shaped = draw(st.booleans()) or tiny
    if shaped:
        words.append(shape_text(draw, (draw(st.integers(1, 8)) if tiny else count(draw, 1, 100), dim)))
    else:
        dim = 3
    if draw(st.booleans()):
        features = draw(st.integers(1, 4))
        words += [cased(draw, "with"), str(features), cased(draw, "feature" if features == 1 else "features")]
    draft.domain_text = spaced(draw, *words)
    if draw(st.booleans()):
        draft.factors.append(cased(draw, draw(st.sampled_from(["permutation", "S(n)"]))))
    rigid = draw(st.sampled_from(["", "E", "SE", "O", "SO"]))
    if rigid:
        draft.factors.append(cased(draw, f"{rigid}({dim})"))
    if rigid not in ("E", "SE"):
        if draw(st.booleans()):
            draft.factors.append(cased(draw, "translation"))
        elif draw(st.integers(0, 4)) == 0:
            draft.no_translation = True


def graph_domain(draw, draft: SpecDraft, tiny: bool) -> None:
    words = [cased(draw, "graph")]
    if draw(st.booleans()):
        features = draw(st.integers(1, 4))
        words += [cased(draw, "with"), str(features), cased(draw, "feature" if features == 1 else "features")]
    if draw(st.booleans()):
        nodes = draw(st.integers(1, 8)) if tiny else count(draw, 1, 100)
        words += [str(nodes), cased(draw, "node" if nodes == 1 else "nodes")]
    draft.domain_text = spaced(draw, *words)
    if draw(st.booleans()):
        draft.factors.append(cased(draw, draw(st.sampled_from(["permutation", "S(n)"]))))


DOMAINS = {"image": image_domain, "volume": volume_domain, "sequence": sequence_domain, "set": set_domain,
           "point cloud": point_cloud_domain, "graph": graph_domain}
OUTPUT_KINDS = {"image": ["invariant", "equivariant", "fields", "orientation"],
                "point cloud": ["invariant", "equivariant", "vector"]}


def outputs(draw, draft: SpecDraft, tiny: bool) -> None:
    kinds = list(OUTPUT_KINDS.get(draft.domain, ["invariant", "equivariant"]))
    if not draft.plane and "orientation" in kinds:
        kinds.remove("orientation")
    chosen = draw(st.lists(st.sampled_from(kinds), unique=True, min_size=1 if tiny else 0, max_size=3))
    for kind in chosen:
        size = draw(st.integers(1, 4)) if tiny else count(draw, 1, 12)
        if kind == "invariant":
            unit = draw(st.sampled_from(["", "", " classes", " class", " values", " value"]))
            written = ["invariant", "output"] + ([number(draw, size) + unit] if draw(st.booleans()) else [])
        elif kind == "equivariant":
            unit = draw(st.sampled_from(["", " channels", " channel"]))
            written = ["equivariant", "output"] + ([number(draw, size) + unit] if draw(st.booleans()) else [])
        elif kind == "fields":
            written = ["equivariant", "output", number(draw, size), draw(st.sampled_from(["fields", "field"]))]
        elif kind == "orientation":
            written = ["orientation", "output"] + ([number(draw, size)] if draw(st.booleans()) else [])
        else:
            written = ["equivariant", "vector", "output"]
        draft.outputs.append(spaced(draw, *[cased(draw, w) if w.isalpha() else w for w in written]))


CHOICES = {
    "pooling": ["max", "avg"], "activation": ["relu", "gelu", "silu", "elu"],
    "norm": ["batch", "layer", "group", "none"], "backbone": ["conv", "attention", "deepsets", "message passing"],
    "position encoding": ["auto", "rotary", "learned", "sinusoidal", "radial", "none"],
    "conv": ["auto", "direct", "fft"], "boundary": ["zero", "circular"],
    "dtype": ["float32", "bfloat16", "float16"],
}
TARGETS = ["cpu", "T4", "L4", "A100", "H100", "H200", "RTX4090"]
HINTS = ["depth", "width", "kernel", "params", "target", "batch", "pooling", "activation", "norm", "conv", "dtype"]
# Hints few domains lower yet: drawn less often, so most valid specs get as far as a model.
RARE_HINTS = ["invariant fraction", "backbone", "position encoding", "boundary"]


def hints(draw, draft: SpecDraft, tiny: bool) -> None:
    names = draw(st.lists(st.sampled_from(HINTS), unique=True, max_size=3 if tiny else 6))
    names += [name for name in RARE_HINTS if draw(st.integers(0, 9)) == 0]
    if tiny:
        names = [n for n in names if n not in ("params", "invariant fraction", "backbone", "position encoding",
                                               "target", "width")] + ["width"]
    layers = None
    if "depth" in names:
        layers = draw(st.integers(1, 2)) if tiny else count(draw, 1, 6)
        draft.hints.append(spaced(draw, cased(draw, "depth"), number(draw, layers)))
    if "width" in names and "params" not in names:
        if layers is not None and layers <= 8 and draw(st.booleans()) or (layers is None and draw(st.booleans())):
            layers = layers or draw(st.integers(1, 2 if tiny else 5))
            widths = [draw(st.integers(1, 2)) if tiny else count(draw, 1, 48) for _ in range(layers)]
            draft.hints.append(spaced(draw, cased(draw, "widths"), ",".join(map(str, widths))))
        else:
            draft.hints.append(spaced(draw, cased(draw, "width"),
                                      number(draw, draw(st.integers(1, 2)) if tiny else count(draw, 1, 48))))
    if "kernel" in names:
        odd = st.sampled_from([1, 3, 5]) if tiny else st.sampled_from([1, 3, 5, 7, 9])
        if layers is not None and layers <= 8 and draw(st.booleans()):
            kernels = [draw(odd) for _ in range(layers)]
        else:
            kernels = [draw(odd)]
            if layers is None and not tiny and draw(st.booleans()):
                kernels += [draw(odd) for _ in range(draw(st.integers(1, 4)))]
                layers = len(kernels)
        draft.hints.append(spaced(draw, cased(draw, "kernel"), ",".join(map(str, kernels))))
    if "params" in names and "width" not in names:
        budget = draw(st.sampled_from([50_000, 100_000, 200_000, 1_000_000, 1000, 5_000_000]))
        draft.hints.append(spaced(draw, cased(draw, "params"), number(draw, budget)))
    if "invariant fraction" in names:
        draft.hints.append(spaced(draw, cased(draw, "invariant"), cased(draw, "fraction"),
                                  draw(st.sampled_from(["0", "0.25", ".5", "0.75", "0.999"]))))
    if "target" in names:
        words = [cased(draw, "target"), draw(st.sampled_from(TARGETS))]
        if "batch" not in names and draw(st.booleans()):
            words += [cased(draw, "batch"), number(draw, count(draw, 1, 64))]
        draft.hints.append(spaced(draw, *words))
    if "batch" in names:
        draft.hints.append(spaced(draw, cased(draw, "batch"), number(draw, count(draw, 1, 64))))
    for name, values in CHOICES.items():
        if name in names:
            value = draw(st.sampled_from(values))
            if tiny and name == "dtype":
                value = "float32"   # half precision on CPU is slow and checked elsewhere
            if tiny and name in ("backbone", "boundary", "conv"):
                continue
            words = [cased(draw, w) for w in name.split()] + [cased(draw, w) for w in value.split()]
            draft.hints.append(spaced(draw, *words))


def labelled(draw, label: str, clause: str) -> str:
    if draw(st.integers(0, 4)) == 0:
        return f"{cased(draw, label)}:{draw(st.sampled_from(['', ' ', '  ']))}{clause}"
    return clause


def layout(draw, draft: SpecDraft) -> str:
    """The clauses in an order the language allows (domain first), joined by varied separators and comments."""
    factors = list(draft.factors)
    symmetry_clauses = []
    while factors:   # runs of factors become products `A x B`
        take = draw(st.integers(1, len(factors)))
        symmetry_clauses.append(" x ".join(factors[:take]))
        factors = factors[take:]
    if draft.no_translation:
        symmetry_clauses.append(spaced(draw, cased(draw, "no"), cased(draw, "translation")))
    rest = ([labelled(draw, "symmetry", c) for c in symmetry_clauses] +
            [labelled(draw, "output", c) for c in draft.outputs] +
            [labelled(draw, "hint", c) for c in draft.hints])
    rest = draw(st.permutations(rest)) if rest else []
    clauses = [labelled(draw, "domain", draft.domain_text)] + list(rest)
    text = draw(st.sampled_from(["", "", "\n", "  ", "# a spec\n", ";"]))
    for i, clause in enumerate(clauses):
        text += clause
        last = i == len(clauses) - 1
        if draw(st.integers(0, 5)) == 0:
            text += draw(st.sampled_from([" # why", "\t# note ; not a clause"])) + "\n"
            continue
        if not last:
            text += draw(st.sampled_from(["; ", ";", " ; ", "\n", ";\n", "\n\n", " ;;\n", "\r\n"]))
    return text + draw(st.sampled_from(["", "", "\n", ";", " \n"]))


@st.composite
def valid_specs(draw, tiny: bool = False, domains=tuple(DOMAINS)) -> str:
    domain = draw(st.sampled_from(domains))
    draft = SpecDraft(domain)
    DOMAINS[domain](draw, draft, tiny)
    outputs(draw, draft, tiny)
    hints(draw, draft, tiny)
    return layout(draw, draft)


@settings(max_examples=VALID_EXAMPLES, **REPRODUCIBLE)
@given(valid_specs())
def test_valid_specs_parse_round_trip_and_compile_or_say_what_is_supported(text):
    spec = parse(text)   # a valid spec must parse: any SpecError here is a bug in the parser or the generator
    again = parse(spec.normalized())
    assert again.normalized() == spec.normalized()
    assert again.model_dump(exclude={"text", "locations"}) == spec.model_dump(exclude={"text", "locations"})
    try:
        compiled = symc.compile(spec)
    except SpecError as error:
        assert_points_inside(error, text)
        if spec.domain.kind == "image":
            assert REFUSAL_WORDS.search(error.message), error.message
        return
    builtins.compile(compiled.source, "<generated>", "exec")   # the file is Python


# ---------------------------------------------------------------- mutations of valid specs

ODD_TEXT = [
    " ", "\t", "\r", "\f", "\v", "\u00a0", "\u200b", "\u2028", "\u2029", "\ufeff", "\u202e", "\u0301", "\x00",
    "\x1b", "é", "ß", "İ", "ﬁ", "Ω", "𝟙", "١", "５", "²", "∞", "🙂", "；", "×", "—", "’", "\"", "'", "\\", "{", "}",
    "[", "]", "<", ">", "=", "%", "$", "@", "!", "?", "*", "+", "-", "/", "|", "&", "^", "~", "`", "(", ")", ",",
    ":", ";", "\n", "#", ".", "..", "x", "X",
]
STRANGE_NUMBERS = [
    "0", "00", "-1", "1e5", "1E-3", "0.5", ".5", "5.", "1.5M", "2.5k", "0k", "1kk", "0x10", "1_000", "1,000",
    "９", "NaN", "inf", str(10 ** 12), str(10 ** 12 + 1), "9" * 39, "9" * 40, "9" * 41, "1" + "0" * 400,
    "999999999999k", "1000000M", "0.000000001", "1" * 20 + "." + "1" * 20,
]
WORD = re.compile(r"[A-Za-z]+")
NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?[kKM]?")


def misspell(draw, word: str) -> str:
    """One typing slip: a letter dropped, doubled, swapped with its neighbour, or replaced."""
    i = draw(st.integers(0, len(word) - 1))
    slip = draw(st.sampled_from(["drop", "double", "swap", "replace", "insert"]))
    letter = draw(st.sampled_from("aeioustxrnlcdp"))
    if slip == "drop":
        return word[:i] + word[i + 1:]
    if slip == "double":
        return word[:i] + word[i] + word[i:]
    if slip == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if slip == "insert":
        return word[:i] + letter + word[i:]
    return word[:i] + letter + word[i + 1:]


def split_clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[;\n]", text) if c.strip()]


@st.composite
def mutated_specs(draw) -> str:
    text = draw(valid_specs())
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["delete", "swap", "duplicate", "misspell", "misspell", "insert", "insert",
                                       "number", "number", "separator", "cut", "keyword", "case"]))
        clauses = split_clauses(text) or [text]
        if action in ("delete", "swap", "duplicate"):
            i, j = draw(st.integers(0, len(clauses) - 1)), draw(st.integers(0, len(clauses) - 1))
            if action == "delete":
                clauses.pop(i)
            elif action == "swap":
                clauses[i], clauses[j] = clauses[j], clauses[i]
            else:
                clauses.insert(j, clauses[i])
            text = draw(st.sampled_from(["; ", "\n", ";"])).join(clauses)
        elif action == "misspell":
            words = list(WORD.finditer(text))
            if words:
                match = draw(st.sampled_from(words))
                text = text[:match.start()] + misspell(draw, match.group()) + text[match.end():]
        elif action == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(ODD_TEXT)) * draw(st.integers(1, 3)) + text[at:]
        elif action == "number":
            numbers = list(NUMBER_RE.finditer(text))
            if numbers:
                match = draw(st.sampled_from(numbers))
                text = text[:match.start()] + draw(st.sampled_from(STRANGE_NUMBERS)) + text[match.end():]
        elif action == "separator":
            text = text.replace(";", draw(st.sampled_from(["", " ", ";;", "\n", ",", ":", "；"])))
        elif action == "cut":
            text = text[:draw(st.integers(0, len(text)))]
        elif action == "keyword":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + " " + draw(st.sampled_from(KEYWORDS)) + " " + text[at:]
        else:
            text = draw(st.sampled_from([text.upper(), text.lower(), text.swapcase()]))
    return text


KEYWORDS = sorted({word for word in keywords().values() if word.lower() != "cpu"})


@settings(max_examples=MUTATED_EXAMPLES, **REPRODUCIBLE)
@given(mutated_specs())
def test_mutated_specs_give_a_model_or_a_well_placed_spec_error(text):
    compiled = parse_and_compile(text)
    if compiled is not None:
        assert compiled.source.startswith("# Generated by symc")


# ---------------------------------------------------------------- token soup

SOUP_TOKENS = KEYWORDS + ["1x28x28", "3 x 32 x 32", "(1, 8, 8)", "0", "1", "4", "8", "10k", "2.5", "-3", "C8", "D4",
                          "(", ")", ",", ":", "#", ";", "\n", "x", "é", "\t", "\u00a0", "1e5", "S(n)", "E(2)"]


@settings(max_examples=SOUP_EXAMPLES, **REPRODUCIBLE)
@given(st.lists(st.sampled_from(SOUP_TOKENS), max_size=14), st.sampled_from([" ", "", ";", "\n", "  "]))
def test_token_soup_gives_a_model_or_a_well_placed_spec_error(tokens, glue):
    parse_and_compile(glue.join(tokens))


# ---------------------------------------------------------------- tiny valid specs: write, import, run

def example_inputs(spec, generator: torch.Generator) -> tuple[tuple, dict]:
    """(args, sizes) for a forward pass in the layout CONTRACT section 1 gives each domain."""
    domain, batch = spec.domain, 2
    shape = domain.shape

    def randn(*size):
        return torch.randn(*size, generator=generator)

    if domain.kind == "image":
        h, w = shape or (11, 11)
        return (randn(batch, domain.channels, h, w),), {"B": batch, "spatial": (h, w)}
    if domain.kind == "volume":
        sides = shape or (6, 6, 6)
        return (randn(batch, domain.channels, *sides),), {"B": batch, "spatial": tuple(sides)}
    if domain.kind == "sequence":
        length = shape[0] if shape else 16
        return (randn(batch, domain.channels, length),), {"B": batch, "spatial": (length,)}
    n = shape[0] if shape else 5
    if domain.kind == "set":
        return (randn(batch, n, domain.channels),), {"B": batch, "N": n}
    if domain.kind == "point cloud":
        pos = randn(batch, n, domain.dim)
        args = (pos, randn(batch, n, domain.channels)) if domain.channels else (pos,)
        return args, {"B": batch, "N": n, "D": domain.dim}
    adjacency = (torch.rand(batch, n, n, generator=generator) < 0.4).float()
    adjacency = ((adjacency + adjacency.transpose(1, 2)) > 0).float()
    return (randn(batch, n, domain.channels), adjacency), {"B": batch, "N": n}


def expected_shape(spec, output, sizes: dict, order: int) -> tuple[int, ...]:
    batch, k = sizes["B"], output.size
    if output.kind == "invariant":
        return (batch, k)
    if output.kind == "vector":
        return (batch, sizes["N"], sizes["D"])
    if output.kind == "fields":
        return (batch, k, order, *sizes["spatial"])
    if output.kind == "orientation":
        return (batch, k, order)
    if "spatial" in sizes:
        return (batch, k, *sizes["spatial"])
    return (batch, sizes["N"], k)


@settings(max_examples=FORWARD_EXAMPLES, **REPRODUCIBLE)
@given(valid_specs(tiny=True))
def test_tiny_valid_specs_write_files_that_import_and_run(text):
    compiled = parse_and_compile(text)
    if compiled is None:
        return
    spec = compiled.spec
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.py"
        compiled.write(path)
        torch.manual_seed(0)
        model, spec_text = load_model_file(path)
    assert spec_text == spec.normalized()
    generator = torch.Generator().manual_seed(0)
    args, sizes = example_inputs(spec, generator)
    model.eval()
    with torch.no_grad():
        result = model(*args)
    results = result if isinstance(result, tuple) else (result,)
    assert len(results) == max(1, len(spec.outputs))
    for output, y in zip(spec.outputs, results):
        assert tuple(y.shape) == expected_shape(spec, output, sizes, compiled.plan.symmetry.order), text
        assert torch.isfinite(y).all(), text
    if spec.domain.kind == "image" and compiled.plan.symmetry.right_angles_only and spec.outputs:
        report = check(model, spec, sizes=[sizes["spatial"]])
        assert report.ok, f"{text}\n{report}"


def test_the_forward_sample_covers_groups_outputs_and_hints():
    """The tiny specs are not all trivial: check a fixed draw of them reaches the interesting cases."""
    seen = set()

    @settings(max_examples=FORWARD_EXAMPLES, **REPRODUCIBLE)
    @given(valid_specs(tiny=True))
    def collect(text):
        spec = parse(text)
        seen.add(spec.domain.kind)
        seen.update(f"output {o.kind}" for o in spec.outputs)
        seen.update(f"factor {f.kind}" for f in spec.symmetry)

    collect()
    assert {"image", "output invariant", "output equivariant", "factor rotation"} <= seen, seen
