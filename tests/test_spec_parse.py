"""The spec language: every clause form parses to the Spec it means, and normalization round-trips."""
import subprocess
import sys
import time

import pytest

from symc.spec import Domain, Factor, Hints, Output, Spec, normalized_text, parse


def meaning(spec: Spec) -> dict:
    """A spec's content without its text and clause positions."""
    return spec.model_dump(exclude={"text", "locations"})


# ---------------------------------------------------------------- domains
@pytest.mark.parametrize("text, domain", [
    ("image 1x28x28", Domain(kind="image", channels=1, shape=(28, 28))),
    ("image 1 x 28 x 28", Domain(kind="image", channels=1, shape=(28, 28))),
    ("image(1, 28, 28)", Domain(kind="image", channels=1, shape=(28, 28))),
    ("image ( 3 ,64,32 )", Domain(kind="image", channels=3, shape=(64, 32))),
    ("image 1X28X28", Domain(kind="image", channels=1, shape=(28, 28))),
    ("image", Domain(kind="image", channels=3)),
    ("volume 2x8x16x16", Domain(kind="volume", channels=2, shape=(8, 16, 16))),
    ("volume", Domain(kind="volume", channels=1)),
    ("sequence 4x256", Domain(kind="sequence", channels=4, shape=(256,))),
    ("signal 1x100", Domain(kind="sequence", channels=1, shape=(100,))),
    ("time series", Domain(kind="sequence", channels=1)),
    ("sequence", Domain(kind="sequence", channels=1)),
    ("set 100x3", Domain(kind="set", channels=3, shape=(100,))),
    ("set", Domain(kind="set", channels=1)),
    ("point cloud 1024x3", Domain(kind="point cloud", channels=0, shape=(1024,), dim=3)),
    ("point cloud 64x2 with 5 features", Domain(kind="point cloud", channels=5, shape=(64,), dim=2)),
    ("point cloud with 1 feature", Domain(kind="point cloud", channels=1, dim=3)),
    ("point cloud", Domain(kind="point cloud", channels=0, dim=3)),
    ("graph with 4 features 10 nodes", Domain(kind="graph", channels=4, shape=(10,))),
    ("graph with 4 features", Domain(kind="graph", channels=4)),
    ("graph 1 node", Domain(kind="graph", channels=1, shape=(1,))),
    ("graph", Domain(kind="graph", channels=1)),
])
def test_domains(text, domain):
    assert parse(text).domain == domain


# ---------------------------------------------------------------- symmetries
@pytest.mark.parametrize("domain, clause, factor", [
    ("image", "rotation 8", Factor(kind="rotation", n=8)),
    ("image", "C8", Factor(kind="rotation", n=8)),
    ("image", "c8", Factor(kind="rotation", n=8)),
    ("image", "SO(2) discretized 8", Factor(kind="rotation", n=8)),
    ("image", "SE(2) discretized 8", Factor(kind="rotation", n=8)),
    ("image", "se ( 2 ) DISCRETIZED 8", Factor(kind="rotation", n=8)),
    ("image", "p4", Factor(kind="rotation", n=4)),
    ("image", "p4m", Factor(kind="dihedral", n=4)),
    ("image", "D8", Factor(kind="dihedral", n=8)),
    ("image", "O(2) discretized 8", Factor(kind="dihedral", n=8)),
    ("image", "E(2) discretized 8", Factor(kind="dihedral", n=8)),
    ("image", "flip", Factor(kind="flip")),
    ("image", "mirror", Factor(kind="flip")),
    ("image", "reflection", Factor(kind="flip")),
    ("image", "hue 3", Factor(kind="hue", n=3)),
    ("image", "scale 3", Factor(kind="scale", n=3)),
    ("set", "permutation", Factor(kind="permutation")),
    ("graph", "S(n)", Factor(kind="permutation")),
    ("point cloud", "E(3)", Factor(kind="E", n=3)),
    ("point cloud", "SE(3)", Factor(kind="SE", n=3)),
    ("point cloud", "O(3)", Factor(kind="O", n=3)),
    ("point cloud", "SO(3)", Factor(kind="SO", n=3)),
    ("point cloud 10x2", "E(2)", Factor(kind="E", n=2)),
    ("point cloud", "translation", Factor(kind="translation")),
    ("volume", "octahedral", Factor(kind="octahedral")),
    ("volume", "cube rotations", Factor(kind="octahedral")),
    ("volume", "full octahedral", Factor(kind="full octahedral")),
    ("sequence", "time reversal", Factor(kind="time reversal")),
    ("volume", "scale 2", Factor(kind="scale", n=2)),
])
def test_symmetry_clauses(domain, clause, factor):
    spec = parse(f"{domain}; {clause}")
    assert spec.symmetry == (factor,)
    assert spec.translation


def test_products_keep_the_order_written():
    spec = parse("image 3x32x32; flip x hue 3 X scale 2\nC4")
    assert spec.symmetry == (Factor(kind="flip"), Factor(kind="hue", n=3), Factor(kind="scale", n=2),
                             Factor(kind="rotation", n=4))
    assert [spec.locations[f"symmetry.{i}"] for i in range(4)] == [(1, 16), (1, 23), (1, 31), (2, 1)]


def test_translation_is_implied_on_grids_and_listed_elsewhere():
    assert parse("image; translation x C4").symmetry == (Factor(kind="rotation", n=4),)
    assert parse("sequence; translation").symmetry == ()
    assert parse("image; translation").translation
    assert parse("point cloud; translation; permutation").symmetry == (Factor(kind="translation"),
                                                                      Factor(kind="permutation"))


def test_no_translation():
    spec = parse("image; C4; no translation")
    assert not spec.translation
    assert spec.locations["no translation"] == (1, 12)
    assert not parse("point cloud; SO(3); symmetry: no translation").translation


# ---------------------------------------------------------------- outputs
@pytest.mark.parametrize("clause, output", [
    ("invariant output", Output(kind="invariant", size=1)),
    ("invariant output 10", Output(kind="invariant", size=10)),
    ("invariant output 10 classes", Output(kind="invariant", size=10)),
    ("invariant output 1 class", Output(kind="invariant", size=1)),
    ("invariant output 3 values", Output(kind="invariant", size=3)),
    ("equivariant output", Output(kind="equivariant", size=1)),
    ("equivariant output 4", Output(kind="equivariant", size=4)),
    ("equivariant output 4 channels", Output(kind="equivariant", size=4)),
    ("equivariant output 4 fields", Output(kind="fields", size=4)),
    ("equivariant output 1 field", Output(kind="fields", size=1)),
    ("orientation output", Output(kind="orientation", size=1)),
    ("orientation output 2", Output(kind="orientation", size=2)),
])
def test_image_outputs(clause, output):
    assert parse(f"image; C4; {clause}").outputs == (output,)


def test_vector_output_and_several_outputs_in_order():
    spec = parse("point cloud; E(3); invariant output 1; equivariant vector output")
    assert spec.outputs == (Output(kind="invariant"), Output(kind="vector"))
    assert spec.locations["output.0"] == (1, 20) and spec.locations["output.1"] == (1, 40)


def test_no_output_is_left_for_later_stages():
    assert parse("image; C4").outputs == ()


# ---------------------------------------------------------------- hints
@pytest.mark.parametrize("clause, name, value", [
    ("depth 4", "depth", 4),
    ("width 16", "width", 16),
    ("widths 8,16, 32", "widths", (8, 16, 32)),
    ("kernel 5", "kernel", (5,)),
    ("kernel 7,5,5", "kernel", (7, 5, 5)),
    ("params 200k", "params", 200_000),
    ("params 200K", "params", 200_000),
    ("params 1.5M", "params", 1_500_000),
    ("params 2m", "params", 2_000_000),
    ("params 12345", "params", 12345),
    ("invariant fraction 0.25", "invariant_fraction", 0.25),
    ("invariant fraction .5", "invariant_fraction", 0.5),
    ("invariant fraction 0", "invariant_fraction", 0.0),
    ("pooling max", "pooling", "max"),
    ("pooling AVG", "pooling", "avg"),
    ("activation gelu", "activation", "gelu"),
    ("activation elu", "activation", "elu"),
    ("norm none", "norm", "none"),
    ("norm group", "norm", "group"),
    ("backbone message passing", "backbone", "message passing"),
    ("backbone deepsets", "backbone", "deepsets"),
    ("position encoding rotary", "position_encoding", "rotary"),
    ("position encoding none", "position_encoding", "none"),
    ("conv fft", "conv", "fft"),
    ("boundary circular", "boundary", "circular"),
    ("dtype bfloat16", "dtype", "bfloat16"),
    ("target h100", "target", "H100"),
    ("target rtx4090", "target", "RTX4090"),
    ("target CPU", "target", "cpu"),
    ("batch 32", "batch", 32),
    ("hint: batch 1k", "batch", 1000),
])
def test_hints(clause, name, value):
    spec = parse(f"image 3x32x32; {clause}")
    assert getattr(spec.hints, name) == value
    assert spec.locations[f"hint.{name}"] == (1, 16 + (6 if clause.startswith("hint:") else 0))


def test_target_with_batch_records_both_places():
    spec = parse("image; target A100 batch 64")
    assert (spec.hints.target, spec.hints.batch) == ("A100", 64)
    assert spec.locations["hint.target"] == (1, 8) and spec.locations["hint.batch"] == (1, 20)


# ---------------------------------------------------------------- layout of the text
def test_newlines_semicolons_comments_and_labels_change_nothing():
    one_line = parse("image 1x28x28; p4; invariant output 10 classes; depth 4")
    written = parse("""
        # rotated digits
        domain: image 1x28x28   # MNIST-sized

        symmetry: p4 ;;
        output: invariant output 10 classes
        hint: depth 4
    """)
    assert meaning(written) == meaning(one_line)
    assert written.locations == {"domain": (3, 17), "symmetry.0": (5, 19), "output.0": (6, 17), "hint.depth": (7, 15)}


def test_keywords_are_case_insensitive():
    lower = parse("image 3x32x32; se(2) discretized 8; invariant output 10 classes; pooling max; target a100")
    upper = parse("IMAGE 3X32X32; SE(2) DISCRETIZED 8; INVARIANT OUTPUT 10 CLASSES; POOLING MAX; TARGET A100")
    assert meaning(lower) == meaning(upper)


def test_free_spaces_and_tabs():
    assert meaning(parse("  image\t1 x28  x 28 ;\tC4   x   flip  ")) == meaning(parse("image 1x28x28; C4 x flip"))


def test_text_is_kept_and_crlf_line_ends_work():
    text = "image 1x28x28\r\nC4\r\ninvariant output 10\r\n"
    spec = parse(text)
    assert spec.text == text
    assert spec.symmetry == (Factor(kind="rotation", n=4),) and spec.locations["output.0"] == (3, 1)


def test_contract_example_is_complete():
    spec = parse("image; SE(2) discretized 8; invariant output")
    assert spec == Spec(domain=Domain(kind="image", channels=3), symmetry=(Factor(kind="rotation", n=8),),
                        outputs=(Output(kind="invariant"),), text=spec.text, locations=spec.locations)


# ---------------------------------------------------------------- normalization
ROUND_TRIP = [
    "image 1x28x28; p4; invariant output 10 classes",
    "image; SE(2) discretized 8; invariant output",
    "image 3x32x32; p4m; invariant output 5; depth 4; widths 8,16,16,32; pooling avg",
    "image 3x64x64; D4; equivariant output 2 channels; depth 3; width 8",
    "image 1x33x33; C8; orientation output 1; depth 3",
    "image 1x29x29; rotation 8; widths 24,48,48,96,96,64; kernel 7,5,5,5,5,5",
    "image 3x32x32; hue 3 x p4; invariant output 10",
    "image 3x16x16; flip x scale 2; equivariant output 3 fields",
    "image 1x28x28; C4; no translation; invariant output",
    "image 1 x 28 x 32; rotation 2; flip",
    "image(3, 8, 8); O(2) discretized 6; equivariant output 1 field",
    "image; translation; invariant output 2 values",
    "volume 1x16x16x16; octahedral; invariant output 3",
    "volume; full octahedral; equivariant output 2; boundary circular",
    "volume 2x8x8x8; cube rotations x scale 2",
    "sequence 2x256; time reversal; equivariant output 2; boundary circular",
    "signal; scale 4; position encoding sinusoidal",
    "time series 1x100; no translation; invariant output",
    "set 50x3; permutation; invariant output 4",
    "set; S(n); backbone deepsets; norm layer",
    "point cloud 1024x3 with 4 features; E(3); invariant output 1; equivariant vector output",
    "point cloud 100x2; SO(2); permutation; no translation",
    "point cloud with 1 feature; O(3); backbone attention; position encoding radial",
    "point cloud; translation x permutation",
    "graph with 8 features 20 nodes; permutation; invariant output 2",
    "graph 5 nodes; S(n); backbone message passing; activation silu",
    "graph with 1 feature; permutation",
    "image; C4; params 1.5M; invariant fraction 0.125; dtype float16",
    "image; D8; target A100 batch 64; conv fft; norm batch; activation gelu",
    "image; C4; invariant fraction 0.00001; kernel 3; params 200k",
    "image; batch 8; dtype bfloat16; target cpu",
    "domain: image 1x8x8\nsymmetry: C4\noutput: invariant output\nhint: depth 2 # done",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_normalization_round_trips(text):
    spec = parse(text)
    canonical = normalized_text(spec)
    again = parse(canonical)
    assert again.normalized() == canonical == str(spec)
    assert meaning(again) == meaning(spec)


@pytest.mark.parametrize("text, canonical", [
    ("IMAGE 1 X 28 X 28; rotation 8; Invariant Output 10 Classes", "image 1x28x28; C8; invariant output 10"),
    ("image; p4 x mirror x hue 3", "image; C4; flip; hue 3"),
    ("image; E(2) discretized 4; equivariant output 2 fields; orientation output",
     "image; D4; equivariant output 2 fields; orientation output 1"),
    ("image; target T4 batch 8; depth 2; params 2k; kernel 3,5",
     "image; depth 2; kernel 3,5; params 2000; target T4; batch 8"),
    ("point cloud 10x3; no translation; SO(3); equivariant vector output",
     "point cloud 10x3; SO(3); no translation; equivariant vector output"),
    ("graph with 1 features 7 nodes; S(n)", "graph 7 nodes; permutation"),
    ("time series; time reversal", "sequence; time reversal"),
    ("point cloud 8x3 with 2 features", "point cloud 8x3 with 2 features"),
])
def test_canonical_text(text, canonical):
    assert parse(text).normalized() == canonical


def test_hand_built_spec_normalizes():
    spec = Spec(domain=Domain(kind="image", channels=1, shape=(28, 28)), symmetry=(Factor(kind="rotation", n=4),),
                outputs=(Output(kind="invariant", size=10),), hints=Hints(depth=3, kernel=(5,)))
    assert spec.normalized() == "image 1x28x28; C4; invariant output 10; depth 3; kernel 5"
    assert meaning(parse(spec.normalized())) == meaning(spec)


# ---------------------------------------------------------------- speed and weight
def test_parse_is_fast_once_the_parser_is_built():
    text = "image 3x32x32; p4m x hue 3; invariant output 10 classes; depth 4; widths 8,16,16,32; target A100 batch 64"
    parse(text)
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        parse(text)
    assert (time.perf_counter() - start) / runs < 0.005


def test_importing_the_spec_package_does_not_import_torch():
    code = "import sys, symc.spec; sys.exit(1 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
