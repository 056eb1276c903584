"""The tester for sequences, sets, graphs, point clouds and volumes: one row per (size, group action, output).

Each domain module (sequence.py, sets.py, points.py, volume.py) says what to test: the sizes, random inputs, the
group actions to apply to the inputs (docs/spec-language.md §5) and how each output must move. This module runs the model,
validates its outputs and measures every row with the image tester's error: RMS(f(g.x) - g.f(x)) divided by the
spread of f(x) across the batch. Every action here is exact, judged at float32 round-off (EXACT_TOLERANCE).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from .common import (CONSTANT_OUTPUT, EXACT_TOLERANCE, ModelError, _eval_mode, _first_line, _rms, _spec_text,
                     accepted_shape, shrinks_grid)
from .report import Report, Row
from .scale import SCALE_TOLERANCE

Inputs = tuple  # the model's positional inputs, float64


@dataclass(frozen=True)
class Move:
    """One group action: `inputs` moves the model's inputs; `output(kind, y)` moves an output of that kind."""

    name: str
    inputs: Callable[[Inputs], Inputs]
    output: Callable[[str, torch.Tensor], torch.Tensor]


class DomainTester:
    """What a domain module provides (see sequence.py for an example)."""

    def sizes(self, sizes: Sequence | None) -> list[tuple[int, ...]]:
        raise NotImplementedError

    def inputs(self, size: tuple[int, ...], batch: int, generator: torch.Generator) -> Inputs:
        raise NotImplementedError

    def moves(self, size: tuple[int, ...], generator: torch.Generator) -> list[Move]:
        raise NotImplementedError

    def expected_shape(self, kind: str, k: int, inputs: Inputs) -> tuple[int, ...]:
        raise NotImplementedError

    def header(self) -> list[str]:
        raise NotImplementedError

    def zooms(self, size: tuple[int, ...], batch: int, generator: torch.Generator) -> list[tuple[str, Inputs, Inputs]]:
        """Approximate moves (name, smooth inputs, the same inputs zoomed), compared on invariant outputs with
        `zoom_tolerance`; none unless the domain declares scales."""
        return []

    zoom_tolerance = SCALE_TOLERANCE


def tester_check(tester_class) -> Callable:
    """The 'tester' hook of a domain whose moves `tester_class` (a DomainTester) lists."""
    def check_domain(module: torch.nn.Module, spec, *, sizes: Sequence | None, batch: int, seed: int,
                     dtype: torch.dtype) -> Report:
        if not spec.outputs:
            raise ValueError("symc check: the spec lists no outputs")
        return run_tester(tester_class(spec), module, spec, sizes=sizes, batch=batch, seed=seed, dtype=dtype)
    return check_domain


def run_tester(tester: DomainTester, module: torch.nn.Module, spec, *, sizes: Sequence | None, batch: int,
               seed: int, dtype: torch.dtype) -> Report:
    sizes = tester.sizes(sizes)
    runner = _Runner(module, spec, tester, dtype)
    rows = []
    with _eval_mode(module), torch.no_grad():
        for index, size in enumerate(sizes):
            generator = torch.Generator().manual_seed(seed + index)
            rows += _check_size(runner, tester, size, batch, generator)
            rows += _check_zooms(runner, tester, size, batch, generator)
    size_text = ", ".join("x".join(str(s) for s in size) for size in sizes)
    outputs = ", ".join(f"{k}: {output.kind} {output.size}" for k, output in enumerate(spec.outputs))
    header = [f"symc check: {_spec_text(spec)}",
              f"sizes {size_text}; batch {batch}; seed {seed}; {str(dtype).replace('torch.', '')}; eval mode",
              f"outputs {outputs}",
              "error = RMS(f(g.x) - g.f(x)) / RMS(f(x) - its mean over the batch)",
              f"exact actions: white-noise inputs, tolerance {EXACT_TOLERANCE:g}"
              if any(not row.exact for row in rows) else
              f"every action below is exact: white-noise inputs, tolerance {EXACT_TOLERANCE:g}"]
    return Report(rows, header=header + tester.header() + [""])


class _Runner:
    """The module under test, called in its dtype/device, outputs validated and returned in float64."""

    def __init__(self, module: torch.nn.Module, spec, tester: DomainTester, dtype: torch.dtype):
        self.module, self.tester, self.dtype = module, tester, dtype
        self.outputs = spec.outputs
        self.shrinks = shrinks_grid(spec)  # grid domains: spatial outputs may be centred crops
        tensors = list(module.parameters()) + list(module.buffers())
        self.device = tensors[0].device if tensors else torch.device("cpu")

    def __call__(self, inputs: Inputs) -> tuple[torch.Tensor, ...]:
        # floating inputs in the dtype under test; indices (batch vectors, edge lists) keep their integer type
        moved = tuple(t if t is None else t.to(device=self.device, dtype=self.dtype) if t.is_floating_point() else
                      t.to(self.device) for t in inputs)  # None: an optional input left out
        try:
            result = self.module(*moved)
        except (Exception, SystemExit) as error:  # a model bug is a finding to report, not a crash
            raise ModelError(f"forward raised {type(error).__name__}: {_first_line(error)}") from error
        outputs = result if isinstance(result, (tuple, list)) else (result,)
        if len(outputs) != len(self.outputs):
            raise ModelError(f"forward returned {len(outputs)} outputs, the spec lists {len(self.outputs)}")
        checked = []
        for index, (y, output) in enumerate(zip(outputs, self.outputs)):
            if not isinstance(y, torch.Tensor):
                raise ModelError(f"output {index} is a {type(y).__name__}, not a tensor")
            expected = self.tester.expected_shape(output.kind, output.size, inputs)
            if not accepted_shape(expected, tuple(y.shape), inputs[0].dim() - 2, self.shrinks):
                raise ModelError(f"output {index} ({output.kind}) has shape {tuple(y.shape)}, expected {expected}")
            y = y.detach().to(device="cpu", dtype=torch.float64)
            if not torch.isfinite(y).all():
                raise ModelError(f"output {index} contains NaN or inf")
            checked.append(y)
        return tuple(checked)


def _check_size(runner: _Runner, tester: DomainTester, size, batch: int, generator: torch.Generator) -> list[Row]:
    def row(element: str, output: int | None, error: float, note: str = "") -> Row:
        return Row(size, element, output, error, EXACT_TOLERANCE, True, error <= EXACT_TOLERANCE, note)

    x = tester.inputs(size, batch, generator)
    try:
        y = runner(x)
    except ModelError as error:
        return [row("(forward)", None, float("nan"), str(error))]
    scales = [_spread(y_k) for y_k in y]
    rows = []
    for move in tester.moves(size, generator):
        try:
            y_g = runner(move.inputs(x))
        except ModelError as error:
            rows.append(row(move.name, None, float("nan"), str(error)))
            continue
        for k, output in enumerate(runner.outputs):
            if scales[k] is None:
                rows.append(row(move.name, k, float("nan"), "output does not vary with the input: nothing to compare"))
                continue
            expected = move.output(output.kind, y[k])
            rows.append(row(move.name, k, float(_rms(y_g[k] - expected) / scales[k])))
    return rows


def _check_zooms(runner: _Runner, tester: DomainTester, size, batch: int, generator: torch.Generator) -> list[Row]:
    """Rows comparing invariant outputs on smooth inputs and on the same inputs zoomed (approximate moves)."""
    def row(element: str, output: int | None, error: float, note: str = "") -> Row:
        return Row(size, element, output, error, tolerance, False, error <= tolerance, note)

    tolerance = tester.zoom_tolerance
    rows = []
    for name, x, zoomed in tester.zooms(size, batch, generator):
        try:
            y, y_g = runner(x), runner(zoomed)
        except ModelError as error:
            rows.append(row(name, None, float("nan"), f"on smooth inputs: {error}"))
            continue
        for k, output in enumerate(runner.outputs):
            if output.kind != "invariant":
                continue
            scale = _spread(y[k])
            if scale is None:
                rows.append(row(name, k, float("nan"), "output does not vary with the input: nothing to compare"))
                continue
            rows.append(row(name, k, float(_rms(y_g[k] - y[k]) / scale)))
    return rows


def _spread(y: torch.Tensor) -> float | None:
    """RMS of y about its batch mean; None when the output does not vary with the input."""
    spread = _rms(y - y.mean(dim=0, keepdim=True))
    return float(spread) if spread > CONSTANT_OUTPUT * _rms(y) else None


def parse_sizes(sizes: Sequence | None, default: list[tuple[int, ...]], rank: int, what: str) -> list[tuple[int, ...]]:
    """Sizes as given (ints mean (n,) or cubes), else the default; each a tuple of `rank` positive ints."""
    if sizes is None:
        return default
    result = [(size,) * rank if isinstance(size, int) else tuple(size) for size in sizes]
    if not result or any(len(size) != rank or min(size) < 1 for size in result):
        raise ValueError(f"symc check: sizes must be {what} of positive ints, got {sizes!r}")
    return result


def permutation_moves(count: int, generator: torch.Generator, apply: Callable[[torch.Tensor, Inputs], Inputs],
                      per_element: tuple[str, ...], how_many: int = 3) -> list[Move]:
    """The reversal of the N axis and `how_many` random permutations; `apply(p, inputs)` permutes the inputs.
    Outputs of the kinds in `per_element` are permuted along their N axis (dim 1), the others stay."""
    perms = [("reverse order", torch.arange(count - 1, -1, -1))]
    perms += [(f"permutation {i + 1}", torch.randperm(count, generator=generator)) for i in range(how_many)]

    def output(p):
        return lambda kind, y: y[:, p] if kind in per_element else y

    return [Move(name, (lambda x, p=p: apply(p, x)), output(p)) for name, p in perms]


def identity_move() -> Move:
    return Move("identity", lambda x: x, lambda kind, y: y)
