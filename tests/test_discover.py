"""`symc discover` / `symc.discover`: verdicts on data with a known symmetry, the suggested spec, the CLI and its
errors. Small data, tiny models, few steps."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symc
from symc.discovery import BROKEN, RESPECTED, UNCLEAR, DataError, prepare
from symc.discovery.verdict import judge, suggest_spec

ROOT = Path(__file__).resolve().parents[1]


def _load_shapes():
    spec = importlib.util.spec_from_file_location("discover_shapes", ROOT / "examples" / "discover" / "shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shapes = _load_shapes()


def run_cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "symc", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def chiral():
    x, y = shapes.chiral_images(800, seed=1)
    return symc.discover(x, y, domain="image", steps=250, seed=0, progress=False,
                         candidates=["quarter turns", "mirror"])


def test_chiral_shapes_respect_quarter_turns_and_break_the_mirror(chiral):
    assert chiral.verdict("quarter turns") == RESPECTED
    assert chiral.verdict("mirror") == BROKEN
    mirror = next(f for f in chiral.findings if f.candidate == "mirror")
    assert mirror.augmented < 0.7 < mirror.plain   # the mirror merges L and J: near chance with augmentation
    assert chiral.spec == "image 1x12x12; rotation 4; invariant output 2 classes"
    assert symc.compile(chiral.spec).spec.normalized() == "image 1x12x12; C4; invariant output 2"


def test_table_rows_and_spec_last(chiral):
    lines = str(chiral).splitlines()
    assert lines[-1] == f"spec: {chiral.spec}"
    rows = {line.split()[0]: line for line in lines if line.startswith(("quarter", "mirror"))}
    assert rows["quarter"].endswith(RESPECTED) and rows["mirror"].endswith(BROKEN)
    assert "held-out accuracy" in rows["mirror"] and "with augmentation" in rows["mirror"]


def test_mnist1d_translation_respected_time_reversal_broken():
    if importlib.util.find_spec("mnist1d") is None:
        pytest.skip("mnist1d is not installed (pip install mnist1d, or the 'test' extra)")
    from mnist1d.data import get_dataset_args, make_dataset
    data = make_dataset(get_dataset_args())
    x = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    found = symc.discover(x, y, domain="sequence", steps=1200, max_samples=5000, seed=0, progress=False,
                          candidates=["translation", "time reversal"])
    assert found.verdict("translation") == RESPECTED
    assert found.verdict("time reversal") == BROKEN
    assert found.spec == "sequence 1x40; invariant output 10 classes"
    symc.compile(found.spec)


def test_float_targets_are_judged_by_r2():
    x, y = shapes.area_targets(800, seed=2)
    found = symc.discover(x, y, domain="image", steps=250, seed=0, progress=False,
                          candidates=["quarter turns", "mirror"])
    assert found.metric == "R^2"
    assert {f.candidate: f.verdict for f in found.findings} == {"quarter turns": RESPECTED, "mirror": RESPECTED}
    assert found.findings[0].plain > 0.8
    assert found.spec == "image 1x12x12; D4; invariant output 1 values"
    assert "held-out R^2" in str(found)
    symc.compile(found.spec)


def test_set_order_that_matters_is_a_sequence():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1200, 6, 1)).astype(np.float32)
    # the label asks whether the first element exceeds the last: reordering the elements breaks it
    y = (x[:, 0, 0] > x[:, -1, 0]).astype(np.int64)
    found = symc.discover(x, y, domain="set", steps=250, seed=0, progress=False)
    assert found.verdict("permutation") == BROKEN
    assert found.spec == "sequence 1x6; no translation; invariant output 2 classes"
    symc.compile(found.spec)


def test_same_seed_same_result():
    x, y = shapes.chiral_images(200, seed=3)
    runs = [symc.discover(x, y, domain="image", steps=30, seed=5, progress=False, candidates=["mirror"])
            for _ in range(2)]
    assert str(runs[0]).splitlines()[2:] == str(runs[1]).splitlines()[2:]   # the header holds the time taken


def test_time_limit_leaves_candidates_unclear():
    x, y = shapes.chiral_images(200, seed=3)
    found = symc.discover(x, y, domain="image", steps=30, seed=0, progress=False, time_limit=0.0)
    assert {f.verdict for f in found.findings} == {UNCLEAR}
    assert "time limit" in found.findings[0].note
    assert found.spec == "image 1x12x12; invariant output 2 classes"


def test_verdict_thresholds():
    assert judge(0.95, 0.94, 0.1, 1.2, 1.0)[0] == RESPECTED
    assert judge(0.95, 0.50, 0.5, 10.0, 20.0)[0] == BROKEN           # keeps nothing
    assert judge(0.92, 0.86, 0.1, 1.8, 6.0)[0] == BROKEN             # most kept, but the error nearly doubles
    assert judge(0.84, 0.78, 0.1, 1.3, 5.0)[0] == UNCLEAR            # a clear cost, the error up by 30%
    assert judge(1.0, 0.972, 0.49, float("inf"), 3.8)[0] == UNCLEAR  # a perfect plain model, a small clear cost
    assert judge(0.55, 0.54, 0.5, 1.0, 0.5) == (UNCLEAR, None)       # the plain model learned too little
    assert judge(0.87, 0.85, 0.1, 1.2, 2.6, related=0.01)[0] == UNCLEAR   # cheap, but the data is not closed


def test_suggestions_combine_into_the_strongest_group():
    def spec(domain, shape, verdicts, classes=10, targets=0):
        return suggest_spec(domain, shape, classes, targets, verdicts)[0]

    image = (3, 16, 16)
    assert spec("image", image, {"quarter turns": RESPECTED, "eighth turns": RESPECTED, "mirror": RESPECTED,
                                 "hue": RESPECTED}) == "image 3x16x16; D8; hue 3; invariant output 10 classes"
    assert spec("image", image, {"quarter turns": RESPECTED, "translation": BROKEN}) == \
        "image 3x16x16; rotation 4; no translation; invariant output 10 classes"
    assert spec("image", image, {"mirror": RESPECTED, "scale": RESPECTED}) == \
        "image 3x16x16; flip; scale 3; invariant output 10 classes"
    text, notes = suggest_spec("image", image, 10, 0, {"scale": RESPECTED, "translation": BROKEN})
    assert text == "image 3x16x16; no translation; invariant output 10 classes" and "scale" in notes[0]
    assert spec("sequence", (2, 50), {"time reversal": RESPECTED}, 0, 3) == \
        "sequence 2x50; time reversal; invariant output 3 values"
    assert spec("point cloud", (8, 3), {"rotations": RESPECTED, "mirrors": RESPECTED, "translations": RESPECTED,
                                        "permutation": RESPECTED}) == \
        "point cloud 8x3; E(3); invariant output 10 classes"
    assert spec("point cloud", (8, 2), {"rotations": RESPECTED}) == \
        "point cloud 8x2; SO(2); invariant output 10 classes"
    for text in [spec("image", image, {"quarter turns": RESPECTED, "mirror": RESPECTED, "hue": RESPECTED,
                                       "scale": RESPECTED}),
                 spec("point cloud", (8, 3), {"translations": RESPECTED})]:
        symc.compile(text)


@pytest.mark.parametrize("x, y, domain, message", [
    (np.zeros((30, 5)), np.zeros(30, dtype=int), "image", "but image data is (N, C, H, W) or (N, H, W)"),
    (np.zeros((30, 5, 4)), np.zeros(30, dtype=int), "point cloud", "D = 2 or 3, got D = 4"),
    (np.zeros((30, 8)), np.zeros(29, dtype=int), "sequence", "x holds 30 samples"),
    (np.zeros((30, 8)), np.array([0, 1] * 15), "galaxy", "unknown domain 'galaxy'"),
    (np.zeros((30, 8)), -np.ones(30, dtype=int), "sequence", "class labels must be 0, 1, ..., K-1"),
    (np.zeros((5, 8)), np.array([0, 1, 0, 1, 0]), "sequence", "too few"),
    (np.full((30, 8), np.nan), np.array([0, 1] * 15), "sequence", "NaN"),
])
def test_bad_data_is_named(x, y, domain, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        prepare(x, y, domain)


def test_cli_prints_table_and_spec(tmp_path):
    x, y = shapes.chiral_images(200, seed=4)
    np.savez(tmp_path / "chiral.npz", x=x[:, 0], y=y)   # (N, H, W): one channel
    result = run_cli("discover", tmp_path / "chiral.npz", "--domain", "image", "--steps", "10", "--max-samples", "100",
                     "--seed", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("spec: image 1x12x12; ")
    assert any(line.startswith("mirror ") for line in lines) and lines[2].split() == ["candidate", "evidence",
                                                                                    "verdict"]
    assert "discover [" in result.stderr   # the progress bar
    symc.compile(lines[-1].removeprefix("spec: "))


def test_cli_errors(tmp_path):
    np.savez(tmp_path / "no_y.npz", x=np.zeros((30, 8, 8)), labels=np.zeros(30, dtype=int))
    np.savez(tmp_path / "flat.npz", x=np.zeros((30, 8)), y=np.zeros(30, dtype=int))
    cases = [(["no_y.npz", "--domain", "image"], "has no key 'y'"),
             (["flat.npz", "--domain", "image"], "flat.npz: x has shape (30, 8), but image data is"),
             (["flat.npz", "--domain", "galaxy"], "unknown domain 'galaxy'"),
             (["missing.npz", "--domain", "image"], "data file missing.npz does not exist"),
             (["flat.npz"], "--domain")]
    for args, message in cases:
        result = run_cli("discover", *args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == ""


def test_importing_symc_stays_torch_free():
    code = "import sys, symc, symc.discovery; assert 'torch' not in sys.modules; print(callable(symc.discover))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr
