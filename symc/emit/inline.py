"""Copies the runtime layers a model needs out of `symc/nn` (and the sizes of `symc/sizes.py` they read) into
generated files, without importing torch.

The layer source is read as text and parsed with `ast`; a definition is included when the model names it or when an
included definition does, so each generated file carries exactly what it uses, in a fixed order.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
NN_DIR = PACKAGE_DIR / "nn"
# Definition order in generated files: symc/sizes.py (torch-free numbers the planner shares), then symc/nn.
SOURCE_FILES = (PACKAGE_DIR / "sizes.py",) + tuple(NN_DIR / name for name in (
    "filters.py", "approximate.py", "fft.py", "conv.py", "layers.py", "attention.py", "sets.py", "points.py", "positions.py",
    "scale.py", "steerable.py", "scatter.py", "neighbours.py", "sparse_points.py", "graphs.py",
    "canonicalize.py"))
HEADER_IMPORTS = ("import math", "import torch", "import torch.nn.functional as F")


@lru_cache(maxsize=None)
def _definitions() -> tuple[tuple[str, str, frozenset], ...]:
    """(name, source, names it refers to) for every top-level class, function and constant in the source files, in
    order."""
    found = []
    for path in SOURCE_FILES:
        text = path.read_text()
        tree = ast.parse(text)
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                name = node.name
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id  # a module-level constant
            else:
                continue
            start = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
            source = "\n".join(text.splitlines()[start - 1:node.end_lineno])
            names = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name)) - {name}
            found.append((name, source, names))
    return tuple(found)


def layer_source(used: set[str]) -> str:
    """Source of the named runtime definitions and everything they depend on."""
    definitions = _definitions()
    known = {name for name, _, _ in definitions}
    unknown = set(used) - known
    if unknown:
        raise KeyError(f"not defined in symc/nn: {', '.join(sorted(unknown))}")
    by_name = {name: names for name, _, names in definitions}
    needed, todo = set(), list(used)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(by_name[name] & known)
    return "\n\n\n".join(source for name, source, _ in definitions if name in needed)
