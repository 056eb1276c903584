"""The equivariance tester: does f(g.x) equal g.f(x) for every element g the spec claims?

It judges any `torch.nn.Module` against a spec using only `symc.groups` for the group math (never `symc.nn`:
a judge shares no code with the judged). Model failures (exceptions, wrong shapes, NaN) become failing rows.
Each domain's tester module (image.py, sequence.py, sets.py, points.py, volume.py) is reached through the domain's
'tester' hook (symc.domains).
"""
from __future__ import annotations

from copy import deepcopy
from typing import Sequence

import torch

from symc.domains import hook

from .approximate import mark_approximate
from .common import as_spec
from .report import Report


def check(module: torch.nn.Module, spec, *, sizes: Sequence | None = None, batch: int = 4, seed: int = 0,
          dtype: torch.dtype = torch.float32) -> Report:
    """Test `module` against the symmetries and outputs of `spec` (a Spec, spec text, or Path to a .sym file).

    For every size and every element g of the spec's point group (identity included: it checks the model is
    deterministic), compares f(g.x) with g.f(x) output by output, as error = RMS(f(g.x) - g.f(x)) divided by the
    RMS of f(x) about its batch mean. Exact elements (right angles, mirrors) use white noise and EXACT_TOLERANCE;
    other angles use smooth blob scenes redrawn moved by g, and APPROX_TOLERANCE (APPROX_TOLERANCE_GROUP_AXIS
    for fields and orientation outputs). Sizes: `sizes` (pairs, or ints for squares), else the spec's shape,
    else 32x32 and 33x33. Inputs are float64, cast to `dtype` for the forward. The module runs in eval mode
    under no_grad and gets its previous modes back afterwards. Translations are not tested.
    Other domains are tested by their own tester modules with exact actions (docs/spec-language.md §5).
    Hue rotations (if declared) are applied to the input's RGB vectors along with each element's spatial move.
    With `scale N`, zoom rows compare invariant outputs on blob scenes zoomed by SCALE_STEP (symc.testing.scale).
    Raises ValueError for specs the tester does not cover (equivariant outputs of scale specs, ...).
    """
    spec = as_spec(spec)
    if batch < 2:
        raise ValueError("symc check: batch must be >= 2 (the error is scaled by the spread across the batch)")
    module, precision_note = _full_precision(module, dtype)
    tester = hook(spec.domain.kind, "tester")  # each domain's tester module (symc.domains)
    report = tester(module, spec, sizes=sizes, batch=batch, seed=seed, dtype=dtype)
    return _with_note(mark_approximate(report, spec), precision_note)


def _full_precision(module: torch.nn.Module, dtype: torch.dtype):
    """A float32 copy of a 16-bit module, with a note saying so; the module itself otherwise.

    Symmetry lives in how the weights are tied, which a float32 copy keeps exactly, while bfloat16 round-off
    (about 1e-2) would swamp the exact tolerance for correct and broken models alike.
    """
    low = {p.dtype for p in module.parameters() if p.dtype in (torch.bfloat16, torch.float16)}
    if not low or dtype in low:
        return module, None
    copy = deepcopy(module).float()
    names = ", ".join(sorted(str(d).replace("torch.", "") for d in low))
    return copy, f"the module's parameters are {names}: checked as a float32 copy (same weights)"


def _with_note(report: Report, note: str | None) -> Report:
    if note:
        report.header.insert(1, note)
    return report


def assert_equivariant(module: torch.nn.Module, spec, **kwargs) -> Report:
    """`check`, raising AssertionError with the report's text when some row fails (for pytest)."""
    report = check(module, spec, **kwargs)
    if not report.ok:
        raise AssertionError("\n" + str(report))
    return report
