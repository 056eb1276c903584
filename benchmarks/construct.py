"""Compile + construct time of escnn's C8 tutorial architecture (6 layers, widths 24,48,48,96,96,64).

    python benchmarks/construct.py

Measured after torch is imported: symc.compile (parse, plan, emit) and building the Model (load the generated
source, construct, first eval forward on a 29x29 input that expands and caches the filters). Also the wall time of
`symc compile` as a fresh process. Medians of several runs; escnn needs about 16 s to construct this model on a
2-core CPU. `benchmarks/twin.py` reuses `measure_construct` and `cli_compile_time` for every spec it times.
"""
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import symc
from symc.api import load_source

SPEC = "image 1x29x29; rotation 8; invariant output 10; widths 24,48,48,96,96,64; kernel 7,5,5,5,5,5"
RUNS = 7


def measure_construct(spec: str, runs: int = RUNS, example=None) -> dict:
    """Median seconds of `symc.compile` and of building `Model()` from its source, and of the first eval forward
    on `example()` (a tuple of inputs; skipped when None). Returns the last model too."""
    compile_times, construct_times, forward_times = [], [], []
    model = None
    for run in range(runs):
        # A fresh spec text each run so nothing is cached between runs (the comment changes the text only).
        text = f"{spec}  # run {run}"
        start = time.perf_counter()
        compiled = symc.compile(text)
        compile_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        model = load_source(compiled.source + f"\n# run {run}\n").Model().eval()
        construct_times.append(time.perf_counter() - start)
        if example is not None:
            inputs = example()
            start = time.perf_counter()
            with torch.no_grad():
                model(*inputs)
            forward_times.append(time.perf_counter() - start)
    median = statistics.median
    return {"compile": median(compile_times), "construct": median(construct_times),
            "first_forward": median(forward_times) if forward_times else None, "model": model}


def cli_compile_time(spec: str, runs: int = 3) -> float:
    """Median wall time of `symc compile SPEC -o model.py` as a new process (start-up and imports included)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "spec.sym"
        spec_file.write_text(spec + "\n")
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "symc.cli", "compile", str(spec_file), "-o",
                            str(Path(tmp) / "model.py")], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(2)
    found = measure_construct(SPEC, RUNS, lambda: (torch.randn(1, 1, 29, 29),))
    cli = cli_compile_time(SPEC)
    params = sum(p.numel() for p in found["model"].parameters())
    total = found["compile"] + found["construct"]
    print(f"spec: {SPEC}")
    print(f"parameters: {params:,}")
    print(f"symc.compile (parse + plan + emit): {found['compile'] * 1e3:8.1f} ms")
    print(f"construct Model():                  {found['construct'] * 1e3:8.1f} ms")
    print(f"compile + construct:                {total * 1e3:8.1f} ms   (target <= 100 ms; escnn ~16 s)")
    print(f"first eval forward (expand filters): {found['first_forward'] * 1e3:7.1f} ms")
    print(f"`symc compile` as a new process:    {cli * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
