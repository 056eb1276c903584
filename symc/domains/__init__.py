"""The domain registry: one plug-in module per domain, each holding a `Domain` (see base.py).

This package imports nothing from the pipeline's stages, so every stage may consult it.
"""
from __future__ import annotations

from .base import STAGES, Domain
from .graph import GRAPH
from .image import IMAGE
from .point_cloud import POINT_CLOUD
from .sequence import SEQUENCE
from .set import SET
from .volume import VOLUME

DOMAINS: tuple[Domain, ...] = (IMAGE, SEQUENCE, VOLUME, SET, GRAPH, POINT_CLOUD)
_BY_KIND = {domain.kind: domain for domain in DOMAINS}


def domain(kind: str) -> Domain:
    """The plug-in for the spec's domain word."""
    return _BY_KIND[kind]


def hook(kind: str, stage: str):
    """The function the domain `kind` registers for pipeline `stage` (one of STAGES)."""
    return _BY_KIND[kind].hook(stage)


__all__ = ["Domain", "DOMAINS", "STAGES", "domain", "hook"]
