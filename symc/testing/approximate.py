"""Approximate symmetries in a report: rows of elements outside the strict subgroup measure how far the model has
moved from the symmetry (a figure, never a failure); every other row is judged as before.

Which rows those are is read from the element each row names, the tester's own wording: on images a row that
rotates ('rot ...') when the rotations are approximate, one that mirrors ('flip') when the mirrors are; on point
clouds every row that rotates, reflects or translates when the rigid motions are approximate.
"""
from __future__ import annotations

from dataclasses import replace

from symc.spec.normalize import factor_text

from .report import Report

RIGID = ("E", "SE", "O", "SO")
RIGID_WORDS = ("rotation", "reflection", "translation")


def approximate_words(spec) -> tuple[str, ...]:
    """Words of element names that the spec's approximate factors move (empty: nothing approximate)."""
    kinds = spec.approximate_kinds()
    words = []
    if any(kind in ("rotation", "dihedral") for kind in kinds):
        words.append("rot")
    if any(kind in ("flip", "dihedral") for kind in kinds):
        words.append("flip")
    if any(kind in RIGID for kind in kinds):
        words += RIGID_WORDS
    return tuple(words)


def mark_approximate(report: Report, spec) -> Report:
    """The report with the approximate factors' rows as figures: ok, marked `approximate`, noted 'at the strict
    level' or 'moved' (with how many times the strict tolerance)."""
    kinds = spec.approximate_kinds()
    if not kinds:
        return report
    words = approximate_words(spec)
    rows = []
    for row in report.rows:
        if row.output is None or not any(word in row.element for word in words):
            rows.append(row)
            continue
        if row.ok:
            note = "approximate factor: at the strict level"
        else:
            note = f"approximate factor: moved, {row.error / row.tolerance:.3g} x the tolerance"
        rows.append(replace(row, ok=True, approximate=True, note="; ".join(n for n in (row.note, note) if n)))
    header = list(report.header)
    end = len(header) - 1 if header and header[-1] == "" else len(header)   # above the blank line before the table
    header[end:end] = [
        f"approximate factors ({_factor_words(spec)}): their rows are figures (how far the model has moved from "
        "the symmetry), never failures; the other rows are judged strictly"]
    if spec.approximate_translation:
        header.insert(end + 1, "approximate translation: not measured (the tester applies no translations to images)")
    return Report(rows, header)


def _factor_words(spec) -> str:
    words = ["translation"] if spec.approximate_translation else []
    words += [factor_text(f.model_copy(update={"approximate": False})) for f in spec.symmetry if f.approximate]
    return ", ".join(words)
