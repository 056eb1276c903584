"""Bad specs: every failure is a SpecError at the right line and column, in plain words, with a fix if close."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symc
from symc.spec import Domain, Factor, Hints, Output, Spec, SpecError, parse
from symc.spec.validate import validate

# (spec, line, column, a phrase of the message)
BAD_SPECS = [
    # text that does not read
    ("", 1, 1, "the spec is empty"),
    ("# nothing here\n;;\n", 1, 1, "the spec is empty"),
    ("imgae 1x28x28", 1, 1, "unknown word 'imgae': a spec starts with a domain"),
    ("\n\n  picture 1x28x28", 3, 3, "a spec starts with a domain (image, volume"),
    ("image; rotaton 4", 1, 8, "unknown word 'rotaton'"),
    ("image; SE(2) discretised 8", 1, 14, "unknown word 'discretised' in 'SE(2) discretised 8'"),
    ("image; invarient output", 1, 8, "unknown word 'invarient'"),
    ("image 1x28x28 p4", 1, 15, "missing ';' or a new line before 'p4'"),
    ("image; rotation", 1, 16, "'rotation' is incomplete: expected a number"),
    ("image; rotation\nC4", 1, 16, "'rotation' is incomplete"),
    ("image; SE(2) discretized; C4", 1, 25, "'SE(2) discretized' is incomplete"),
    ("image; rotation (4)", 1, 17, "unexpected '(' in 'rotation (4)'"),
    ("image; hue 3 4", 1, 14, "unexpected number 4 in 'hue 3 4'"),
    ("image; depth 3 @", 1, 16, "unexpected character '@'"),
    ("image; depth -3", 1, 14, "negative number in 'depth -3'"),
    ("image; pooling maximum", 1, 16, "unknown word 'maximum' in 'pooling maximum': expected 'avg', 'max' or 'sum'"),
    ("image; params 1e5", 1, 15, "unknown word '1e5'"),
    ("image; S(5)", 1, 10, "unexpected number 5 in 'S(5)'"),
    ("image; C8 x", 1, 12, "'C8 x' is incomplete"),
    ("image; 10", 1, 8, "unexpected number 10: expected a symmetry, an output or a hint"),
    ("image; symmetry: depth 4", 1, 18, "'depth' cannot come here"),
    # numbers
    ("image 1x0x28", 1, 9, "a size must be at least 1, not 0"),
    ("image; rotation 0", 1, 17, "the number of rotations must be at least 1"),
    ("image; D0", 1, 9, "the number of rotations must be at least 1"),
    ("image; hue 0", 1, 12, "the number of hue rotations must be at least 1"),
    ("image; scale 0", 1, 14, "the number of scales must be at least 1"),
    ("image; invariant output 0 classes", 1, 25, "the output size must be at least 1"),
    ("image; depth 2.5", 1, 14, "the depth must be a whole number, not 2.5"),
    ("image; params 1.2345k", 1, 15, "must be a whole number"),
    ("image; params 10000000000000", 1, 15, "the parameter budget is too large"),
    ("image; width " + "9" * 50, 1, 14, "too many digits"),
    # domains
    ("C4; image", 1, 5, "the domain 'image' must be the first clause"),
    ("p4; invariant output", 1, 1, "missing domain"),
    ("image 1x28x28\nvolume", 2, 1, "a spec has one domain, but 'volume' is a second one"),
    ("image 28x28", 1, 7, "an image shape is CxHxW (3 sizes), but '28x28' has 2"),
    ("volume 1x8x8", 1, 8, "a volume shape is CxDxHxW"),
    ("point cloud 100x4", 1, 1, "point clouds have 2 or 3 coordinates per point"),
    # symmetries against the domain
    ("image 1x28x28; hue 3", 1, 16, "rotates the hue of RGB images (3 channels), but 'image 1x28x28' has 1 channel"),
    ("image 4x8x8; hue 6", 1, 14, "has 4 channels"),
    ("image; octahedral", 1, 8, "'octahedral' does not act on an image"),
    ("sequence; full octahedral", 1, 11, "'full octahedral' does not act on a sequence"),
    ("volume; rotation 4", 1, 9, "volumes use 'octahedral'"),
    ("sequence; flip", 1, 11, "sequences use 'translation', 'time reversal'"),
    ("point cloud; C4", 1, 14, "point clouds use 'permutation' and 'E(n)'"),
    ("image; SE(3)", 1, 8, "'SE(3)' moves 3-D space, but images are 2-D: write SE(2)"),
    ("point cloud 10x2; E(3)", 1, 19, "'E(3)' moves 3-D points, but 'point cloud 10x2' has 2-D points"),
    ("image; SO(3) discretized 8", 1, 8, "only 2-D groups can be discretized"),
    ("image 3x28x32; C4", 1, 16, "a 28x32 image is not square"),
    ("image 3x28x32\nflip x D8", 2, 8, "turns the image by multiples of 45 degrees"),
    ("image; time reversal", 1, 8, "'time reversal' does not act on an image"),
    ("image; permutation", 1, 8, "'permutation' does not act on an image"),
    ("volume; S(n)", 1, 9, "'S(n)' does not act on a volume"),
    ("graph; translation", 1, 8, "graphs use 'permutation'"),
    ("image; C4 x C8", 1, 13, "'C8' and 'C4' (line 1, column 8) are the same kind of symmetry"),
    ("image; p4m\nrotation 8", 2, 1, "are both rotation groups"),
    ("image; D4 x flip", 1, 13, "D<N> already contains the mirror"),
    ("point cloud; E(3) x SO(3)", 1, 21, "both rigid-motion groups"),
    ("point cloud; E(3) x translation", 1, 21, "E(n) already contains the translations"),
    ("image; no translation; translation", 1, 24, "'translation' contradicts 'no translation' (line 1, column 8)"),
    ("image; translation\nno translation", 2, 1, "'no translation' contradicts 'translation'"),
    ("point cloud; SE(3); no translation", 1, 21, "contradicts 'SE(3)' (line 1, column 14), which contains"),
    ("set; no translation", 1, 6, "sets have no positions to shift"),
    ("image; no translation; no translation", 1, 24, "'no translation' given twice"),
    # outputs
    ("image; equivariant vector output", 1, 8, "it is for point clouds, not an image"),
    ("image; invariant output 10; C4; invariant output 3", 1, 33, "a second invariant output"),
    ("image; orientation output", 1, 8, "needs a rotation or mirror group"),
    ("volume; octahedral; orientation output", 1, 21, "is for images, not a volume"),
    ("set; equivariant output 2 fields", 1, 6, "'equivariant output 2 fields' is for images, not a set"),
    # hints
    ("image; depth 4\ndepth 5", 2, 1, "'depth' given twice (line 1, column 8 and line 2, column 1)"),
    ("image; target T4 batch 8; batch 16", 1, 27, "'batch' given twice (line 1, column 18"),
    ("image; widths 8,16; width 4", 1, 21, "'width 4' and 'widths 8,16' (line 1, column 8) both set the width"),
    ("image; widths 8,16\ndepth 3", 2, 1, "'depth 3' and 'widths 8,16' (line 1, column 8) disagree on the number"),
    ("image; kernel 3,5,7; depth 2", 1, 22, "disagree on the number of layers: 2 and 3"),
    ("image; kernel 3,5; widths 8,16,32", 1, 20, "disagree on the number of layers: 3 and 2"),
    ("image; kernel 4", 1, 8, "kernel sizes must be odd so filters have a center"),
    ("image; kernel 3,5,6; depth 3", 1, 8, "kernel sizes must be odd"),
    ("image; invariant fraction 1.01", 1, 8, "the invariant fraction must be between 0 and 1"),
    ("image; invariant fraction 1.5", 1, 8, "between 0 and 1"),
]


@pytest.mark.parametrize("text, line, column, phrase", BAD_SPECS)
def test_bad_specs_point_at_the_problem(text, line, column, phrase):
    with pytest.raises(SpecError) as caught:
        parse(text)
    error = caught.value
    assert (error.line, error.column) == (line, column), error.message
    assert phrase in error.message


@pytest.mark.parametrize("text, suggestion", [
    ("imgae 1x28x28", "image"),
    ("imag", "image"),
    ("volme", "volume"),
    ("image; rotaton 4", "rotation"),
    ("image; SE(2) discretised 8", "discretized"),
    ("image; invarient output", "invariant"),
    ("image; invariant ouptut", "output"),
    ("image; C4; equivarient output 2", "equivariant"),
    ("image; pooling avrg", "avg"),
    ("image; activation gelus", "gelu"),
    ("image; targte A100", "target"),
    ("volume; octohedral", "octahedral"),
    ("set; permutaton", "permutation"),
    ("point cloud; E(3); equivariant vektor output", "vector"),
])
def test_near_misses_get_a_suggestion(text, suggestion):
    with pytest.raises(SpecError) as caught:
        parse(text)
    assert caught.value.suggestion == suggestion
    assert f"did you mean '{suggestion}'?" in str(caught.value)


@pytest.mark.parametrize("text, column, suggestion", [
    ("image; target TPU", 15, "cpu"),
    ("image; target T5", 15, "T4"),
    ("image; p4; hint: TARGET h1000 batch 8", 25, "H100"),
])
def test_unknown_targets_are_found_when_planning_and_point_at_the_name(text, column, suggestion):
    # Any word may name a user's profile (~/.config/symc/targets/NAME.toml), so parsing accepts it and
    # planning, which looks for the file, reports it.
    with pytest.raises(SpecError) as caught:
        symc.compile(text)
    assert (caught.value.line, caught.value.column) == (1, column)
    assert caught.value.message.startswith("unknown target")
    assert caught.value.suggestion == suggestion


@pytest.mark.parametrize("text", ["image; hue 3 4", "image; frobnicate", "image; depth x", "image; xyzzy 4"])
def test_no_suggestion_when_nothing_is_close(text):
    with pytest.raises(SpecError) as caught:
        parse(text)
    assert caught.value.suggestion is None


def test_error_text_shows_the_line_and_a_caret():
    with pytest.raises(SpecError) as caught:
        parse("image 1x28x28\nSE(2) discretised 8\ninvariant output")
    assert str(caught.value).splitlines() == [
        "line 2, column 7: unknown word 'discretised' in 'SE(2) discretised 8': "
        "expected 'discretized', 'x' or the end of the clause",
        "    SE(2) discretised 8",
        "          ^",
        "did you mean 'discretized'?",
    ]


def test_caret_is_on_the_line_the_parser_counts():
    # \f and \u2028 end lines for str.splitlines but not for the parser: the shown line must still match.
    with pytest.raises(SpecError) as caught:
        parse("image 1x28x28\f # grey\u2028scale\nhue 3\r\n")
    assert (caught.value.line, caught.value.column) == (2, 1)
    assert caught.value.source_line == "hue 3"


def test_validate_quotes_canonical_text_for_specs_built_in_code():
    spec = Spec(domain=Domain(kind="volume", channels=1), symmetry=(Factor(kind="rotation", n=4),),
                outputs=(Output(kind="invariant"),), hints=Hints(kernel=(3,)))
    with pytest.raises(SpecError, match="'C4' does not act on a volume") as caught:
        validate(spec)
    assert (caught.value.line, caught.value.column) == (1, 1)


def test_validate_rejects_a_rotation_group_without_an_order():
    spec = Spec(domain=Domain(kind="image", channels=3), symmetry=(Factor(kind="rotation"),))
    with pytest.raises(SpecError, match="must be at least 1"):
        validate(spec)


# ---------------------------------------------------------------- fuzzing
VALID = [
    "image 1x28x28; p4; invariant output 10 classes",
    "image 3x32x32\np4m x hue 3\ninvariant output 5; depth 4; widths 8,16,16,32",
    "point cloud 100x3 with 4 features; E(3); invariant output; equivariant vector output",
    "volume 1x8x8x8; octahedral; equivariant output 2",
    "sequence 2x64; time reversal; boundary circular; target T4 batch 8",
    "graph with 3 features 10 nodes; S(n); backbone message passing",
    "domain: set 10x2\nsymmetry: permutation # sets\noutput: invariant output 1",
]
NOISE = ["imgae", "rotaton", "x", ";", "\n", "#", "(", ")", ",", ":", "10**30", str(10 ** 30), "1e30", "0", "-1",
         "é", "∞", "\u2028", "\x00", "\t", "C", "D0", "SE(2)", "discretized", "output", "k", "M", "1.5M", "  "]


def clauses(text):
    return [c for c in re.split(r"[;\n]", text) if c.strip()]


@st.composite
def mutated_specs(draw):
    """A valid spec with clauses deleted, swapped or repeated and noise typed into it."""
    parts = clauses(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["delete", "swap", "duplicate", "insert", "replace"]))
        i, j = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
        if action == "delete" and len(parts) > 1:
            parts.pop(i)
        elif action == "swap":
            parts[i], parts[j] = parts[j], parts[i]
        elif action == "duplicate":
            parts.insert(j, parts[i])
        else:
            text = parts[i]
            at = draw(st.integers(0, len(text)))
            cut = at + draw(st.integers(0, 3)) if action == "replace" else at
            parts[i] = text[:at] + draw(st.sampled_from(NOISE)) + text[cut:]
    separator = draw(st.sampled_from(["; ", "\n", " ;\n"]))
    return separator.join(parts)


def assert_only_spec_errors(text):
    """Parsing `text` either fails with a well-placed SpecError or gives a spec whose normal form round-trips."""
    try:
        spec = parse(text)
    except SpecError as error:
        assert 1 <= error.line <= text.count("\n") + 1
        assert error.column >= 1
        assert error.message
        str(error)
    else:
        again = parse(spec.normalized())
        assert again.normalized() == spec.normalized()
        assert again.model_dump(exclude={"text", "locations"}) == spec.model_dump(exclude={"text", "locations"})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=["Cs"]), max_size=60))
def test_random_text_only_raises_spec_errors(text):
    assert_only_spec_errors(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_only_raise_spec_errors(text):
    assert_only_spec_errors(text)
