"""Invariance error at arbitrary angles: continuous SO(2)/O(2) models against C8, C16 and a plain CNN.

    python benchmarks/angles.py                  # params 48k, 29x29, seeds 0-3, 12 angles
    python benchmarks/angles.py --seeds 8 --size 33

Each model is compiled from `image 1xSxS; GROUP; invariant output 10; params BUDGET` and freshly initialized
(seed = torch.manual_seed), in eval mode and float64. Inputs are smooth blob scenes inside the inscribed disk
(symc.testing.inputs), redrawn rotated by 12 random angles that are not multiples of 45 degrees (at least 5 degrees
from one); error = RMS(f(g.x) - f(x)) / RMS(f(x) - its batch mean), as `symc check` reports it. Prints one row per
model: parameters, worst and mean error over all seeds and angles.
"""
from __future__ import annotations

import argparse
import math

import torch

import symc
from symc.groups.circle import point_matrix
from symc.testing.inputs import BlobScene

MODELS = (("plain CNN", ""), ("C8", "rotation 8; "), ("C16", "rotation 16; "), ("SO(2)", "SO(2); "),
          ("O(2)", "O(2); "))


def angles(count: int, generator: torch.Generator) -> list[float]:
    """Random angles at least 5 degrees away from every multiple of 45 degrees."""
    found = []
    while len(found) < count:
        degrees = float(torch.rand((), generator=generator, dtype=torch.float64)) * 360
        if abs((degrees + 22.5) % 45 - 22.5) >= 5:
            found.append(degrees)
    return found


def errors(model: torch.nn.Module, size: int, batch: int, count: int, seed: int) -> list[float]:
    generator = torch.Generator().manual_seed(1000 + seed)
    scene = BlobScene.random(batch, 1, size, size, generator)
    with torch.no_grad():
        y = model(scene.render(size, size))
        spread = (y - y.mean(0)).pow(2).mean().sqrt()
        found = []
        for degrees in angles(count, generator):
            moved = scene.transformed(point_matrix(math.radians(degrees), False))
            found.append(float((model(moved.render(size, size)) - y).pow(2).mean().sqrt() / spread))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=29)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--angles", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--budget", default="48k", help="the params hint of every model; 'default': none")
    parser.add_argument("--models", default=",".join(name for name, _ in MODELS))
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    wanted = args.models.split(",")
    print(f"| model | spec | parameters | worst error | mean error |\n|---|---|---|---|---|")
    for name, group in MODELS:
        if name not in wanted:
            continue
        budget = "" if args.budget == "default" else f"; params {args.budget}"
        spec = f"image 1x{args.size}x{args.size}; {group}invariant output 10{budget}"
        compiled = symc.compile(spec)
        found = []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = compiled.new_module().double().eval()
            found += errors(model, args.size, args.batch, args.angles, seed)
        print(f"| {name} | `{spec}` | {compiled.plan.params:,} | {max(found):.3f} | {sum(found) / len(found):.3f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
