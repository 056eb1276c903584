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


def shrinks_grid(spec) -> bool:
    """The spec's convolutions pad less than kernel // 2 (`padding` hint): spatial outputs may be smaller."""
    return spec.hints.padding not in (None, "same")


def accepted_shape(expected: tuple[int, ...], actual: tuple[int, ...], grid_dims: int, shrinks: bool) -> bool:
    """`actual` is `expected`, or (when the grid shrinks) the same with every one of the last `grid_dims` axes
    cropped by one even amount: a crop centred on the input's centre, which the grid's moves keep."""
    if actual == expected:
        return True
    if not shrinks or len(actual) != len(expected) or actual[:-grid_dims] != expected[:-grid_dims]:
        return False
    crops = {e - a for e, a in zip(expected[-grid_dims:], actual[-grid_dims:])}
    crop = crops.pop() if len(crops) == 1 else -1
    return crop > 0 and crop % 2 == 0 and min(actual[-grid_dims:]) >= 1


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
