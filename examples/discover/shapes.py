"""Synthetic data with a known symmetry: an L-shaped tetromino (class 0) and its mirror image, a J (class 1), each
drawn at a random quarter turn and a random position. The labels respect quarter turns and shifts; a mirror maps
one class onto the other."""
from __future__ import annotations

import numpy as np

L_SHAPE = np.array([[1, 0],
                    [1, 0],
                    [1, 1]], dtype=np.float32)
CELL = 2  # pixels per tetromino cell


def chiral_images(count: int, size: int = 12, seed: int = 0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """x (count, 1, size, size) float32 and y (count,) int64: L shapes (0) and J shapes (1), half each."""
    rng = np.random.default_rng(seed)
    shape = np.kron(L_SHAPE, np.ones((CELL, CELL), dtype=np.float32))
    x = rng.normal(0.0, noise, (count, 1, size, size)).astype(np.float32)
    y = np.arange(count) % 2
    for i in range(count):
        piece = shape[:, ::-1] if y[i] else shape
        piece = np.rot90(piece, rng.integers(4))
        top = rng.integers(size - piece.shape[0] + 1)
        left = rng.integers(size - piece.shape[1] + 1)
        x[i, 0, top:top + piece.shape[0], left:left + piece.shape[1]] += piece
    order = rng.permutation(count)
    return x[order], y[order].astype(np.int64)


def area_targets(count: int, size: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A regression: x (count, 1, size, size) of bright rectangles at random places and sizes, y (count,) float32
    their area in pixels. The area ignores turns, mirrors and shifts, but not zooms."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.05, (count, 1, size, size)).astype(np.float32)
    y = np.zeros(count, dtype=np.float32)
    for i in range(count):
        height, width = rng.integers(1, size // 2 + 1, 2)
        top, left = rng.integers(size - height + 1), rng.integers(size - width + 1)
        x[i, 0, top:top + height, left:left + width] += 1.0
        y[i] = height * width
    return x, y
