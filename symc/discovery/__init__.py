"""`symc discover` and `symc.discover`: which symmetry does my data have? Measures which candidate actions of a
domain the labels respect and suggests a spec (docs/spec-language.md §2 and §3). Importing this package does not
import torch."""
from .data import DOMAINS, DataError, domain_word, load_npz, prepare
from .report import Discovery, Finding
from .run import DEFAULT_MAX_SAMPLES, DEFAULT_STEPS, DEFAULT_TIME_LIMIT, discover
from .verdict import (
    BROKEN, BROKEN_DROP, BROKEN_ERROR_RATIO, BROKEN_KEPT, CLEAR_COST, CLEAR_Z, MIN_RELATED, MIN_SKILL, RESPECTED,
    RESPECTED_KEPT, UNCLEAR,
)

__all__ = ["discover", "Discovery", "Finding", "DataError", "load_npz", "prepare", "domain_word", "DOMAINS",
           "RESPECTED", "BROKEN", "UNCLEAR", "RESPECTED_KEPT", "BROKEN_KEPT",
           "CLEAR_COST", "CLEAR_Z", "BROKEN_ERROR_RATIO", "BROKEN_DROP", "MIN_RELATED", "MIN_SKILL",
           "DEFAULT_STEPS", "DEFAULT_MAX_SAMPLES", "DEFAULT_TIME_LIMIT"]
