"""What `symc discover` found: one finding per candidate, a table, the suggested spec; its progress bar. No torch."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    candidate: str
    action: str
    verdict: str
    """'respected', 'broken' or 'unclear'."""
    plain: float | None = None
    """Held-out score of the plain model: accuracy for classes, R^2 for targets."""
    augmented: float | None = None
    """Held-out score (on the untouched held-out inputs) of the same model trained with the candidate imposed."""
    kept: float | None = None
    """Share of the plain model's skill above chance that the augmented one keeps."""
    agreement: float | None = None
    """How related the plain model's answers on g.x are to those on x: 0 unrelated, 1 alike (measure.agreement)."""
    error_ratio: float | None = None
    """Held-out error of the augmented model over the plain one's (1 - accuracy, or the mean squared error)."""
    z: float | None = None
    """The paired increase of the held-out error over its standard error."""
    note: str = ""

    def evidence(self, metric: str, chance: float) -> str:
        if self.plain is None or self.augmented is None:
            return self.note
        text = f"held-out {metric} {self.plain:.3f} -> {self.augmented:.3f} with augmentation"
        if self.kept is None:
            text += f" (the plain model is within reach of chance {chance:.2f})"
        else:
            text += (f" (keeps {_percent(self.kept)} of the skill above {chance:.2f}; "
                     f"error x{_number(self.error_ratio)}, z {_number(self.z, 1)})")
        if self.agreement is not None:
            text += f"; plain model relates g.x to x {self.agreement:.2f}"
        return text + (f"; {self.note}" if self.note else "")


def _percent(value: float) -> str:
    return f"{round(100 * value) or 0:d}%"   # never "-0%"


def _number(value: float, digits: int = 2) -> str:
    return "inf" if value == float("inf") else f"{value:.{digits}f}"


@dataclass
class Discovery:
    domain: str
    findings: list[Finding]
    spec: str
    """The suggested spec; it compiles."""
    metric: str
    """'accuracy' or 'R^2'."""
    chance: float
    header: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def verdict(self, candidate: str) -> str | None:
        """The verdict on a candidate by name; None for one that was not tested."""
        return next((f.verdict for f in self.findings if f.candidate == candidate), None)

    @property
    def respected(self) -> list[str]:
        return [f.candidate for f in self.findings if f.verdict == "respected"]

    @property
    def broken(self) -> list[str]:
        return [f.candidate for f in self.findings if f.verdict == "broken"]

    def table(self) -> list[str]:
        rows = [(f.candidate, f.evidence(self.metric, self.chance), f.verdict) for f in self.findings]
        heads = ("candidate", "evidence", "verdict")
        widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(3)]
        lines = ["  ".join(text.ljust(width) for text, width in zip(row, widths)).rstrip() for row in [heads, *rows]]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return lines

    def __str__(self) -> str:
        return "\n".join([*self.header, *self.table(), *(f"note: {note}" for note in self.notes),
                          f"spec: {self.spec}"])


class ProgressBar:
    """One line on standard error, redrawn in place on a terminal; elsewhere a line at every tenth, so logs stay
    short."""

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label = max(1, total), label
        self.stream = stream if stream is not None else sys.stderr
        self.count, self.start, self.note = 0, time.monotonic(), ""
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._tenth = -1

    def update(self, steps: int = 1, note: str | None = None) -> None:
        self.count = min(self.total, self.count + steps)
        if note is not None:
            self.note = note
        tenth = 10 * self.count // self.total
        if self.tty or tenth != self._tenth:
            self._tenth = tenth
            done = self.count / self.total
            elapsed = time.monotonic() - self.start
            left = elapsed / done - elapsed if done else 0.0
            bar = "#" * int(30 * done) + "." * (30 - int(30 * done))
            line = f"{self.label} [{bar}] {done:4.0%} {elapsed:4.0f}s left {left:4.0f}s {self.note}"
            self.stream.write("\r" + line.ljust(100) if self.tty else line.rstrip() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
