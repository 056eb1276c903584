"""The twin benchmark runs end to end and prints its tables (shapes only: timings are the machine's business)."""
import re
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from twin import SPECS, make_twin  # noqa: E402

import symc  # noqa: E402


def test_quick_run_prints_one_row_per_batch_and_the_compile_table():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "twin.py"), "--quick", "--only", "C4"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Machine: ") and "torch " in out and "threads" in out
    tables = [block.splitlines() for block in out.split("\n\n") if block.startswith("|")]
    assert len(tables) == 2, out
    speed, compile_times = tables
    assert len(speed) == 3 and all(line.count("|") == 12 for line in speed), out
    cells = [c.strip() for c in speed[2].split("|")[1:-1]]
    assert cells[:2] == ["C4", "8"]
    for cell in (cells[3], cells[5], cells[8]):   # eval, train and memory ratios
        assert re.fullmatch(r"\*\*\d+\.\d\d\*\*( \(over\))?( \(\d+\.\d\d\))?", cell), cell
    assert len(compile_times) == 3 and compile_times[2].startswith("| C4 |"), out
    assert "escnn rows skipped: --quick." in out


def test_twins_compute_the_same_outputs_with_plain_convolutions():
    for name, spec, _, make_inputs in SPECS:
        if name == "points":
            continue
        torch.manual_seed(0)
        model = symc.compile(spec).new_module().eval()
        twin = make_twin(model).eval()
        kinds = {type(m).__name__ for m in twin.modules()}
        assert "GroupConv" not in kinds, name
        assert kinds & {"Conv1d", "Conv2d"}, name
        x = make_inputs(2)
        with torch.no_grad():
            assert torch.allclose(model(*x), twin(*x), rtol=1e-4, atol=1e-5), name


def test_small_overhead_quick_run_prints_one_row_with_both_ratios():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "small_overhead.py"), "--quick",
                             "--threads", "1"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `image")]
    assert len(rows) == 1, result.stdout
    cells = [c.strip() for c in rows[0].split("|")[1:-1]]
    assert cells[0] == "`image 1x29x29; p4; invariant output 10 classes; widths 16,32,32,64`" and cells[1] == "16"
    for cell in (cells[4], cells[6]):
        assert re.fullmatch(r"\*\*\d+\.\d\d\*\* \(\d+\.\d\d\)", cell), cell


def test_plain_cnn_has_the_compiled_models_convolution_shapes():
    from small_overhead import plain_cnn
    model = symc.compile("image 1x29x29; p4; invariant output 10 classes; widths 8,16,16,32").module
    cnn = plain_cnn(model, 10)
    convs = [m for m in cnn if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 32), (32, 64), (64, 64), (64, 128)]
    assert cnn(torch.randn(2, 1, 29, 29)).shape == (2, 10)
