"""Shared pieces of the examples: a seeded AdamW + one-cycle training loop with a plain progress bar on standard
error, batched evaluation, and writing result tables as Markdown and CSV."""
from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import torch


def setup(threads: int | None = None) -> None:
    """Deterministic-enough CPU set-up: a fixed thread count (2 unless SYMC_THREADS says otherwise)."""
    torch.set_num_threads(threads or int(os.environ.get("SYMC_THREADS", "2")))


class Progress:
    """A one-line progress bar on standard error, redrawn in place; a plain line per update when not a terminal
    would flood logs, so it then prints at most every 10% and at the end."""

    def __init__(self, total: int, desc: str, stream=sys.stderr):
        self.total, self.desc, self.stream = max(1, total), desc, stream
        self.count, self.start, self.tty = 0, time.perf_counter(), stream.isatty()
        self._last_tenth = -1
        self.note = ""

    def update(self, n: int = 1, note: str | None = None) -> None:
        self.count += n
        if note is not None:
            self.note = note
        tenth = 10 * self.count // self.total
        if self.tty or tenth != self._last_tenth or self.count >= self.total:
            self._last_tenth = tenth
            self._draw()

    def _draw(self) -> None:
        frac = min(1.0, self.count / self.total)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        line = f"{self.desc} [{bar}] {self.count}/{self.total} {elapsed:5.0f}s eta {eta:4.0f}s {self.note}"
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def fit(model: torch.nn.Module, loss_fn: Callable[..., torch.Tensor], data: Sequence[torch.Tensor], *,
        epochs: int, batch_size: int, lr: float, weight_decay: float = 1e-2, seed: int = 0,
        desc: str = "train", clip: float | None = None) -> dict:
    """Train with AdamW and a one-cycle learning-rate schedule; `loss_fn(model, *batch)` returns the batch loss.
    Returns the wall and CPU time of training and the last epoch's mean loss."""
    n = len(data[0])
    steps_per_epoch = math.ceil(n / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, epochs=epochs,
                                                   steps_per_epoch=steps_per_epoch)
    generator = torch.Generator().manual_seed(seed)
    bar = Progress(epochs * steps_per_epoch, desc)
    start, cpu_start = time.perf_counter(), time.process_time()
    model.train()
    epoch_loss = float("nan")
    for epoch in range(epochs):
        order = torch.randperm(n, generator=generator)
        total, count = 0.0, 0
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            loss = loss_fn(model, *(t[idx] for t in data))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
            count += len(idx)
            bar.update(1, f"epoch {epoch + 1}/{epochs} loss {total / count:.4f}")
        epoch_loss = total / count
    bar.close()
    model.eval()
    # CPU time is reported beside wall time: on a shared machine wall time says more about the neighbours.
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start,
            "loss": epoch_loss}


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy in eval mode."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += (model(x[i:i + batch_size]).argmax(-1) == y[i:i + batch_size]).sum().item()
    return correct / len(x)


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def write_table(rows: list[dict], path: Path, title: str = "") -> str:
    """Write rows as `path`.csv and `path`.md (a Markdown table); returns the Markdown."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    with open(path.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = ([title, ""] if title else []) + ["| " + " | ".join(columns) + " |",
                                               "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    path.with_suffix(".md").write_text(text)
    return text


def pyplot():
    """matplotlib with a file-only backend (the examples never open windows)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
