"""Generated files are deterministic and guarded (docs/spec-language.md §4).

- The same spec gives byte-identical source in one process, across processes, and under any PYTHONHASHSEED,
  for a dozen specs of every domain, through the API and through `symc compile`.
- A generated image model's `forward` refuses inputs it cannot take (wrong rank, wrong channel count, smaller
  than the plan's minimum size, not floating point) with a ValueError naming the layout it expects, and takes
  every size from that minimum up. NaN inputs flow through to NaN outputs without an exception, and the tester
  reports such a model as failing rows rather than crashing.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import symc
from symc.testing import check, load_model_file

SPECS = [
    "image 1x28x28; p4; invariant output 10 classes",
    "image 3x31x31; p4m; invariant output 4; depth 3",
    "image; SE(2) discretized 8; invariant output",
    "image 2x16x16; D4; equivariant output 3; orientation output 2; equivariant output 2 fields",
    "image 1x29x29; E(2) discretized 8; invariant output 3; depth 3; width 4; kernel 5,5,3",
    "image 3x40x24; flip; invariant output 5; pooling avg; activation gelu; norm layer",
    "image; C6; orientation output 4; conv fft; target A100 batch 64; dtype bfloat16",
    "image; C3 x flip; invariant output; params 50k",
    "sequence 2x64; time reversal; invariant output 3",
    "set 10x3; permutation; invariant output 2; equivariant output 1",
    "point cloud 16x3 with 4 features; E(3); invariant output; equivariant vector output",
    "graph with 3 features 10 nodes; permutation; equivariant output 2",
    "volume 1x8x8x8; octahedral; invariant output 2",
    "image 3x15x15; p4m x hue 5; invariant output 2; orientation output 2",
]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def digests_in_a_new_process(hash_seed: str) -> dict[str, str]:
    script = textwrap.dedent("""
        import hashlib, json, sys
        import symc
        specs = json.loads(sys.argv[1])
        print(json.dumps({s: hashlib.sha256(symc.compile(s).source.encode()).hexdigest() for s in specs}))
    """)
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    result = subprocess.run([sys.executable, "-c", script, json.dumps(SPECS)], env=env, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


# ---------------------------------------------------------------- determinism

def test_same_source_every_time_in_one_process():
    for text in SPECS:
        first = symc.compile(text)
        assert symc.compile(text).source == first.source, text
        # the normal form the file records compiles to the very same file
        assert symc.compile(first.spec.normalized()).source == first.source, text


def test_same_source_across_processes_and_hash_seeds():
    expected = {text: digest(symc.compile(text).source) for text in SPECS}
    for hash_seed in ("0", "1", "4242", "random"):
        assert digests_in_a_new_process(hash_seed) == expected, hash_seed


def test_symc_compile_writes_identical_files(tmp_path):
    spec = tmp_path / "spec.sym"
    spec.write_text(SPECS[3] + "\n")
    files = []
    for hash_seed in ("3", "77"):
        out = tmp_path / f"model_{hash_seed}.py"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run([sys.executable, "-m", "symc.cli", "compile", str(spec), "-o", str(out)], env=env,
                       check=True, capture_output=True)
        files.append(out.read_bytes())
    assert files[0] == files[1] == symc.compile(SPECS[3]).source.encode()


# ---------------------------------------------------------------- guarded forward

@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A written and re-imported p4 model that down-samples twice, so its minimum size is above 1."""
    compiled = symc.compile("image 1x28x28; p4; invariant output 10; width 4")
    path = tmp_path_factory.mktemp("guard") / "model.py"
    compiled.write(path)
    torch.manual_seed(0)
    model, _ = load_model_file(path)
    assert compiled.plan.min_size == 4
    return model.eval(), compiled.plan.min_size


@pytest.mark.parametrize("x,phrase", [
    (torch.randn(28, 28), "rank 2"),
    (torch.randn(1, 28, 28), "rank 3"),
    (torch.randn(2, 1, 1, 28, 28), "rank 5"),
    (torch.randn(2, 3, 28, 28), "with 1 channels, got 3 channels"),
    (torch.randn(2, 0, 28, 28), "got 0 channels"),
    (torch.randn(2, 1, 3, 28), "height and width at least 4"),
    (torch.randn(2, 1, 28, 2), "height and width at least 4"),
    (torch.zeros(2, 1, 28, 28, dtype=torch.long), "floating-point input"),
    (torch.zeros(2, 1, 28, 28, dtype=torch.uint8), "floating-point input"),
    (torch.zeros(2, 1, 28, 28, dtype=torch.bool), "floating-point input"),
    (torch.zeros(2, 1, 28, 28, dtype=torch.complex64), "floating-point input"),
])
def test_forward_refuses_inputs_it_cannot_take_naming_the_layout(guarded, x, phrase):
    model, _ = guarded
    with pytest.raises(ValueError) as caught:
        model(x)
    assert "(B, 1, H, W)" in str(caught.value)
    assert phrase in str(caught.value)


@pytest.mark.parametrize("height,width", [(4, 4), (4, 5), (5, 4), (5, 5), (6, 7), (7, 7), (28, 28), (33, 20)])
def test_forward_takes_every_size_from_the_minimum_up(guarded, height, width):
    model, _ = guarded
    with torch.no_grad():
        assert model(torch.randn(2, 1, height, width)).shape == (2, 10)


@pytest.mark.parametrize("text", ["image; C8; invariant output 2; width 2", "image 2x9x9; D4; equivariant output 2 "
                                  "fields; orientation output 3; width 2"])
def test_other_pooling_and_outputs_take_their_minimum_size(text):
    compiled = symc.compile(text)
    model = compiled.new_module().eval()
    size = compiled.plan.min_size
    channels = compiled.spec.domain.channels
    with torch.no_grad():
        model(torch.randn(2, channels, size, size))
    if size > 1:
        with pytest.raises(ValueError, match=f"at least {size}"):
            model(torch.randn(2, channels, size - 1, size))


def spec_files():
    return sorted(Path(__file__).parent.parent.joinpath("specs").glob("*.sym"))


@pytest.mark.parametrize("path", spec_files(), ids=lambda path: path.stem)
def test_every_example_model_refuses_a_tensor_of_the_wrong_rank(path):
    compiled = symc.compile(path)
    model = compiled.new_module().eval()
    wrong = torch.randn(2, 3)
    args = (wrong, torch.zeros(2, 3)) if compiled.spec.domain.kind == "graph" else (wrong,)
    with pytest.raises(ValueError, match="expected"):
        model(*args)


def test_nan_inputs_flow_through_and_the_tester_reports_them(guarded):
    model, _ = guarded
    x = torch.randn(2, 1, 28, 28)
    x[0, 0, 3, 5] = float("nan")
    with torch.no_grad():
        y = model(x)
    assert torch.isnan(y[0]).all() and torch.isfinite(y[1]).all()   # one sample's NaN does not leak into another

    class NaNWhenMoved(torch.nn.Module):
        """The guarded model, but NaN for every input other than the first one it saw (the tester's unmoved x)."""

        def __init__(self):
            super().__init__()
            self.inner = model
            self.first = None

        def forward(self, x):
            y = self.inner(x)
            if self.first is None:
                self.first = x.clone()
            return y if torch.equal(x, self.first) else y * float("nan")

    class AlwaysNaN(torch.nn.Module):
        def forward(self, x):
            return torch.full((x.shape[0], 10), float("nan"))

    report = check(AlwaysNaN(), "image 1x28x28; p4; invariant output 10")
    assert not report.ok and "contains NaN or inf" in str(report)
    assert [row.element for row in report.rows] == ["(forward)"]
    # NaN on the moved inputs only: the rows of those elements fail with a note, the identity row passes
    report = check(NaNWhenMoved(), "image 1x28x28; p4; invariant output 10")
    assert {row.element: row.ok for row in report.rows} == {"identity": True, "rot 90": False, "rot 180": False,
                                                            "rot 270": False}
    assert all("output 0 contains NaN or inf" in row.note for row in report.rows if not row.ok)
