"""The library's version: one place, importable by every stage without importing the package."""

__version__ = "0.1.0"
