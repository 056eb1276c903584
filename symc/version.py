"""The version of symc, in one place (generated files name it in their header)."""
__version__ = "0.1.0"
