"""Compile + construct time of escnn's C8 tutorial architecture (6 layers, widths 24,48,48,96,96,64).

    python benchmarks/construct.py

Measured after torch is imported: symc.compile (parse, plan, emit) and building the Model (load the generated
source, construct, first eval forward on a 29x29 input that expands and caches the filters). Also the wall time of
`symc compile` as a fresh process. Medians of several runs; escnn needs about 16 s to construct this model on a
2-core CPU.
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


def main() -> None:
    torch.set_num_threads(2)
    compile_times, construct_times, forward_times = [], [], []
    for run in range(RUNS):
        # A fresh spec text each run so nothing is cached between runs (the comment changes the text only).
        text = f"{SPEC}  # run {run}"
        start = time.perf_counter()
        compiled = symc.compile(text)
        compile_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        model = load_source(compiled.source + f"\n# run {run}\n").Model().eval()
        construct_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        with torch.no_grad():
            model(torch.randn(1, 1, 29, 29))
        forward_times.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "c8.sym"
        spec_file.write_text(SPEC + "\n")
        cli_times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "symc.cli", "compile", str(spec_file), "-o",
                            str(Path(tmp) / "model.py")], check=True, capture_output=True)
            cli_times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in model.parameters())
    median = statistics.median
    total = median(compile_times) + median(construct_times)
    print(f"spec: {SPEC}")
    print(f"parameters: {params:,}")
    print(f"symc.compile (parse + plan + emit): {median(compile_times) * 1e3:8.1f} ms")
    print(f"construct Model():                  {median(construct_times) * 1e3:8.1f} ms")
    print(f"compile + construct:                {total * 1e3:8.1f} ms   (target <= 100 ms; escnn ~16 s)")
    print(f"first eval forward (expand filters): {median(forward_times) * 1e3:7.1f} ms")
    print(f"`symc compile` as a new process:    {median(cli_times) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
