"""The plan of a canonicalized model (the `canonicalize` hint): a small equivariant canonicalizer and a plain
backbone, each planned as a spec of its own, and the reason for the pair (docs/spec-language.md §1.4)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ..spec.canonicalize import CANONICALIZER_WIDTH, backbone_spec, canonicalizer_spec
from ..spec.model import Spec
from .plan import Plan, make_plan


@dataclass(frozen=True)
class CanonicalizedPlan:
    spec: Spec
    canonicalizer: Plan
    backbone: Plan
    reason: str

    @property
    def params(self) -> int:
        return self.canonicalizer.params + self.backbone.params

    @property
    def flops(self) -> int:
        return self.canonicalizer.flops + self.backbone.flops

    @property
    def memory(self) -> int:
        return self.canonicalizer.memory + self.backbone.memory

    @property
    def time(self) -> float:
        return self.canonicalizer.time + self.backbone.time

    @property
    def symmetry(self):
        return self.canonicalizer.symmetry

    @property
    def dtype(self) -> str:
        return self.backbone.dtype

    @property
    def hardware(self):
        return self.backbone.hardware

    @property
    def min_size(self) -> int:
        return max(self.canonicalizer.min_size, self.backbone.min_size)

    def exactness(self) -> str:
        return ("exactly invariant (per-pixel outputs exactly equivariant) for every group element whenever the "
                "canonicalizer's top score is unique (ties go to the lowest element index)")

    def parts(self, transform: Callable[[Plan], Plan]) -> "CanonicalizedPlan":
        """The same pair with `transform` applied to both plans (autotune)."""
        return replace(self, canonicalizer=transform(self.canonicalizer), backbone=transform(self.backbone))

    def to_dict(self) -> dict:
        return {"spec": self.spec.normalized(), "group": self.symmetry.group.name, "canonicalize": self.reason,
                "exactness": self.exactness(), "min_size": self.min_size,
                "canonicalizer": self.canonicalizer.to_dict(), "backbone": self.backbone.to_dict(),
                "totals": {"params": self.params, "flops": self.flops, "memory": self.memory,
                           "train_step_seconds": self.time}}

    def to_dot(self) -> str:
        """Both IR graphs, one cluster each (node names prefixed by the part)."""
        lines = ["digraph symc {", '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=10];',
                 f'  label="{self.spec.normalized()}"; labelloc=t;']
        for role, plan in (("canonicalizer", self.canonicalizer), ("backbone", self.backbone)):
            lines += [f"  subgraph cluster_{role} {{", f'    label="{role} ({plan.params:,} parameters)";']
            lines += [f'    "{role}/{layer.name}" [label="{layer.op}\\n{layer.algorithm}"];' for layer in plan.layers]
            lines += [f'    "{role}/{a}" -> "{role}/{b}" [label="{data["field"].describe()}", fontsize=8];'
                      for a, b, data in plan.graph.edges(data=True)]
            lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        lines = [f"spec:      {self.spec.normalized()}",
                 f"canonicalize: {self.reason}",
                 f"exactness: {self.exactness()}",
                 "",
                 f"canonicalizer ({self.canonicalizer.params:,} parameters):",
                 str(self.canonicalizer),
                 "",
                 f"backbone ({self.backbone.params:,} parameters):",
                 str(self.backbone),
                 "",
                 f"total:     {self.params:,} parameters (canonicalizer {self.canonicalizer.params:,}, backbone "
                 f"{self.backbone.params:,})"]
        return "\n".join(lines)


def canonicalized_plan(spec: Spec) -> CanonicalizedPlan:
    """Pure: plan the canonicalizer and the backbone of a spec with the `canonicalize` hint."""
    canonicalizer = make_plan(canonicalizer_spec(spec))
    backbone = make_plan(backbone_spec(spec))
    group = canonicalizer.symmetry.group
    reason = (f"a {group.name}-equivariant canonicalizer ({CANONICALIZER_WIDTH} regular fields per layer, one "
              f"orientation score per element) picks each input's pose g*, the input is turned back by g*^-1 with "
              f"exact grid moves (rot90, flips), and a plain backbone ({backbone.spec.normalized()}) runs on it; "
              "per-pixel outputs are turned by g* again. Gradients reach the canonicalizer through a "
              "straight-through softmax")
    return CanonicalizedPlan(spec=spec, canonicalizer=canonicalizer, backbone=backbone, reason=reason)


def plan_spec(spec: Spec) -> Plan | CanonicalizedPlan:
    """The plan of any spec: a canonicalized pair under the `canonicalize` hint, one network otherwise."""
    return canonicalized_plan(spec) if spec.hints.canonicalize else make_plan(spec)
