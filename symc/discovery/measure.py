"""The measurement behind every verdict: a small plain model trained as is, and again with a candidate imposed as
random augmentation; held-out scores of both, and the plain model's agreement on g.x against x. Imports torch.

The plain models hold no symmetry on purpose: convolutions end in a flattening linear layer (no global pooling, so
no translation invariance either), sets and point clouds go through an MLP on the flattened elements.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from .data import Data

BATCH = 64
LEARNING_RATE = 3e-3


class TimeLimitReached(Exception):
    """The time limit fell inside a training: the candidate is left unjudged."""


@dataclass(frozen=True)
class Split:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int


def split(data: Data, max_samples: int, test_fraction: float, generator: torch.Generator) -> Split:
    """A seeded subset of at most max_samples, cut into training and held-out parts; float targets standardized
    by the training part's mean and spread."""
    order = torch.randperm(len(data.x), generator=generator)[:max_samples]
    x = torch.from_numpy(data.x)[order]
    y = torch.from_numpy(data.y)[order]
    cut = len(order) - max(1, round(test_fraction * len(order)))
    y_train, y_test = y[:cut], y[cut:]
    if not data.classes:
        mean, std = y_train.mean(0), y_train.std(0).clamp_min(1e-8)
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return Split(x[:cut], y_train, x[cut:], y_test, data.classes)


class _Standardize(nn.Module):
    """A fixed affine first layer, so the actions see the data as given and the layers see it at unit scale."""

    def __init__(self, x: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", x.mean())
        self.register_buffer("std", x.std().clamp_min(1e-8))

    def forward(self, x):
        return (x - self.mean) / self.std


def plain_model(domain: str, shape: tuple[int, ...], outputs: int, x_train: torch.Tensor) -> nn.Module:
    """The small symmetry-free model each domain is judged with."""
    if domain == "image":
        channels, height, width = shape
        # narrow on purpose: every candidate trains one of these, and 28x28 images must take minutes, not hours
        body = nn.Sequential(nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                             nn.Flatten())
        features = 16 * _quarter(height) * _quarter(width)
    elif domain == "sequence":
        channels, length = shape
        body = nn.Sequential(nn.Conv1d(channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2, ceil_mode=True),
                             nn.Conv1d(32, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2, ceil_mode=True),
                             nn.Flatten())
        features = 32 * _quarter(length)
    else:
        count, channels = shape
        body = nn.Sequential(nn.Flatten(), nn.Linear(count * channels, 128), nn.ReLU())
        features = 128
    head = nn.Sequential(nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, outputs))
    return nn.Sequential(_Standardize(x_train), body, head)


def _quarter(n: int) -> int:
    """Size of an axis of n after two poolings by 2 that keep the remainder."""
    return (n + 3) // 4


def train(data: Split, domain: str, steps: int, seed: int, candidate=None, deadline: float | None = None,
          on_step=None) -> nn.Module:
    """AdamW with a one-cycle schedule for `steps` batches; with a candidate, every sample of every batch is moved
    by a random element of it. The same seed gives the same initial weights and batch order with or without one."""
    torch.manual_seed(seed)
    outputs = data.classes or data.y_train.shape[1]
    model = plain_model(domain, tuple(data.x_train.shape[1:]), outputs, data.x_train)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=steps)
    batches = torch.Generator().manual_seed(seed)
    augment = torch.Generator().manual_seed(seed + 1)
    n = len(data.x_train)
    order, position = torch.randperm(n, generator=batches), 0
    model.train()
    for _ in range(steps):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitReached
        if position + BATCH > n and position:
            order, position = torch.randperm(n, generator=batches), 0
        idx = order[position:position + BATCH]
        position += BATCH
        x, y = data.x_train[idx], data.y_train[idx]
        if candidate is not None:
            x = candidate.apply(candidate.draw(len(x), augment), x)
        loss = _loss(model(x), y, data.classes)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if on_step is not None:
            on_step()
    model.eval()
    return model


def _loss(out, y, classes):
    return nn.functional.cross_entropy(out, y) if classes else nn.functional.mse_loss(out, y)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([model(x[i:i + 512]) for i in range(0, len(x), 512)]) if len(x) else x.new_zeros(0)


def score(prediction: torch.Tensor, y: torch.Tensor, classes: int) -> float:
    """Accuracy for classes; R^2 (pooled over the targets) for float targets."""
    if classes:
        return float((prediction.argmax(1) == y).float().mean())
    total = float(((y - y.mean(0)) ** 2).sum())
    return 1.0 - float(((prediction - y) ** 2).sum()) / max(total, 1e-12)


def chance(data: Split) -> float:
    """The score of knowing nothing about x: the most frequent training class's share of the held-out part, R^2 0."""
    if not data.classes:
        return 0.0
    common = torch.bincount(data.y_train, minlength=data.classes).argmax()
    return float((data.y_test == common).float().mean())


@torch.no_grad()
def agreement(model: nn.Module, x: torch.Tensor, candidate, generator: torch.Generator, classes: int) -> float:
    """How far the plain model relates its answers on g.x to those on x, g a random element other than the
    identity: 1 when they are alike, 0 when they are no more alike than unrelated answers would be. For classes
    (a - c) / (1 - c), a the share of equal predicted classes and c that of independent draws from the two
    predictions' class shares; for targets 1 - |f(g.x) - f(x)|^2 / (the spread of f(x) + that of f(g.x))."""
    moved = candidate.apply(candidate.draw(len(x), generator, identity=False), x)
    before, after = predict(model, x), predict(model, moved)
    if classes:
        first, second = before.argmax(1), after.argmax(1)
        equal = float((first == second).float().mean())
        independent = float((torch.bincount(first, minlength=classes).double() / len(x)
                             * torch.bincount(second, minlength=classes).double() / len(x)).sum())
        return (equal - independent) / max(1.0 - independent, 1e-12)
    spread = float(((before - before.mean(0)) ** 2).sum() + ((after - after.mean(0)) ** 2).sum())
    return 1.0 - float(((after - before) ** 2).sum()) / max(spread, 1e-12)


def sample_errors(prediction: torch.Tensor, y: torch.Tensor, classes: int) -> torch.Tensor:
    """Per held-out sample: 1.0 for a wrong class, else 0.0; for targets the squared error summed over them."""
    if classes:
        return (prediction.argmax(1) != y).double()
    return ((prediction - y) ** 2).sum(1).double()


def paired_comparison(plain_errors: torch.Tensor, augmented_errors: torch.Tensor) -> tuple[float, float]:
    """(error ratio, z) of the augmented model against the plain one on the same held-out samples: the ratio of
    mean errors (inf when only the plain model is perfect), and the mean increase over its standard error."""
    difference = augmented_errors - plain_errors
    plain, augmented = float(plain_errors.mean()), float(augmented_errors.mean())
    ratio = augmented / plain if plain > 0 else (float("inf") if augmented > 0 else 1.0)
    spread = float(difference.std()) / len(difference) ** 0.5 if len(difference) > 1 else 0.0
    mean = float(difference.mean())
    z = mean / spread if spread > 0 else (float("inf") if mean > 0 else 0.0)
    return ratio, z
