"""What every domain's tester shares: the exact tolerance, model errors, eval mode and the error measure."""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch

EXACT_TOLERANCE = 1e-4
"""Elements that act exactly on the grid or the points (right angles, mirrors, permutations): float32 round-off."""

# An output whose spread across inputs is below this fraction of its size does not depend on the input:
# equivariance would hold trivially, so it is reported as a failure instead.
CONSTANT_OUTPUT = 1e-6


class ModelError(Exception):
    """The model misbehaved (raised, wrong shape, NaN): becomes a failing row, never a crash."""


def as_spec(spec):
    """A parsed Spec from a Spec, spec text, or a Path to a .sym file."""
    if isinstance(spec, (str, Path)):
        from symc.spec import parse  # imported late: the tester only needs the parser for text

        if isinstance(spec, Path):
            if not spec.is_file():
                raise ValueError(f"symc check: spec file not found: {spec}")
            spec = spec.read_text()
        return parse(spec)
    return spec


@contextlib.contextmanager
def _eval_mode(module: torch.nn.Module):
    """Eval mode (dropout off, running norm statistics) for the check; every submodule's own mode restored after."""
    # A frozen TorchScript module has no mode at all (freezing needs eval mode): there is nothing to set.
    modes = [(submodule, submodule.training) for submodule in module.modules() if hasattr(submodule, "training")]
    if hasattr(module, "training"):
        module.eval()
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else "(no message)"


def _rms(t: torch.Tensor) -> torch.Tensor:
    return t.pow(2).mean().sqrt()


def _spec_text(spec) -> str:
    try:
        return spec.normalized()
    except ImportError:  # the normalizer is optional for the tester: fall back to the text as written
        return " ".join(spec.text.split()) or "(spec without text)"
