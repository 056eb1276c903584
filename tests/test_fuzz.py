"""Fuzzed specs: whatever text comes in, symc answers with a model or a well-placed SpecError, never a traceback.

Three generators, all deterministic (`derandomize=True`, no example database) so every CI run sees the same
specs:

- valid specs drawn from the grammar, domain by domain: every spelling of every clause, labels, products, shapes
  in all three forms, outputs and hints in consistent combinations, odd case and whitespace, comments, and now
  and then huge numbers. They must parse (a capability limit such as 1000 layers may refuse them, saying so),
  round-trip through their normal form, and compile; a valid spec that is refused must say so in a SpecError
  placed inside the text (images: naming what is supported instead);
- mutations of valid specs: clauses deleted, swapped, duplicated; words misspelled; separators changed; Unicode,
  control characters and odd whitespace typed in; numbers made huge or strange; text cut short;
- token soup: grammar keywords, numbers and punctuation in random order.

Together they run VALID_EXAMPLES + MUTATED_EXAMPLES + SOUP_EXAMPLES (>= 10,000) specs through parse, plan and emit.
Building modules costs far more, so a smaller sample of tiny valid specs (FORWARD_EXAMPLES) is written to a file,
imported from it, and run forward; right-angle image models among them must also pass every row of `symc.check`
that can be measured.
"""
from __future__ import annotations

import builtins
import random
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

VALID_EXAMPLES = 3000
MUTATED_EXAMPLES = 5000
SOUP_EXAMPLES = 2000
FORWARD_EXAMPLES = 120
assert VALID_EXAMPLES + MUTATED_EXAMPLES + SOUP_EXAMPLES >= 10_000

REPRODUCIBLE = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))

# A valid image spec may still be refused (scale, a group too large, some hints are not lowered yet, a params budget
# no whole number of fields can meet); the refusal must then say what is supported or what would work.
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

class Chance(random.Random):
    """The generators' source of choices: a seeded Random, since hypothesis's own draws cost about 0.2 ms each
    and a spec takes about a hundred. Hypothesis draws the seed, so runs stay reproducible."""

    def flip(self) -> bool:
        return self.random() < 0.5

    def subset(self, items, low: int, high: int) -> list:
        return self.sample(list(items), self.randint(low, min(high, len(items))))

    def shuffled(self, items) -> list:
        items = list(items)
        self.shuffle(items)
        return items


seeds = st.integers(0, 2 ** 64 - 1)


def cased(rng, word: str) -> str:
    """Keywords are case-insensitive: write them as users might."""
    return rng.choice([word, word, word.upper(), word.capitalize()])


def spaced(rng, *words: str) -> str:
    return "".join(w + (rng.choice([" ", " ", "  ", "\t"]) if i < len(words) - 1 else "")
                   for i, w in enumerate(words))


def number(rng, value: int) -> str:
    """A whole number in one of the spellings the grammar reads as exactly that value."""
    forms = [str(value)]
    if value % 1000 == 0:
        forms.append(f"{value // 1000}{rng.choice(['k', 'K'])}")
    if value % 1_000_000 == 0:
        forms.append(f"{value // 1_000_000}M")
    if value % 100 == 0 and 1000 <= value < 1_000_000:
        forms.append(f"{value / 1000:g}k")
    forms.append(f"{value}.0")
    return rng.choice(forms)


def count(rng, low: int = 1, high: int = 8, huge: bool = True) -> int:
    """Mostly small, now and then enormous (within the language's limit of 10^12)."""
    if huge and rng.randint(0, 19) == 0:
        return rng.randint(10 ** 3, 10 ** 12)
    return rng.randint(low, high)


def shape_text(rng, sizes) -> str:
    style = rng.randint(0, 2)
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
        self.o3 = False                       # points with a rotation group (irreps outputs need one)


def image_domain(rng, draft: SpecDraft, tiny: bool) -> None:
    rotation = rng.choice(["none", "rotation", "dihedral"])
    n = rng.choice([1, 2, 3, 4, 4, 6, 8]) if tiny else count(rng, 1, 16)
    if rotation == "rotation":
        forms = [f"rotation {n}", f"C{n}", f"SO(2) discretized {n}", f"SE(2) discretized {n}"] + (["p4"] * (n == 4))
        draft.factors.append(cased(rng, rng.choice(forms)))
    elif rotation == "dihedral":
        forms = [f"D{n}", f"O(2) discretized {n}", f"E(2) discretized {n}"] + (["p4m"] * (n == 4))
        draft.factors.append(cased(rng, rng.choice(forms)))
    mirrored = rotation == "dihedral"
    if rotation != "dihedral" and rng.flip():
        draft.factors.append(cased(rng, rng.choice(["flip", "mirror", "reflection"])))
        mirrored = True
    turns = n if rotation != "none" else 1
    draft.order = turns * (2 if mirrored else 1)
    draft.plane = rotation != "none" or mirrored
    draft.right_angles = 4 % turns == 0
    hue = not tiny and rng.randint(0, 5) == 0
    if hue:
        draft.factors.append(spaced(rng, cased(rng, "hue"), number(rng, count(rng, 1, 6))))
    if not tiny and rng.randint(0, 7) == 0:
        draft.factors.append(spaced(rng, cased(rng, "scale"), number(rng, count(rng, 1, 4))))
    if rng.flip():
        draft.factors.append(cased(rng, "translation"))
    elif not tiny and rng.randint(0, 7) == 0:
        draft.no_translation = True
    channels = 3 if hue else rng.randint(1, 4)
    if tiny or rng.flip():
        side = rng.randint(4, 12) if tiny else count(rng, 1, 40)
        square = rotation != "none" and turns > 2
        other = side if square or rng.flip() else (
            rng.randint(4, 12) if tiny else count(rng, 1, 40))
        draft.domain_text = spaced(rng, cased(rng, "image"), shape_text(rng, (channels, side, other)))
    else:
        draft.domain_text = cased(rng, "image")   # C = 3 when the shape is left out
        if channels != 3 and not hue:
            draft.domain_text = spaced(rng, cased(rng, "image"), shape_text(rng, (channels, 16, 16)))


def volume_domain(rng, draft: SpecDraft, tiny: bool) -> None:
    cube = rng.choice(["", "octahedral", "cube rotations", "full octahedral"])
    if cube:
        draft.factors.append(cased(rng, cube))
    if rng.randint(0, 7) == 0 and not tiny:
        draft.factors.append(spaced(rng, cased(rng, "scale"), number(rng, count(rng, 1, 4))))
    if rng.flip():
        draft.factors.append(cased(rng, "translation"))
    if rng.flip() or tiny:
        side = rng.randint(2, 6) if tiny else count(rng, 1, 32)
        sides = (side,) * 3 if cube or rng.flip() else (side, rng.randint(2, 6), side)
        draft.domain_text = spaced(rng, cased(rng, "volume"), shape_text(rng, (rng.randint(1, 3), *sides)))
    else:
        draft.domain_text = cased(rng, "volume")


def sequence_domain(rng, draft: SpecDraft, tiny: bool) -> None:
    name = rng.choice(["sequence", "signal", "time series"])
    words = [cased(rng, w) for w in name.split()]
    if rng.flip():
        draft.factors.append(cased(rng, "time reversal"))
    if rng.randint(0, 7) == 0 and not tiny:
        draft.factors.append(spaced(rng, cased(rng, "scale"), number(rng, count(rng, 1, 4))))
    if rng.flip():
        draft.factors.append(cased(rng, "translation"))
    elif rng.randint(0, 5) == 0:
        draft.no_translation = True
    if rng.flip() or tiny:
        length = rng.randint(4, 24) if tiny else count(rng, 1, 300)
        words.append(shape_text(rng, (rng.randint(1, 4), length)))
    draft.domain_text = spaced(rng, *words)


def set_domain(rng, draft: SpecDraft, tiny: bool) -> None:
    if rng.flip():
        draft.factors.append(cased(rng, rng.choice(["permutation", "S(n)"])))
    words = [cased(rng, "set")]
    if rng.flip() or tiny:
        words.append(shape_text(rng, (rng.randint(1, 8) if tiny else count(rng, 1, 100),
                                       rng.randint(1, 4))))
    draft.domain_text = spaced(rng, *words)


def point_cloud_domain(rng, draft: SpecDraft, tiny: bool) -> None:
    dim = rng.choice([2, 3])
    words = [cased(rng, "point"), cased(rng, "cloud")]
    shaped = rng.flip() or tiny
    if shaped:
        words.append(shape_text(rng, (rng.randint(1, 8) if tiny else count(rng, 1, 100), dim)))
    else:
        dim = 3
    if rng.flip():
        features = rng.randint(1, 4)
        words += [cased(rng, "with"), str(features), cased(rng, "feature" if features == 1 else "features")]
    draft.domain_text = spaced(rng, *words)
    if rng.flip():
        draft.factors.append(cased(rng, rng.choice(["permutation", "S(n)"])))
    rigid = rng.choice(["", "E", "SE", "O", "SO"])
    if rigid:
        draft.factors.append(cased(rng, f"{rigid}({dim})"))
    draft.o3 = bool(rigid)  # irreps of O(3), or of O(2) on 2-D points
    if rigid not in ("E", "SE"):
        if rng.flip():
            draft.factors.append(cased(rng, "translation"))
        elif rng.randint(0, 4) == 0:
            draft.no_translation = True


def graph_domain(rng, draft: SpecDraft, tiny: bool) -> None:
    words = [cased(rng, "graph")]
    if rng.flip():
        features = rng.randint(1, 4)
        words += [cased(rng, "with"), str(features), cased(rng, "feature" if features == 1 else "features")]
    if rng.flip():
        nodes = rng.randint(1, 8) if tiny else count(rng, 1, 100)
        words += [str(nodes), cased(rng, "node" if nodes == 1 else "nodes")]
    draft.domain_text = spaced(rng, *words)
    if rng.flip():
        draft.factors.append(cased(rng, rng.choice(["permutation", "S(n)"])))


DOMAINS = {"image": image_domain, "volume": volume_domain, "sequence": sequence_domain, "set": set_domain,
           "point cloud": point_cloud_domain, "graph": graph_domain}
OUTPUT_KINDS = {"image": ["invariant", "equivariant", "fields", "orientation"],
                "point cloud": ["invariant", "equivariant", "vector", "irreps"]}
IRREPS = ["1x0e + 1x1o + 1x2e", "2x1e", "1x2e + 1x3o", "1o + 2e", "0o", "1x4e", "1x5o"]  # 5o: not supported


def outputs(rng, draft: SpecDraft, tiny: bool) -> None:
    kinds = list(OUTPUT_KINDS.get(draft.domain, ["invariant", "equivariant"]))
    if not draft.plane and "orientation" in kinds:
        kinds.remove("orientation")
    if not draft.o3 and "irreps" in kinds:
        kinds.remove("irreps")
    chosen = rng.subset(kinds, 1 if tiny else 0, 3)
    for kind in chosen:
        size = rng.randint(1, 4) if tiny else count(rng, 1, 12)
        if kind == "invariant":
            unit = rng.choice(["", "", " classes", " class", " values", " value"])
            written = ["invariant", "output"] + ([number(rng, size) + unit] if rng.flip() else [])
        elif kind == "equivariant":
            unit = rng.choice(["", " channels", " channel"])
            written = ["equivariant", "output"] + ([number(rng, size) + unit] if rng.flip() else [])
        elif kind == "fields":
            written = ["equivariant", "output", number(rng, size), rng.choice(["fields", "field"])]
        elif kind == "orientation":
            written = ["orientation", "output"] + ([number(rng, size)] if rng.flip() else [])
        elif kind == "irreps":
            written = ["equivariant", "output", rng.choice(IRREPS)] + (["per", "cloud"] if rng.flip() else [])
        else:
            written = ["equivariant", "vector", "output"]
        draft.outputs.append(spaced(rng, *[cased(rng, w) if w.isalpha() else w for w in written]))


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


def hints(rng, draft: SpecDraft, tiny: bool) -> None:
    names = rng.subset(HINTS, 0, 3 if tiny else 6)
    names += [name for name in RARE_HINTS if rng.randint(0, 9) == 0]
    if draft.domain not in ("image", "volume", "sequence") and rng.randint(0, 9):
        names = [name for name in names if name not in ("kernel", "conv", "boundary")]   # grid hints, mostly
    if tiny:
        names = [n for n in names if n not in ("params", "invariant fraction", "backbone", "position encoding",
                                               "target", "width")] + ["width"]
    layers = None
    if "depth" in names:
        layers = rng.randint(1, 2) if tiny else count(rng, 1, 6)
        draft.hints.append(spaced(rng, cased(rng, "depth"), number(rng, layers)))
    if "width" in names and "params" not in names:
        if layers is not None and layers <= 8 and rng.flip() or (layers is None and rng.flip()):
            layers = layers or rng.randint(1, 2 if tiny else 5)
            widths = [rng.randint(3, 4) if tiny else count(rng, 1, 48) for _ in range(layers)]
            draft.hints.append(spaced(rng, cased(rng, "widths"), ",".join(map(str, widths))))
        else:
            draft.hints.append(spaced(rng, cased(rng, "width"),
                                      number(rng, rng.randint(3, 4) if tiny else count(rng, 1, 48))))
    if "kernel" in names:
        odd = [1, 3, 5] if tiny else [1, 3, 5, 7, 9]
        if layers is not None and layers <= 8 and rng.flip():
            kernels = [rng.choice(odd) for _ in range(layers)]
        else:
            kernels = [rng.choice(odd)]
            if layers is None and not tiny and rng.flip():
                kernels += [rng.choice(odd) for _ in range(rng.randint(1, 4))]
                layers = len(kernels)
        draft.hints.append(spaced(rng, cased(rng, "kernel"), ",".join(map(str, kernels))))
    if "params" in names and "width" not in names:
        budget = rng.choice([50_000, 100_000, 200_000, 1_000_000, 1000, 5_000_000])
        draft.hints.append(spaced(rng, cased(rng, "params"), number(rng, budget)))
    if "invariant fraction" in names:
        draft.hints.append(spaced(rng, cased(rng, "invariant"), cased(rng, "fraction"),
                                  rng.choice(["0", "0.25", ".5", "0.75", "0.999"])))
    if "target" in names:
        words = [cased(rng, "target"), rng.choice(TARGETS)]
        if "batch" not in names and rng.flip():
            words += [cased(rng, "batch"), number(rng, count(rng, 1, 64))]
        draft.hints.append(spaced(rng, *words))
    if "batch" in names:
        draft.hints.append(spaced(rng, cased(rng, "batch"), number(rng, count(rng, 1, 64))))
    for name, values in CHOICES.items():
        if name in names:
            value = rng.choice(values)
            if tiny and name == "dtype":
                value = "float32"   # half precision on CPU is slow and checked elsewhere
            if tiny and name in ("backbone", "boundary", "conv"):
                continue
            words = [cased(rng, w) for w in name.split()] + [cased(rng, w) for w in value.split()]
            draft.hints.append(spaced(rng, *words))


def labelled(rng, label: str, clause: str) -> str:
    if rng.randint(0, 4) == 0:
        return f"{cased(rng, label)}:{rng.choice(['', ' ', '  '])}{clause}"
    return clause


def layout(rng, draft: SpecDraft) -> str:
    """The clauses in an order the language allows (domain first), joined by varied separators and comments."""
    factors = list(draft.factors)
    symmetry_clauses = []
    while factors:   # runs of factors become products `A x B`
        take = rng.randint(1, len(factors))
        symmetry_clauses.append(" x ".join(factors[:take]))
        factors = factors[take:]
    if draft.no_translation:
        symmetry_clauses.append(spaced(rng, cased(rng, "no"), cased(rng, "translation")))
    rest = ([labelled(rng, "symmetry", c) for c in symmetry_clauses] +
            [labelled(rng, "output", c) for c in draft.outputs] +
            [labelled(rng, "hint", c) for c in draft.hints])
    rest = rng.shuffled(rest) if rest else []
    clauses = [labelled(rng, "domain", draft.domain_text)] + list(rest)
    text = rng.choice(["", "", "\n", "  ", "# a spec\n", ";"])
    for i, clause in enumerate(clauses):
        text += clause
        last = i == len(clauses) - 1
        if rng.randint(0, 5) == 0:
            text += rng.choice([" # why", "\t# note ; not a clause"]) + "\n"
            continue
        if not last:
            text += rng.choice(["; ", ";", " ; ", "\n", ";\n", "\n\n", " ;;\n", "\r\n"])
    return text + rng.choice(["", "", "\n", ";", " \n"])


def valid_spec(rng: Chance, tiny: bool = False, domains=tuple(DOMAINS)) -> str:
    domain = rng.choice(domains)
    draft = SpecDraft(domain)
    DOMAINS[domain](rng, draft, tiny)
    outputs(rng, draft, tiny)
    hints(rng, draft, tiny)
    return layout(rng, draft)


def valid_specs(tiny: bool = False, domains=tuple(DOMAINS)):
    return seeds.map(lambda seed: valid_spec(Chance(seed), tiny, domains))


@settings(max_examples=VALID_EXAMPLES, **REPRODUCIBLE)
@given(valid_specs())
def test_valid_specs_parse_round_trip_and_compile_or_say_what_is_supported(text):
    try:
        spec = parse(text)
    except SpecError as error:   # only a capability limit (such as at most 1000 layers) may refuse a valid spec
        assert_points_inside(error, text)
        assert "not supported" in error.message, error.message
        return
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


def misspell(rng, word: str) -> str:
    """One typing slip: a letter dropped, doubled, swapped with its neighbour, or replaced."""
    i = rng.randint(0, len(word) - 1)
    slip = rng.choice(["drop", "double", "swap", "replace", "insert"])
    letter = rng.choice("aeioustxrnlcdp")
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


def mutated_spec(rng: Chance) -> str:
    text = valid_spec(rng)
    for _ in range(rng.randint(1, 4)):
        action = rng.choice(["delete", "swap", "duplicate", "misspell", "misspell", "insert", "insert",
                             "number", "number", "separator", "cut", "keyword", "case"])
        clauses = split_clauses(text) or [text]
        if action in ("delete", "swap", "duplicate"):
            i, j = rng.randint(0, len(clauses) - 1), rng.randint(0, len(clauses) - 1)
            if action == "delete":
                clauses.pop(i)
            elif action == "swap":
                clauses[i], clauses[j] = clauses[j], clauses[i]
            else:
                clauses.insert(j, clauses[i])
            text = rng.choice(["; ", "\n", ";"]).join(clauses)
        elif action == "misspell":
            words = list(WORD.finditer(text))
            if words:
                match = rng.choice(words)
                text = text[:match.start()] + misspell(rng, match.group()) + text[match.end():]
        elif action == "insert":
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(ODD_TEXT) * rng.randint(1, 3) + text[at:]
        elif action == "number":
            numbers = list(NUMBER_RE.finditer(text))
            if numbers:
                match = rng.choice(numbers)
                text = text[:match.start()] + rng.choice(STRANGE_NUMBERS) + text[match.end():]
        elif action == "separator":
            text = text.replace(";", rng.choice(["", " ", ";;", "\n", ",", ":", "；"]))
        elif action == "cut":
            text = text[:rng.randint(0, len(text))]
        elif action == "keyword":
            at = rng.randint(0, len(text))
            text = text[:at] + " " + rng.choice(KEYWORDS) + " " + text[at:]
        else:
            text = rng.choice([text.upper(), text.lower(), text.swapcase()])
    return text


KEYWORDS = sorted({word for word in keywords().values() if word.lower() != "cpu"})
mutated_specs = seeds.map(lambda seed: mutated_spec(Chance(seed)))


@settings(max_examples=MUTATED_EXAMPLES, **REPRODUCIBLE)
@given(mutated_specs)
def test_mutated_specs_give_a_model_or_a_well_placed_spec_error(text):
    compiled = parse_and_compile(text)
    if compiled is not None:
        assert compiled.source.startswith("# Generated by symc")
        normal = compiled.spec.normalized()   # whatever survived the mutation has a normal form that reads back
        assert parse(normal).normalized() == normal


# ---------------------------------------------------------------- token soup

SOUP_TOKENS = KEYWORDS + ["1x28x28", "3 x 32 x 32", "(1, 8, 8)", "0", "1", "4", "8", "10k", "2.5", "-3", "C8", "D4",
                          "(", ")", ",", ":", "#", ";", "\n", "x", "é", "\t", "\u00a0", "1e5", "S(n)", "E(2)"]


def token_soup(rng: Chance) -> str:
    glue = rng.choice([" ", "", ";", "\n", "  "])
    return glue.join(rng.choices(SOUP_TOKENS, k=rng.randint(0, 14)))


@settings(max_examples=SOUP_EXAMPLES, **REPRODUCIBLE)
@given(seeds.map(lambda seed: token_soup(Chance(seed))))
def test_token_soup_gives_a_model_or_a_well_placed_spec_error(text):
    parse_and_compile(text)


# ---------------------------------------------------------------- tiny valid specs: write, import, run

def example_inputs(spec, generator: torch.Generator) -> tuple[tuple, dict]:
    """(args, sizes) for a forward pass in the layout docs/spec-language.md §1 gives each domain."""
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
    if output.kind in ("invariant", "cloud irreps"):
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


# Images are the domain every hint and output applies to: half the forward sample.
TINY_DOMAINS = ("image",) * 5 + tuple(domain for domain in DOMAINS if domain != "image")


@settings(max_examples=FORWARD_EXAMPLES, **REPRODUCIBLE)
@given(valid_specs(tiny=True, domains=TINY_DOMAINS))
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
        # Right angles and mirrors are exact at any size, so even a tiny model must pass every row it can measure.
        # With three or four fields a whole output can die at ReLU and be constant: the tester says so in a
        # failing row, which is honest, and is not an equivariance error.
        # Zoom rows (`scale N`) are approximate and judged elsewhere (tests/test_scale.py).
        report = check(model, spec, sizes=[sizes["spatial"]])
        broken = [row for row in report.rows if not row.ok and "does not vary" not in row.note and row.exact]
        assert not broken, f"{text}\n{report}"


def test_the_generators_reach_models_not_just_errors():
    """Guards the generators themselves: most valid specs compile, and the tiny ones cover every image output,
    a rotation group, a mirror, and every other domain (so the properties above are not vacuous)."""
    valid = [valid_spec(Chance(seed)) for seed in range(300)]
    assert sum(parse_and_compile(text) is not None for text in valid) >= 0.6 * len(valid)
    seen = set()
    for seed in range(FORWARD_EXAMPLES):
        compiled = parse_and_compile(valid_spec(Chance(seed), True, TINY_DOMAINS))
        if compiled is not None:
            spec = compiled.spec
            seen.add(spec.domain.kind)
            seen.update(f"{spec.domain.kind} output {output.kind}" for output in spec.outputs)
            seen.update(f"{spec.domain.kind} {factor.kind}" for factor in spec.symmetry)
    expected = {f"image output {kind}" for kind in OUTPUT_KINDS["image"]} | set(DOMAINS)
    assert expected | {"image rotation", "image dihedral", "image flip"} <= seen, seen
