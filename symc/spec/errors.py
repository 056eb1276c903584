"""The one error type every bad spec raises, with the place it points at."""
from __future__ import annotations


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, case-insensitive (near-miss suggestions)."""
    a, b = a.lower(), b.lower()
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest(word: str, candidates, max_distance: int | None = None) -> str | None:
    """The candidate nearest to `word`, if it is close enough to be a likely typo."""
    if not word:
        return None
    limit = max_distance if max_distance is not None else max(1, min(3, len(word) // 3))
    best, best_distance = None, limit + 1
    for candidate in sorted(set(candidates)):
        d = edit_distance(word, candidate)
        if d < best_distance:
            best, best_distance = candidate, d
    return best


class SpecError(ValueError):
    """A spec that cannot be parsed, contradicts itself, or asks for something unsupported.

    `line` and `column` are 1-based and point into `text` (the whole spec).
    """

    def __init__(self, message: str, line: int = 1, column: int = 1, text: str = "",
                 suggestion: str | None = None):
        self.message = message
        self.line = line
        self.column = column
        self.text = text
        self.suggestion = suggestion
        super().__init__(self._render())

    @property
    def source_line(self) -> str:
        # Lines as the parser counts them: only "\n" ends one (str.splitlines also splits at \f, \u2028, ...).
        lines = self.text.split("\n")
        if 1 <= self.line <= len(lines):
            return lines[self.line - 1].rstrip("\r")
        return ""

    def _render(self) -> str:
        head = f"line {self.line}, column {self.column}: {self.message}" if self.text else self.message
        source = self.source_line.replace("\t", " ")
        parts = [head]
        if self.text:
            parts.append(f"    {source}")
            parts.append("    " + " " * max(0, self.column - 1) + "^")
        if self.suggestion:
            parts.append(f"did you mean '{self.suggestion}'?")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self._render()
