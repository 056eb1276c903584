"""symc's SO(2) model against escnn's equivalent one, side by side in one process (escnn's own environment).

    PYTHONPATH=. /path/to/escnn-venv/bin/python benchmarks/so2_escnn.py [--reps 10] [--batches 16,64]

Both models: 29x29 one-channel inputs, six blocks of widths 8, 16, 16, 32, 32, 32 (copies of each irrep of
frequencies 0..4), 5x5 filters, gated nonlinearities, batch norm, pooling by 2 after blocks 2 and 3, invariant
lengths, a mean over positions and a two-layer head (benchmarks/escnn_so2.py builds escnn's). Measured:
construction (symc: compile the spec and build Model() from the generated source, then the first eval forward;
escnn: build the module, then the first eval forward), and train steps (zero_grad, forward, mean-square loss,
backward, Adam step) alternating between the two models, medians over `--reps` steps each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import escnn_so2  # noqa: E402  (imports escnn)

import symc  # noqa: E402
from symc.api import load_source  # noqa: E402

SPEC = "image 1x29x29; SO(2); invariant output 10; widths 8,16,16,32,32,32; frequencies 4"


def build_symc(run: int):
    start = time.perf_counter()
    compiled = symc.compile(f"{SPEC}  # run {run}")
    model = load_source(compiled.source + f"\n# run {run}\n").Model()
    built = time.perf_counter() - start
    with torch.no_grad():
        model.eval()(torch.randn(1, 1, 29, 29))
    return model, built, time.perf_counter() - start


def build_escnn():
    start = time.perf_counter()
    model = escnn_so2.SO2SteerableCNN(widths=escnn_so2.WIDTHS, max_frequency=4)
    built = time.perf_counter() - start
    with torch.no_grad():
        model.eval()(torch.randn(1, 1, 29, 29))
    return model, built, time.perf_counter() - start


def stepper(model, batch: int):
    model.train()
    inputs = torch.randn(batch, 1, 29, 29)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        model(inputs).float().square().mean().backward()
        optimizer.step()
        return time.perf_counter() - start
    return step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--batches", default="16,64")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    escnn_so2.POOL_AFTER = (1, 2)   # where symc's planner halves a 29x29 input in six blocks
    torch.manual_seed(0)
    ours = [build_symc(run) for run in range(3)]
    theirs = [build_escnn() for _ in range(2)]
    symc_model, escnn_model = ours[-1][0], theirs[-1][0]
    print(f"parameters: symc {sum(p.numel() for p in symc_model.parameters()):,}, "
          f"escnn {sum(p.numel() for p in escnn_model.parameters()):,}")
    print(f"construction: symc {statistics.median(b for _, b, _ in ours):.3f} s (with the first forward "
          f"{statistics.median(f for _, _, f in ours):.3f} s); escnn first {theirs[0][1]:.2f} s, second "
          f"{theirs[1][1]:.2f} s (with the first forward {theirs[1][2]:.2f} s)")
    for batch in (int(b) for b in args.batches.split(",")):
        step_symc, step_escnn = stepper(symc_model, batch), stepper(escnn_model, batch)
        for _ in range(2):
            step_symc(), step_escnn()
        times_symc, times_escnn = [], []
        for _ in range(args.reps):
            times_symc.append(step_symc())
            times_escnn.append(step_escnn())
        a, b = statistics.median(times_symc), statistics.median(times_escnn)
        print(f"train step, batch {batch}: symc {a * 1e3:.0f} ms (fastest {min(times_symc) * 1e3:.0f}), escnn "
              f"{b * 1e3:.0f} ms (fastest {min(times_escnn) * 1e3:.0f}); symc / escnn {a / b:.2f} "
              f"(fastest {min(times_symc) / min(times_escnn):.2f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
