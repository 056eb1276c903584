"""The same specs compiled by two checkouts of symc, timed side by side in one process.

    git worktree add ../symc-old <commit>
    python benchmarks/versions.py --old ../symc-old --new . [--only C4 D4]

Each checkout writes the generated file of every spec (`symc.compile(spec).source`, run in a subprocess with that
checkout first on the path); both models are built with the same seed, so their weights are the same, and the table
gives the largest output difference next to eval-forward and Adam train-step medians (runs alternate, their order
flipping every repetition) and the ratio new / old, with the ratio of the fastest runs in parentheses.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types

import torch

SPECS = {
    "C4": ("image 3x32x32; C4; invariant output 10", (3, 32)),
    "D4": ("image 3x32x32; D4; invariant output 10", (3, 32)),
    "C8": ("image 1x29x29; C8; invariant output 10", (1, 29)),
    "mixed C8": ("image 1x28x28; C8; invariant fraction 0.5; invariant output 10", (1, 28)),
    "hue C4": ("image 3x32x32; rotation 4 x hue 3; invariant output 10", (3, 32)),
}


def generated(checkout: str, spec: str) -> str:
    code = "import sys, symc; sys.stdout.write(symc.compile(sys.argv[1]).source)"
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout))
    return subprocess.run([sys.executable, "-c", code, spec], env=env, capture_output=True, text=True,
                          check=True).stdout


def build(source: str, name: str) -> torch.nn.Module:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    torch.manual_seed(0)
    return module.Model()


def step(model: torch.nn.Module, x: torch.Tensor, mode: str):
    if mode == "eval":
        model.eval()

        def run():
            with torch.no_grad():
                model(x)
        return run
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)

    def run():
        optimizer.zero_grad(set_to_none=True)
        model(x).square().mean().backward()
        optimizer.step()
    return run


def compare(old: torch.nn.Module, new: torch.nn.Module, x: torch.Tensor, mode: str, repetitions: int):
    runs = {"old": step(old, x, mode), "new": step(new, x, mode)}
    for run in runs.values():  # warm-up (and the eval filter caches)
        run(), run()
    times = {"old": [], "new": []}
    for r in range(repetitions):
        for label in (("old", "new") if r % 2 == 0 else ("new", "old")):
            start = time.perf_counter()
            runs[label]()
            times[label].append(time.perf_counter() - start)
    o, n = statistics.median(times["old"]) * 1e3, statistics.median(times["new"]) * 1e3
    return f"{o:.1f} / {n:.1f} ({n / o:.2f}; fastest {min(times['new']) / min(times['old']):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="checkout of the older version")
    parser.add_argument("--new", default=".", help="checkout of the newer version (default: this one)")
    parser.add_argument("--only", nargs="*", choices=list(SPECS), help="specs to run (default: all)")
    parser.add_argument("--repetitions", type=int, default=20, help="at batch 8; batch 64 takes 2/5 of them")
    args = parser.parse_args()
    print("| spec | batch | eval old / new ms (ratio; fastest) | train step old / new ms (ratio; fastest) | "
          "max output difference |\n|---|---|---|---|---|")
    for name in args.only or list(SPECS):
        spec, (channels, size) = SPECS[name]
        old, new = build(generated(args.old, spec), "old"), build(generated(args.new, spec), "new")
        if sum(p.numel() for p in old.parameters()) != sum(p.numel() for p in new.parameters()):
            raise SystemExit(f"{name}: the two versions build models of different sizes")
        for batch, repetitions in ((8, args.repetitions), (64, max(3, args.repetitions * 2 // 5))):
            x = torch.randn(batch, channels, size, size)
            old.eval(), new.eval()
            with torch.no_grad():
                reference = old(x)
                difference = float((reference - new(x)).abs().max() / reference.abs().max())
            cells = [compare(old, new, x, mode, repetitions) for mode in ("eval", "train")]
            print(f"| {name} | {batch} | {cells[0]} | {cells[1]} | {difference:.1e} |", flush=True)


if __name__ == "__main__":
    main()
