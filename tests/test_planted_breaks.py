"""The tester does not lie: subtle symmetry breaks planted in real generated files are caught by `symc check`.

Each case compiles a spec with symc, edits the text of the generated file the way a bug would (one filter copy not
rotated, a padding off by one, an absolute-position bias, a pooling window that is not symmetric, a wrong row of the
group table, ...), writes it to a temporary folder and runs `symc check` on it: the real pipeline from file to
report. Every break must end in exit code 1 with a failing row that names a group element. The unedited file is
checked first and must pass, so the failure comes from the break and not from the setup. A seed is set at the top
of every file, so each run builds the same weights.

Models that raise, return the wrong shape or return NaN are reported as failing rows, never as a crash.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

import symc
from symc.cli import main

P4 = "image 1x29x29; p4; invariant output 3; depth 3; width 4"     # odd size: down-samples with padded windows
P4M = "image 2x17x17; p4m; equivariant output 2 fields; orientation output 2; depth 2; width 3"
C8 = "image 1x25x25; C8; equivariant output 2 fields; depth 2; width 4"   # 45-degree rows are approximate
SEED = "import torch\ntorch.manual_seed(0)  # planted-break tests: the same weights every run\n"


def table_row(source: str, element: int) -> str:
    """The text of row `element` of the GROUP_TABLE literal."""
    table = source[source.index("GROUP_TABLE = (\n"):]
    return table.split("\n")[1 + element] + "\n"


def swap_first_two(row: str) -> str:
    a, b, rest = re.fullmatch(r"    \((\d+), (\d+), (.*)\n", row).groups()
    return f"    ({b}, {a}, {rest}\n"


# Where every filter copy reads its taps: the exact index moves of GROUP_MOVES, one row per element.
PIXELS = ("        pixels = torch.stack([move_filters(grid, m[0], m[1]).reshape(-1) for m in moves])"
          "        # (order, taps)\n")

# name -> (spec, [(text in the generated file, what the bug writes instead)], elements that must fail)
BREAKS = {
    # The lifting layer's copy for element 1 (rot 90) is the unrotated base filter.
    "lift filter for rot 90 not rotated": (P4, [(
        "        regular = torch.cat([lifted.reshape(order, -1), grouped.reshape(order, -1)], dim=1)\n",
        "        regular = torch.cat([lifted.reshape(order, -1), grouped.reshape(order, -1)], dim=1)\n"
        "        if ri == 0:\n"
        "            regular[1] = regular[0]\n")], "rot 90"),
    # A group convolution moves the filter along the group axis for element 3 but forgets the spatial turn.
    "group conv filter for rot 270 not rotated": (P4, [(
        PIXELS, PIXELS + "        if ri > 0:\n            pixels[3] = torch.arange(taps)\n")], "rot"),
    # The 5x5 lifting conv pads one column more on the left than on the right: every map shifts by one pixel.
    "padding off by one in one conv": (P4, [(
        "        return conv_nd(x, bank, bias, padding)\n",
        "        if self.kernel_size == 5:\n"
        "            p = self.kernel_size // 2\n"
        "            return F.conv2d(F.pad(x, (p + 1, p - 1, p, p)), bank, bias)\n"
        "        return conv_nd(x, bank, bias, padding)\n")], "rot"),
    # A faint left-to-right ramp (a thousandth of the input's scale) added to the input: positions leak in.
    "absolute-position bias": (P4, [(
        "        features = self.features(x)\n",
        "        features = self.features(x + 1e-3 * torch.linspace(0, 1, x.shape[-1]))\n")], "rot"),
    # torch's plain 2x2 max pooling: on the odd 29x29 maps the last row and column are dropped, off-centre.
    "plain 2x2 pooling on an odd size": (P4, [(
        "                return F.max_pool2d(x, kernel, 2, padding)\n",
        "                return F.max_pool2d(x, 2, 2)\n")], "rot"),
    # Row 1 of the group table with two entries swapped: rot 90 reads the wrong slice of the group axis.
    "wrong group table row": (P4, [(lambda source: table_row(source, 1), swap_first_two)], "rot"),
    # A mirror element's copy is rotated but not mirrored: element 5 (flip then rot 90) uses rot 90's positions.
    "mirror skipped for one element": (P4M, [(
        PIXELS, PIXELS + "        pixels[5] = pixels[1]\n")], "flip"),
    # The group table row of the first mirror element, wrong: fields and orientation scores permute wrongly.
    "wrong group table row of a mirror": (P4M, [(lambda source: table_row(source, 4), swap_first_two)], "flip"),
    # Steered copies turned by the remaining angle the wrong way: 45-degree rows fail, right angles still pass.
    "steered copies turned the wrong way": (C8, [(
        "        angles = [float(m[2]) if len(m) > 2 else 0.0 for m in moves]\n",
        "        angles = [-float(m[2]) if len(m) > 2 else 0.0 for m in moves]\n")], "rot 45"),
}


def planted(source: str, edits) -> str:
    for old, new in edits:
        if callable(old):   # a part found in the source, and its edit
            old = old(source)
            new = new(old)
        assert source.count(old) == 1, f"the generated file changed: {old!r} is not in it once"
        source = source.replace(old, new)
    return source.replace("import torch\n", SEED, 1)


def symc_check(path, capsys) -> tuple[int, str, list[list[str]]]:
    """Exit code, report text, and the report's failing rows split into columns."""
    code = main(["check", str(path)])
    out = capsys.readouterr().out
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()
            if re.match(r"\d+x\d+\s", line)]
    return code, out, [row for row in rows if row[6:7] == ["FAIL"]]


@pytest.fixture(scope="module")
def sources():
    return {spec: symc.compile(spec).source for spec in (P4, P4M, C8)}


@pytest.mark.parametrize("spec", [P4, P4M, C8])
def test_the_unedited_files_pass(tmp_path, capsys, sources, spec):
    path = tmp_path / "model.py"
    path.write_text(planted(sources[spec], []))
    code, out, failing = symc_check(path, capsys)
    assert code == 0 and not failing, out


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_symc_check_catches_the_planted_break(tmp_path, capsys, sources, name):
    spec, edits, element = BREAKS[name]
    path = tmp_path / "model.py"
    path.write_text(planted(sources[spec], edits))
    code, out, failing = symc_check(path, capsys)
    assert code == 1, out
    assert out.rstrip().splitlines()[-1].startswith("FAIL")
    named = [row for row in failing if row[1] != "(forward)" and row[1] != "identity"]
    assert named, out
    assert any(row[1].startswith(element) for row in named), out
    assert all(row[1] != "identity" for row in failing), out   # the model is still deterministic


def test_right_angles_still_pass_when_only_the_steering_is_wrong(tmp_path, capsys, sources):
    spec, edits, _ = BREAKS["steered copies turned the wrong way"]
    path = tmp_path / "model.py"
    path.write_text(planted(sources[spec], edits))
    _, out, failing = symc_check(path, capsys)
    assert {row[1] for row in failing} <= {"rot 45", "rot 135", "rot 225", "rot 315"}, out


# ---------------------------------------------------------------- models that misbehave: rows, not crashes

MISBEHAVIOURS = {
    "returns the wrong shape": ("        return self.head(features)\n",
                                "        return self.head(features)[:, :-1]\n",
                                "has shape (4, 2), expected (4, 3)"),
    "raises on some inputs": ("        features = self.features(x)\n",
                              "        self.calls = getattr(self, 'calls', 0) + 1\n"
                              "        if self.calls == 3:\n"
                              "            raise RuntimeError('planted failure')\n"
                              "        features = self.features(x)\n",
                              "forward raised RuntimeError: planted failure"),
    "raises always": ("        features = self.features(x)\n",
                      "        raise RuntimeError('planted failure')\n",
                      "forward raised RuntimeError: planted failure"),
    "returns NaN for moved inputs": ("        return self.head(features)\n",
                                     "        self.calls = getattr(self, 'calls', 0) + 1\n"
                                     "        return self.head(features) * (1.0 if self.calls <= 2 else float('nan'))\n",
                                     "contains NaN or inf"),
    "returns a tuple of the wrong length": ("        return self.head(features)\n",
                                            "        return self.head(features), self.head(features)\n",
                                            "forward returned 2 outputs, the spec lists 1"),
    "returns something else": ("        return self.head(features)\n",
                               "        return 'not a tensor'\n",
                               "output 0 is a str, not a tensor"),
}


@pytest.mark.parametrize("name", sorted(MISBEHAVIOURS))
def test_misbehaving_models_are_reported_not_crashed(tmp_path, capsys, sources, name):
    old, new, note = MISBEHAVIOURS[name]
    path = tmp_path / "model.py"
    path.write_text(planted(sources[P4], [(old, new)]))
    code, out, failing = symc_check(path, capsys)
    assert code == 1, out
    assert failing and all(note in " ".join(row[7:]) for row in failing), out
    assert "Traceback" not in out


def test_a_planted_break_fails_through_the_real_program(tmp_path, sources):
    spec, edits, _ = BREAKS["plain 2x2 pooling on an odd size"]
    path = tmp_path / "model.py"
    path.write_text(planted(sources[spec], edits))
    result = subprocess.run([sys.executable, "-m", "symc.cli", "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"29x29\s+rot 90\s+0\s+\S+\s+0.0001\s+exact\s+FAIL", result.stdout), result.stdout
