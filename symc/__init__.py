"""symc: a declarative symmetry-to-architecture compiler for PyTorch."""
__version__ = "0.1.0"
