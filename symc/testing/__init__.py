"""The equivariance tester: judge any torch module against a spec (`check`, `assert_equivariant`)."""
from .check import APPROX_TOLERANCE, APPROX_TOLERANCE_GROUP_AXIS, EXACT_TOLERANCE, assert_equivariant, check
from .loading import load_model_file
from .report import Report, Row

__all__ = ["check", "assert_equivariant", "Report", "Row", "load_model_file",
           "EXACT_TOLERANCE", "APPROX_TOLERANCE", "APPROX_TOLERANCE_GROUP_AXIS"]
