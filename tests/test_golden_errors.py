"""The error catalogue: bad specs and the exact message each one gets, as golden files.

Each case is a pair in tests/golden/errors: `NN-name.sym` holds the spec byte for byte (line endings included) and
`NN-name.txt` the whole `str(SpecError)` that `symc.compile` raises for it, followed by one newline. A change to any
message shows up here as a diff to review. After changing messages on purpose, rewrite the `.txt` files with

    SYMC_UPDATE_GOLDEN=1 pytest tests/test_golden_errors.py

and read the diff before committing. To add a case, add a `.sym` file and run the same command.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import symc
from symc.spec import SpecError

GOLDEN = Path(__file__).parent / "golden" / "errors"
UPDATE = os.environ.get("SYMC_UPDATE_GOLDEN") == "1"
CASES = sorted(GOLDEN.glob("*.sym"))
HEAD = re.compile(r"line (\d+), column (\d+): (.+)")


def spec_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")   # bytes: read_text would turn "\r\n" into "\n"


def message_for(path: Path) -> tuple[SpecError, str]:
    with pytest.raises(SpecError) as caught:
        symc.compile(spec_text(path))
    return caught.value, str(caught.value) + "\n"


@pytest.fixture(autouse=True, scope="module")
def cpu_target_without_probe():
    """No case names `target cpu`, but one that did must not measure the machine in the middle of the suite."""
    from symc.plan import hardware
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hardware, "calibrated_cpu", lambda: hardware.GENERIC_CPU)
        yield


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_message_matches_the_golden_file(path):
    golden = path.with_suffix(".txt")
    _, message = message_for(path)
    if UPDATE:
        golden.write_bytes(message.encode("utf-8"))
        return
    assert golden.exists(), f"no {golden.name}: run SYMC_UPDATE_GOLDEN=1 pytest {Path(__file__).name}"
    assert message == golden.read_bytes().decode("utf-8")


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_message_shows_the_line_and_a_caret_at_the_problem(path):
    """Every message: where (line, column), what (plain words), the line itself, a caret under the column."""
    error, message = message_for(path)
    lines = message.rstrip("\n").split("\n")
    head = HEAD.fullmatch(lines[0])
    assert head, lines[0]
    assert (int(head.group(1)), int(head.group(2))) == (error.line, error.column)
    source = spec_text(path).split("\n")[error.line - 1].rstrip("\r")
    assert lines[1] == "    " + source.replace("\t", " ")
    assert lines[2] == "    " + " " * (error.column - 1) + "^"
    assert error.column <= len(source) + 1
    assert len(lines) == 3 + (error.suggestion is not None)
    if error.suggestion:
        assert lines[3] == f"did you mean '{error.suggestion}'?"


def test_the_catalogue_covers_the_kinds_of_mistake():
    assert len(CASES) >= 40
    stems = " ".join(path.stem for path in CASES)
    for kind in ("misspelled", "incomplete", "missing-domain", "two-", "contradiction", "given-twice", "not-lowered",
                 "too-large", "on-image", "on-non-square"):
        assert kind in stems, kind
    messages = {path.stem: message_for(path)[0] for path in CASES}
    # near misses get a suggestion; contradictions name both clauses; refusals say what is supported instead
    assert all(messages[stem].suggestion for stem in stems.split() if "misspelled" in stem)
    for stem in ("two-rotation-groups", "dihedral-and-flip", "translation-contradiction", "two-invariant-outputs",
                 "width-and-widths", "depth-disagrees-with-widths", "params-and-width", "no-translation-with-se3"):
        error = next(error for name, error in messages.items() if name.endswith(stem))
        assert len(re.findall(r"'[^']+'", error.message)) >= 2 and "line " in error.message, error.message
    for stem in ("hue-group-too-large", "scale-not-lowered", "backbone-on-image", "boundary-on-image", "group-too-large",
                 "depth-too-large"):
        error = next(error for name, error in messages.items() if name.endswith(stem))
        assert "supported:" in error.message, error.message
