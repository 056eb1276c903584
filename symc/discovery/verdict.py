"""From measured scores to verdicts, and from verdicts to the strongest spec the language can say (no torch).

The number judged is the skill kept: (augmented - chance) / (plain - chance), the share of what the plain model
learned above chance that survives imposing the candidate. docs/spec-language.md gives the measurements the
thresholds come from ("symc discover" under §2).
"""
from __future__ import annotations

RESPECTED_KEPT = 0.90
"""Kept at least this share of the skill (and no clear cost, below): the labels respect the candidate."""
BROKEN_KEPT = 0.75
"""Kept less than this share: imposing the candidate maps labels onto each other."""
CLEAR_COST = 0.03
"""A cost (1 - kept) of at least this share of the skill, ..."""
CLEAR_Z = 3.0
"""... at least this many standard errors of the paired held-out comparison, is a clear cost: never 'respected'."""
BROKEN_ERROR_RATIO = 1.4
"""A clear cost that multiplies the held-out error (1 - accuracy, or the mean squared error) by at least this ..."""
BROKEN_DROP = 0.04
"""... and lowers the held-out score by at least this (accuracy, or R^2) is 'broken' even when most of the skill is
kept (classes that only some elements of the group confuse); a smaller drop on a near-perfect plain model, whose
error ratio is huge, stays 'unclear'."""
MIN_RELATED = 0.25
"""'respected' also needs the plain model's answers on g.x to be this related to those on x (symc.discovery.measure
.agreement: 0 unrelated, 1 alike): below it the data is not closed under the candidate (upright photographs turned
by 90 degrees), which no one calls invariant however cheap imposing it is."""
MIN_SKILL = 0.10
"""A plain model less than this far above chance (accuracy points, or R^2) learned too little to judge anything."""

RESPECTED, BROKEN, UNCLEAR = "respected", "broken", "unclear"


def judge(plain: float, augmented: float, chance: float, error_ratio: float, z: float,
          related: float = 1.0) -> tuple[str, float | None]:
    """(verdict, skill kept) of one candidate from the held-out scores of the plain and the augmented model, the
    ratio of their held-out errors, the paired comparison's z (the drop over its standard error) and how related the
    plain model's answers on g.x are to those on x."""
    skill = plain - chance
    if skill < MIN_SKILL:
        return UNCLEAR, None
    kept = (augmented - chance) / skill
    clear_cost = 1 - kept >= CLEAR_COST and z >= CLEAR_Z
    confused = error_ratio >= BROKEN_ERROR_RATIO and plain - augmented >= BROKEN_DROP
    if kept < BROKEN_KEPT or (clear_cost and confused):
        return BROKEN, kept
    cheap = kept >= RESPECTED_KEPT and not clear_cost
    return (RESPECTED if cheap and related >= MIN_RELATED else UNCLEAR), kept


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


def suggest_spec(domain: str, shape: tuple[int, ...], classes: int, targets: int,
                 verdicts: dict[str, str]) -> tuple[str, list[str]]:
    """The spec of the respected candidates, combined into the strongest group the language expresses, and notes
    on what it could not say. `verdicts` maps candidate names to verdicts; an unjudged candidate is not imposed."""
    def respected(name):
        return verdicts.get(name) == RESPECTED

    output = f"invariant output {classes} classes" if classes else f"invariant output {targets} values"
    notes: list[str] = []
    clauses: list[str] = []
    if domain == "image":
        head = f"image {_shape_text(shape)}"
        turns = 4 if respected("quarter turns") else 0
        if turns and respected("eighth turns"):
            turns = 8
        if respected("eighth turns") and not turns:
            notes.append("eighth turns respected but quarter turns not: rotations left out")
        if turns and respected("mirror"):
            clauses.append(f"D{turns}")
        elif turns:
            clauses.append(f"rotation {turns}")
        elif respected("mirror"):
            clauses.append("flip")
        if respected("hue"):
            clauses.append("hue 3")
        scale = respected("scale")
        if verdicts.get("translation") == BROKEN:
            clauses.append("no translation")
            if scale:
                notes.append("scale respected, but the language has no 'scale N' with 'no translation': left out")
                scale = False
        if scale:
            clauses.append("scale 3")
    elif domain == "sequence":
        head = f"sequence {_shape_text(shape)}"
        if verdicts.get("translation") == BROKEN:
            clauses.append("no translation")
        if respected("time reversal"):
            clauses.append("time reversal")
        if respected("scale"):
            if "no translation" in clauses:
                notes.append("scale respected, but the language has no 'scale N' with 'no translation': left out")
            else:
                clauses.append("scale 3")
    elif domain == "set":
        count, channels = shape
        if verdicts.get("permutation") == BROKEN:
            head = f"sequence {channels}x{count}"
            clauses.append("no translation")
            notes.append("the order of the elements matters, so this is a sequence: feed x.transpose(1, 2), "
                         f"(B, {channels}, {count})")
        else:
            head = f"set {_shape_text(shape)}"
    else:
        count, dim = shape
        head = f"point cloud {_shape_text(shape)}"
        rotations, mirrors, shifts = respected("rotations"), respected("mirrors"), respected("translations")
        if rotations:
            clauses.append(f"{'E' if mirrors else 'SE'}({dim})" if shifts else f"{'O' if mirrors else 'SO'}({dim})")
        elif shifts:
            clauses.append("translation")
        if mirrors and not rotations:
            notes.append("mirrors respected without rotations: the language has no mirror-only group for points")
        if verdicts.get("permutation") == BROKEN:
            notes.append("the order of the points matters, which point clouds never assume: check the data")
    return "; ".join([head, *clauses, output]), notes
