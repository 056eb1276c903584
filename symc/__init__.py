"""symc: a declarative symmetry-to-architecture compiler for PyTorch.

    import symc
    c = symc.compile("image 1x28x28; p4; invariant output 10 classes")
    c.module, c.source, c.plan, c.spec

Importing symc is light: torch is imported only when a module is built or checked.
"""
from .version import __version__  # noqa: E402

from .spec import Spec, SpecError, parse  # noqa: E402  (torch-free)
from .api import Compiled, compile, plan  # noqa: E402  (torch-free)

__all__ = ["compile", "plan", "parse", "check", "assert_equivariant", "canonicalize", "discover", "Spec",
           "SpecError", "Compiled", "__version__"]


def check(module, spec, **options):
    """Test `module` against the symmetry of `spec` (text, Path or Spec); returns a Report. See symc.testing."""
    from .testing import check as run_check
    return run_check(module, spec, **options)


def assert_equivariant(module, spec, **options):
    """Raise AssertionError carrying the report when `module` is not equivariant as `spec` declares."""
    from .testing import assert_equivariant as run_assert
    return run_assert(module, spec, **options)


def canonicalize(backbone, spec, **options):
    """Wrap any torch module with a learned canonicalizer compiled from `spec`; see symc.api.canonicalize."""
    from .api import canonicalize as wrap
    return wrap(backbone, spec, **options)


def discover(x, y, domain, **options):
    """Which candidate symmetries of `domain` the labels y of inputs x respect, and a suggested spec. See
    symc.discovery."""
    from .discovery import discover as run_discover
    return run_discover(x, y, domain, **options)
