"""Autotune: measure each distinct convolution shape's candidate algorithms here and keep the fastest.

Candidates are direct convolution (contiguous, and channels_last for 2D) and FFT convolution, timed forward plus
backward at the plan's batch. Results are cached per device and shape in the user's cache directory
(`$SYMC_CACHE_DIR`, default ~/.cache/symc/autotune.json), so a shape is measured once per machine.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys

from .cost import ConvShape
from .hardware import cache_dir
from .plan import Plan, conv_shape

CANDIDATES = ("direct", "direct channels_last", "fft")


def device_key() -> str:
    import torch
    return (f"cpu:{platform.machine()}:{platform.processor() or 'unknown'}:{os.cpu_count()}cores:"
            f"{torch.get_num_threads()}threads:torch{torch.__version__}")


def _load_cache(path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _save_cache(path, cache: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(cache, indent=1, sort_keys=True))
    os.replace(temporary, path)


def _progress(done: int, total: int, label: str, stream) -> None:
    width = 24
    filled = width * done // max(total, 1)
    stream.write(f"\rautotune [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<48}")
    if done == total:
        stream.write("\n")
    stream.flush()


def measure_shape(shape: ConvShape, candidate: str) -> float:
    from .probe import conv_step, time_training_step
    algorithm, _, layout = candidate.partition(" ")
    return time_training_step(conv_step(shape, algorithm, channels_last=layout == "channels_last"))


def candidates_for(shape: ConvShape) -> list[str]:
    return [c for c in CANDIDATES if c != "direct channels_last" or shape.dims == 2]


def autotune(plan: Plan, progress=sys.stderr) -> Plan:
    """The plan with every conv layer's algorithm and memory format chosen by measurement on this machine."""
    path = cache_dir() / "autotune.json"
    cache = _load_cache(path)
    device = cache.setdefault(device_key(), {})
    convs = [layer for layer in plan.layers if layer.op in ("lift", "group_conv")]
    shapes = {layer.name: conv_shape(plan.graph, layer.name, plan.batch) for layer in convs}
    todo = sorted({(shape.key(), c) for shape in shapes.values() for c in candidates_for(shape)} - set(
        tuple(k.split("|")) for k in device))
    by_key = {shape.key(): shape for shape in shapes.values()}
    for done, (key, candidate) in enumerate(todo, 1):
        if progress:
            _progress(done - 1, len(todo), f"{key} {candidate}", progress)
        device[f"{key}|{candidate}"] = measure_shape(by_key[key], candidate)
        _save_cache(path, cache)
    if progress and todo:
        _progress(len(todo), len(todo), "done", progress)
    layers = []
    for layer in plan.layers:
        if layer.name not in shapes:
            layers.append(layer)
            continue
        shape = shapes[layer.name]
        measured = tuple((c, device[f"{shape.key()}|{c}"]) for c in candidates_for(shape))
        best, seconds = min(measured, key=lambda item: item[1])
        if plan.spec.hints.conv in ("direct", "fft"):  # an explicit hint still wins over measurements
            best = next(c for c, _ in measured if c.startswith(plan.spec.hints.conv))
            seconds = dict(measured)[best]
        algorithm, _, layout = best.partition(" ")
        node = plan.graph.nodes[layer.name]
        node["algorithm"] = algorithm
        node["memory_format"] = layout or "contiguous"
        times = ", ".join(f"{c} {t * 1e3:.3g} ms" for c, t in measured)
        reason = (f"autotune: {best} fastest of {times} (forward + backward at batch {plan.batch}, measured here); "
                  f"filters expanded from {layer.params:,} base weights, cached in eval")
        layers.append(dataclasses.replace(layer, algorithm=algorithm, memory_format=node["memory_format"],
                                          time=seconds, reason=reason, measured=measured))
    return dataclasses.replace(plan, layers=tuple(layers), autotuned=True)
