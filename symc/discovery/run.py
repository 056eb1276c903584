"""`discover(x, y, domain=...)`: measure which candidate actions the labels respect and suggest a spec.

Torch is imported when it runs, never when symc or symc.discovery is imported.
"""
from __future__ import annotations

import sys
import time

from .data import Data, prepare
from .report import Discovery, Finding, ProgressBar
from .verdict import BROKEN, RESPECTED, UNCLEAR, judge, suggest_spec

DEFAULT_STEPS = 2000
DEFAULT_MAX_SAMPLES = 4000
DEFAULT_TIME_LIMIT = 600.0
TEST_FRACTION = 0.25


def discover(x, y, domain: str, *, seed: int = 0, steps: int = DEFAULT_STEPS, max_samples: int = DEFAULT_MAX_SAMPLES,
             time_limit: float | None = DEFAULT_TIME_LIMIT, candidates: list[str] | None = None,
             progress: bool = True, stream=None) -> Discovery:
    """Which candidate actions of `domain` ('image', 'sequence', 'set', 'point cloud') the labels y of inputs x
    respect. y holds integer classes (N,) or float targets (N,) / (N, K). A plain model is trained on a seeded
    training split as is and once per candidate with the candidate as random augmentation (`steps` batches each);
    held-out scores decide. Deterministic for a fixed seed unless the time limit (seconds) cuts a training short:
    candidates it leaves untrained are 'unclear'. `candidates` keeps only the named ones."""
    data = x if isinstance(x, Data) else prepare(x, y, domain)
    return _run(data, seed=seed, steps=steps, max_samples=max_samples, time_limit=time_limit, only=candidates,
                bar_stream=(stream or sys.stderr) if progress else None)


def _run(data: Data, **options) -> Discovery:
    import torch

    threads = torch.get_num_threads()
    # Models this small run fastest on one thread (two threads measured 12x slower on a busy 2-core machine),
    # and one thread keeps the sums in one order.
    torch.set_num_threads(1)
    try:
        return _measure(data, **options)
    finally:
        torch.set_num_threads(threads)


def _measure(data: Data, *, seed, steps, max_samples, time_limit, only, bar_stream) -> Discovery:
    import torch

    from . import measure
    from .candidates import candidates_for

    if steps < 1 or max_samples < 2:
        raise ValueError("discover needs steps >= 1 and max_samples >= 2")
    start = time.monotonic()
    deadline = None if time_limit is None else start + time_limit
    generator = torch.Generator().manual_seed(seed)
    found, skipped = candidates_for(data, generator)
    if only is not None:
        unknown = sorted(set(only) - {c.name for c in found})
        if unknown:
            raise ValueError(f"no candidate {', '.join(map(repr, unknown))} for {data.domain} data; candidates: "
                             f"{', '.join(c.name for c in found)}")
        found = [c for c in found if c.name in only]
    split = measure.split(data, max_samples, TEST_FRACTION, generator)
    metric = "accuracy" if data.classes else "R^2"
    bar = ProgressBar((1 + len(found)) * steps, "discover", bar_stream) if bar_stream is not None else None

    def step(note):
        return (lambda: bar.update(1, note)) if bar else None

    plain = measure.train(split, data.domain, steps, seed, on_step=step("plain model"))
    plain_prediction = measure.predict(plain, split.x_test)
    plain_score = measure.score(plain_prediction, split.y_test, split.classes)
    plain_errors = measure.sample_errors(plain_prediction, split.y_test, split.classes)
    chance = measure.chance(split)
    probe = torch.Generator().manual_seed(seed + 2)
    findings = []
    for candidate in found:
        agreement = measure.agreement(plain, split.x_test, candidate, probe, split.classes)
        try:
            model = measure.train(split, data.domain, steps, seed, candidate, deadline, step(candidate.name))
        except measure.TimeLimitReached:
            findings.append(Finding(candidate.name, candidate.action, UNCLEAR, plain_score, agreement=agreement,
                                    note=f"not measured: the time limit ({time_limit:g} s) was reached"))
            if bar:
                bar.update(steps)
            continue
        prediction = measure.predict(model, split.x_test)
        augmented = measure.score(prediction, split.y_test, split.classes)
        ratio, z = measure.paired_comparison(plain_errors,
                                             measure.sample_errors(prediction, split.y_test, split.classes))
        verdict, kept = judge(plain_score, augmented, chance, ratio, z, agreement)
        findings.append(Finding(candidate.name, candidate.action, verdict, plain_score, augmented, kept, agreement,
                                ratio, z))
    if bar:
        bar.close()
    verdicts = {f.candidate: f.verdict for f in findings}
    spec, notes = suggest_spec(data.domain, data.shape, data.classes, data.targets, verdicts)
    _verify(spec)
    header = [f"{data.domain} data {tuple(data.x.shape)}, "
              f"{_labels(data)}; "
              f"{len(split.x_train)} samples to train, {len(split.x_test)} held out; {steps} steps per model; "
              f"seed {seed}; {time.monotonic() - start:.0f} s",
              "respected: imposing it keeps >= 90% of the plain model's skill above chance at no clear cost, and "
              "the plain model relates g.x to x (>= 0.25; 0 unrelated, 1 alike); "
              "broken: it keeps < 75%, or a clear cost (>= 3% of the skill, >= 3 standard errors) multiplies "
              "the error by >= 1.4 and costs >= 0.04"]
    notes = [f"not tested: {line}" for line in skipped] + notes
    return Discovery(data.domain, findings, spec, metric, chance, header, notes)


def _labels(data: Data) -> str:
    return f"{data.classes} classes" if data.classes else f"{data.targets} float target{'s' * (data.targets > 1)}"


def _verify(spec: str) -> None:
    """The suggestion must compile: a spec that does not is a bug here, never the user's problem."""
    from symc.api import compile as compile_spec
    compile_spec(spec)


__all__ = ["discover", "RESPECTED", "BROKEN", "UNCLEAR"]
