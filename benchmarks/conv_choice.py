"""Direct vs FFT convolution on this CPU, and how well symc's two ways of choosing between them do.

    python benchmarks/conv_choice.py [--quick]

For each shape (1D: lengths 256, 1024, 4096, kernels 3..255; 2D: sizes 32, 64, 128, kernels 3..31; channels 8 and 32;
batch 8) it times forward + backward of torch's direct conv and symc's FFT conv side by side (interleaved, medians).
Then it scores two choosers against those times:
  - autotune: symc's own independent measurement of the shape (symc.plan.autotune.measure_shape), target: the chosen
    algorithm within 5% of the faster in at least 95% of shapes;
  - the analytic cost model for `target cpu` (calibrated on this machine by symc's probe), target: median regret
    <= 10% (regret = chosen time / best time - 1).
It prints the table of crossovers (smallest kernel from which FFT wins) for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from symc.plan.autotune import measure_shape
from symc.plan.cost import ConvShape, conv_time
from symc.plan.hardware import calibrated_cpu
from symc.plan.probe import conv_step

KERNELS_1D = (3, 7, 15, 31, 63, 127, 255)
KERNELS_2D = (3, 5, 7, 11, 15, 21, 31)


def shapes(quick: bool) -> list[ConvShape]:
    found = []
    for channels in (8, 32):
        for length in ((256, 1024) if quick else (256, 1024, 4096)):
            found += [ConvShape(8, channels, channels, (k,), (length,)) for k in KERNELS_1D if k < length]
        for size in ((32, 64) if quick else (32, 64, 128)):
            found += [ConvShape(8, channels, channels, (k, k), (size, size)) for k in KERNELS_2D if k < size]
    return found


def side_by_side(shape: ConvShape, repeats: int, long_run: float = 1.0) -> dict[str, float]:
    """Median seconds of forward + backward, direct and FFT interleaved; runs longer than `long_run` seconds count
    once (their warm-up is negligible)."""
    runs = {"direct": conv_step(shape, "direct"), "fft": conv_step(shape, "fft")}
    times = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        times[name] = [time.perf_counter() - start]
    if min(values[0] for values in times.values()) > long_run:
        return {name: values[0] for name, values in times.items()}
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and smaller shapes")
    args = parser.parse_args()
    torch.manual_seed(0)
    cpu = calibrated_cpu()
    direct = "; ".join(f"{d}D " + ", ".join(f"{rate / 1e9:.0f}G at {taps} taps" for rate, taps in points)
                       for d, points in sorted(cpu.direct_rate.items()))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; `target cpu` profile: direct {direct}; "
          f"fft {cpu.fft_rate / 1e9:.1f}G FLOP/s")
    rows = []
    for index, shape in enumerate(shapes(args.quick), 1):
        measured = side_by_side(shape, repeats=5)
        auto = {a: measure_shape(shape, a) for a in ("direct", "fft")}
        autotune_choice = min(auto, key=auto.get)
        model = {a: conv_time(a, shape, cpu, "float32") for a in ("direct", "fft")}
        model_choice = min(model, key=model.get)
        best = min(measured.values())
        rows.append((shape, measured, autotune_choice, model_choice,
                     measured[autotune_choice] / best - 1, measured[model_choice] / best - 1))
        print(f"[{index}] {shape.key():32s} direct {measured['direct'] * 1e3:9.2f} ms  fft "
              f"{measured['fft'] * 1e3:9.2f} ms  autotune {autotune_choice:6s}  model {model_choice:6s}",
              file=sys.stderr, flush=True)
    print()
    print("| dims | channels | size | direct wins up to kernel | FFT wins from kernel | speedup at largest kernel |")
    print("|---|---|---|---|---|---|")
    groups = {}
    for row in rows:
        shape = row[0]
        groups.setdefault((shape.dims, shape.cin, shape.spatial[0]), []).append(row)
    for (dims, channels, size), group in sorted(groups.items()):
        group.sort(key=lambda r: r[0].kernel[0])
        crossover = next((r[0].kernel[0] for i, r in enumerate(group)
                          if all(g[1]["fft"] < g[1]["direct"] for g in group[i:])), None)
        direct_up_to = max((r[0].kernel[0] for r in group if r[1]["direct"] <= r[1]["fft"]), default="-")
        last = group[-1][1]
        print(f"| {dims}D | {channels} | {size} | {direct_up_to} | {crossover or '-'} | "
              f"{last['direct'] / last['fft']:.1f}x (k={group[-1][0].kernel[0]}) |")
    autotune_ok = sum(1 for r in rows if r[4] <= 0.05) / len(rows)
    regrets = [r[5] for r in rows]
    print()
    print(f"shapes: {len(rows)}")
    print(f"autotune: chosen algorithm within 5% of the faster in {100 * autotune_ok:.0f}% of shapes (target >= 95%)")
    print(f"cost model (target cpu): median regret {100 * statistics.median(regrets):.1f}% (target <= 10%), "
          f"mean {100 * statistics.mean(regrets):.1f}%, worst {100 * max(regrets):.0f}%")


if __name__ == "__main__":
    main()
