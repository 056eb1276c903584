"""The result of an equivariance check: one row per (size, group element, output), and a readable table."""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    size: tuple[int, ...]
    """(H, W) of images, (L,) of sequences, (N,) of sets, graphs and point clouds, (D, H, W) of volumes."""
    element: str
    output: int | None
    """Index of the output in the spec's order; None when the forward itself failed."""
    error: float
    """RMS(f(g.x) - g.f(x)) / scale; NaN when it could not be measured (see `note`)."""
    tolerance: float
    exact: bool
    """True for elements that act exactly on pixel grids (multiples of 90 degrees, mirrors)."""
    ok: bool
    note: str = ""
    approximate: bool = False
    """A row of an approximate factor (`approximate F`): its error is a figure, and `ok` holds whatever it is."""


@dataclass
class Report:
    rows: list[Row]
    header: list[str] = field(default_factory=list)
    """Lines printed above the table: what was tested, and how."""

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]

    @property
    def max_error(self) -> float:
        """Largest error over all rows, exact and approximate; inf if some row could not be measured."""
        return _max_error(self.rows)

    @property
    def max_exact_error(self) -> float:
        return _max_error([row for row in self.rows if row.exact])

    @property
    def max_approx_error(self) -> float:
        return _max_error([row for row in self.rows if not row.exact])

    @property
    def approximate_error(self) -> float:
        """Largest error of the approximate factors' rows: how far the model has moved from them (0 without)."""
        return _max_error([row for row in self.rows if row.approximate])

    @property
    def moved(self) -> bool:
        """Whether some approximate factor's row is above the strict tolerance."""
        return any(row.approximate and not row.error <= row.tolerance for row in self.rows)

    def __str__(self) -> str:
        lines = list(self.header)
        lines += _table(self.rows)
        lines.append(self.verdict)
        return "\n".join(lines)

    @property
    def verdict(self) -> str:
        if self.ok and any(row.approximate for row in self.rows):
            level = (f"moved from the strict level (tolerance {max(r.tolerance for r in self.rows if r.approximate):g})"
                     if self.moved else "at the strict level")
            return f"PASS (approximate factors: largest error {self.approximate_error:.2e}, {level})"
        if self.ok:
            return "PASS"
        if not self.rows:
            return "FAIL: nothing was tested"
        return f"FAIL: {len(self.failures)} of {len(self.rows)} rows above tolerance"


def _max_error(rows: list[Row]) -> float:
    errors = [math.inf if math.isnan(row.error) else row.error for row in rows]
    return max(errors, default=0.0)


COLUMNS = ("size", "element", "output", "error", "tolerance", "kind", "result", "note")


def _cells(row: Row) -> tuple[str, ...]:
    error = "-" if math.isnan(row.error) else f"{row.error:.2e}"
    size = "x".join(str(s) for s in row.size)
    output = "-" if row.output is None else str(row.output)
    result = "ok" if row.ok else "FAIL"
    if row.approximate and not row.error <= row.tolerance:
        result = "moved"
    return (size, row.element, output, error, f"{row.tolerance:g}", "exact" if row.exact else "approx",
            result, row.note)


def _table(rows: list[Row]) -> list[str]:
    cells = [COLUMNS] + [_cells(row) for row in rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(COLUMNS))]
    return ["  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in cells]
