"""The command line of docs/spec-language.md §2: outputs, exit codes, and nothing written on error."""
import json
import subprocess
import sys
import textwrap

import pytest

from symc.cli import main

MODEL_HEADER = textwrap.dedent("""
    import torch
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.conv = torch.nn.Conv2d(1, 8, 3, padding=1)
            self.head = torch.nn.Linear(8, 3)
            self.bias = torch.nn.Parameter(torch.linspace(0, 1, 20).repeat(20, 1))
        def features(self, x):
            return self.head(torch.relu(self.conv(x)).mean(dim=(-2, -1)))
""")
ROTATION_AVERAGE = "sum(self.features(torch.rot90(x, k, (-2, -1))) for k in range(4)) / 4"

BAD_MODELS = {
    # A plain CNN is translation-equivariant only: claimed as p4 it must fail on the 90-degree rows.
    "plain_cnn_as_p4": ("image 1x20x20; p4; invariant output 3", "self.features(x)"),
    # Averaging over the four rotations makes a C4-invariant model, which is not mirror-invariant.
    "c4_model_as_d4": ("image 1x20x20; D4; invariant output 3", ROTATION_AVERAGE),
    # A symmetrized model fed the input plus a fixed bias that depends on absolute position.
    "position_bias_as_p4": ("image 1x20x20; p4; invariant output 3", ROTATION_AVERAGE.replace("(x,", "(x + self.bias,")),
}


def model_source(forward: str) -> str:
    return MODEL_HEADER + f"    def forward(self, x):\n        return {forward}\n"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "symc.cli", *args], input=stdin, capture_output=True, text=True)


@pytest.mark.parametrize("spec,size", [
    ("image 1x28x28; p4; invariant output 10", None),
    ("image 3x31x31; p4m; invariant output 4; depth 3", None),
    ("image 2x16x16; D4; invariant output 2; depth 3", None),
    ("image; C8; invariant output 2; depth 3", "25x25"),
    ("image 1x29x29; E(2) discretized 8; invariant output 3; depth 3; width 8", None),
])
def test_compile_then_check_passes(tmp_path, spec, size):
    path = tmp_path / "model.py"
    spec_file = tmp_path / "spec.sym"
    spec_file.write_text(spec + "\n")
    result = run("compile", str(spec_file), "-o", str(path))
    assert result.returncode == 0, result.stderr
    assert f"wrote {path}" in result.stderr
    args = ["check", str(path)] + (["--size", size, "--size", "26x26"] if size else [])
    checked = run(*args)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith("PASS")
    assert "rot 90" in checked.stdout


@pytest.mark.parametrize("name", sorted(BAD_MODELS))
def test_check_fails_with_exit_1_on_bad_models(tmp_path, name):
    spec, forward = BAD_MODELS[name]
    path = tmp_path / f"{name}.py"
    path.write_text(model_source(forward))
    result = run("check", str(path), "--spec", spec)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout
    failing = [line for line in result.stdout.splitlines() if line.rstrip().endswith("FAIL") or " FAIL " in line]
    assert failing, result.stdout
    if name == "c4_model_as_d4":
        assert all("flip" in line for line in failing if "x20" in line), result.stdout


def test_check_with_class_option_and_spec_file(tmp_path):
    _, forward = BAD_MODELS["c4_model_as_d4"]
    (tmp_path / "m.py").write_text(model_source(forward).replace("class Model", "class Rotations"))
    (tmp_path / "c4.sym").write_text("image 1x20x20; p4; invariant output 3\n")
    result = run("check", str(tmp_path / "m.py"), "--spec", str(tmp_path / "c4.sym"), "--class", "Rotations")
    assert result.returncode == 0, result.stdout + result.stderr
    missing = run("check", str(tmp_path / "m.py"), "--spec", "image; p4; invariant output 3")
    assert missing.returncode == 2 and "Model" in missing.stderr


BAD_SPECS = [
    ("", "empty"),
    ("imgae 1x28x28; p4; invariant output", "line 1, column 1"),
    ("image 1x28x28; p4; invarient output", "line 1, column 20"),
    ("image 1x28x28\np4\ndepth 3\ndepth 4", "line 4, column 1"),
    ("image 1x28x28; rotation 0; invariant output", "line 1, column 25"),
    ("image 1x28x28; hue 3; invariant output", "line 1, column 16"),
    ("image 1x28x28; octahedral; invariant output", "line 1, column 16"),
    ("image 1x28x30; p4; invariant output", "line 1, column 16"),
    ("image; p4; invariant output 2; invariant output 3", "line 1, column 32"),
    ("image; p4; invariant output; kernel 4", "line 1, column 30"),
    ("p4; image; invariant output", "line 1, column 5"),
    ("image; p4; width 8; widths 8,16", "line 1, column 21"),
    ("image\n\n  p4;; blah", "line 3, column 8"),
    ("image 3x32x32; D16 x hue 6; invariant output", "line 1, column 22"),
    ("image 3x32x32; scale 2; equivariant output", "line 1, column 25"),
    ("image 3x32x32; p4; invariant output; invariant fraction 1.5", "line 1, column 38"),
    ("image 3x32x32; p4; invariant output; position encoding radial", "line 1, column 38"),
    ("image; p4; invariant output; backbone attention", "line 1, column 30"),
    ("image; p4; equivariant vector output", "line 1, column 12"),
    ("image; translation; orientation output", "line 1, column"),
]


@pytest.mark.parametrize("text,phrase", BAD_SPECS)
def test_bad_specs_exit_2_write_nothing_and_point_at_the_problem(tmp_path, text, phrase):
    spec_file = tmp_path / "bad.sym"
    spec_file.write_text(text)
    out = tmp_path / "model.py"
    result = run("compile", str(spec_file), "-o", str(out))
    assert result.returncode == 2
    assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [spec_file], "no temporary file may be left behind"


def test_existing_output_is_left_untouched_on_error(tmp_path):
    out = tmp_path / "model.py"
    out.write_text("previous content\n")
    result = run("compile", "-", "-o", str(out), stdin="image; p4; depht 3")
    assert result.returncode == 2
    assert "did you mean 'depth'?" in result.stderr
    assert out.read_text() == "previous content\n"


@pytest.mark.parametrize("args,phrase", [
    (["compile", "missing.sym", "-o", "m.py"], "does not exist"),
    (["compile", ".", "-o", "m.py"], "is a directory"),
    (["compile", "spec.sym", "-o", "no/such/dir/m.py"], "does not exist"),
    (["compile", "binary.sym"], "binary"),
    (["check", "missing.py"], "does not exist"),
    (["check", "notpython.py"], "notpython.py"),
    (["frobnicate"], "invalid choice"),
    ([], "usage"),
])
def test_bad_files_and_usage_exit_2(tmp_path, args, phrase):
    (tmp_path / "spec.sym").write_text("image; p4; invariant output\n")
    (tmp_path / "binary.sym").write_bytes(b"image\x00\x01\x02")
    (tmp_path / "notpython.py").write_text("this is not python (\n")
    result = subprocess.run([sys.executable, "-m", "symc.cli", *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_plan_prints_layers_with_reasons_and_json(tmp_path):
    result = run("plan", "-", stdin="image 1x28x28; p4; invariant output 10 classes")
    assert result.returncode == 0
    for word in ("lift", "group_conv", "norm", "downsample", "group_pool", "global_pool", "head", "params",
                 "FLOPs", "reason", "spectrum"):
        assert word in result.stdout, word
    data = json.loads(run("plan", "-", "--format", "json", stdin="image 1x28x28; p4; invariant output 10").stdout)
    assert data["totals"]["params"] == sum(layer["params"] for layer in data["layers"]) > 100_000
    assert f"total:     {data['totals']['params']:,} parameters" in result.stdout
    assert data["group"] == "C4" and data["order"] == 4
    assert all(layer["reason"] for layer in data["layers"] if layer["op"] != "output")


def test_compile_to_stdout_and_help():
    result = run("compile", "-", stdin="image; flip; invariant output")
    assert result.returncode == 0
    assert result.stdout.startswith("# Generated by symc")
    for command in ("compile", "plan", "check"):
        helped = run(command, "--help")
        assert helped.returncode == 0 and "usage: symc " + command in helped.stdout


def test_main_returns_codes_in_process(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "none.sym")]) == 2
    assert "does not exist" in capsys.readouterr().err
