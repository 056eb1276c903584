"""The data `symc discover` reads: arrays x and y, checked against the domain's layout (numpy only, no torch)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DOMAINS = ("image", "sequence", "set", "point cloud")
DOMAIN_ALIASES = {"image": "image", "sequence": "sequence", "signal": "sequence", "time series": "sequence",
                  "set": "set", "point cloud": "point cloud", "point-cloud": "point cloud",
                  "point_cloud": "point cloud", "points": "point cloud"}
LAYOUTS = {"image": "(N, C, H, W) or (N, H, W)", "sequence": "(N, C, L) or (N, L)", "set": "(N, n, C) or (N, n)",
           "point cloud": "(N, n, D) with D = 2 or 3"}
MIN_SAMPLES = 20


class DataError(ValueError):
    """Data that `symc discover` cannot read: the message names the key, the shape or the domain at fault."""


@dataclass(frozen=True)
class Data:
    """Samples in the domain's layout: x (N, C, H, W) images, (N, C, L) sequences, (N, n, C) sets, (N, n, D) point
    clouds; y (N,) integer classes or (N, K) float targets."""
    domain: str
    x: np.ndarray
    y: np.ndarray
    classes: int
    """K for integer labels 0..K-1; 0 for float targets."""

    @property
    def targets(self) -> int:
        """Number of float target values per sample (0 for classes)."""
        return 0 if self.classes else self.y.shape[1]

    @property
    def shape(self) -> tuple[int, ...]:
        """One sample's shape: (C, H, W), (C, L), (n, C) or (n, D)."""
        return tuple(self.x.shape[1:])


def domain_word(domain: str) -> str:
    """The spec language's word for a domain given as text (`image`, `sequence`, `set`, `point cloud`)."""
    key = " ".join(str(domain).lower().split())
    if key not in DOMAIN_ALIASES:
        raise DataError(f"unknown domain {domain!r}: discover knows {', '.join(DOMAINS)}")
    return DOMAIN_ALIASES[key]


def load_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """x and y of a .npz file (numpy.savez), each error naming the file and what is wrong."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file {path} does not exist")
    if not path.is_file():
        raise DataError(f"{path} is not a file")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path} as a .npz archive (numpy.savez): {error}") from None
    if not hasattr(archive, "files"):
        raise DataError(f"{path} holds a single array, not a .npz archive with keys 'x' and 'y' (numpy.savez)")
    with archive:
        missing = [key for key in ("x", "y") if key not in archive.files]
        if missing:
            raise DataError(f"{path} has no key {' or '.join(repr(k) for k in missing)}: it needs 'x' (inputs) and "
                            f"'y' (labels or targets); found {', '.join(map(repr, archive.files)) or 'no arrays'}")
        return archive["x"], archive["y"]


def prepare(x, y, domain: str) -> Data:
    """x and y checked against the domain: shapes, sample counts, dtypes, finite values."""
    domain = domain_word(domain)
    x, y = np.asarray(x), np.asarray(y)
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer) or x.dtype == bool):
        raise DataError(f"x must hold numbers, got dtype {x.dtype}")
    x = x.astype(np.float32)
    short_rank = {"image": 3, "sequence": 2, "set": 2}.get(domain)
    if x.ndim == short_rank:
        x = x[:, None] if domain in ("image", "sequence") else x[:, :, None]
    if x.ndim != 4 - (domain != "image"):
        raise DataError(f"x has shape {tuple(x.shape)}, but {domain} data is {LAYOUTS[domain]}")
    if domain == "point cloud" and x.shape[2] not in (2, 3):
        raise DataError(f"x has shape {tuple(x.shape)}: point clouds are (N, n, D) with D = 2 or 3, got D = "
                        f"{x.shape[2]}")
    if min(x.shape) < 1:
        raise DataError(f"x has shape {tuple(x.shape)}: every axis needs at least one entry")
    if not np.isfinite(x).all():
        raise DataError("x holds NaN or infinite values")
    if y.ndim not in (1, 2) or len(y) != len(x):
        raise DataError(f"y has shape {tuple(y.shape)}, but x holds {len(x)} samples: y is (N,) labels or (N, K) "
                        "targets")
    if len(x) < MIN_SAMPLES:
        raise DataError(f"{len(x)} samples are too few to judge a symmetry; discover needs at least {MIN_SAMPLES}")
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        if y.ndim != 1:
            raise DataError(f"integer y (class labels) must be (N,), got shape {tuple(y.shape)}")
        y = y.astype(np.int64)
        if y.min() < 0:
            raise DataError(f"class labels must be 0, 1, ..., K-1; y holds {int(y.min())}")
        classes = int(y.max()) + 1
        if classes < 2:
            raise DataError("y holds a single class: there is nothing to tell apart")
        return Data(domain, x, y, classes)
    if not np.issubdtype(y.dtype, np.floating):
        raise DataError(f"y must hold integer class labels or float targets, got dtype {y.dtype}")
    if not np.isfinite(y).all():
        raise DataError("y holds NaN or infinite values")
    y = y.astype(np.float32).reshape(len(y), -1)
    if (y.std(axis=0) == 0).all():
        raise DataError("y is constant: there is nothing to predict")
    return Data(domain, x, y, 0)
