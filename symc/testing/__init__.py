"""The equivariance tester: judge any torch module against a spec (`check`, `assert_equivariant`)."""
from .check import assert_equivariant, check
from .common import EXACT_TOLERANCE
from .image import APPROX_TOLERANCE, APPROX_TOLERANCE_GROUP_AXIS
from .loading import load_model_file
from .report import Report, Row

__all__ = ["check", "assert_equivariant", "Report", "Row", "load_model_file",
           "EXACT_TOLERANCE", "APPROX_TOLERANCE", "APPROX_TOLERANCE_GROUP_AXIS"]
