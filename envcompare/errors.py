"""The errors a user sees as one line: a report that cannot be used (with the file and the
reason), a damaged data file, and what stops a run (the cache, the build folder, Dask). Free of
heavy imports: the command line catches them before pandas is loaded."""

from __future__ import annotations


class ReportError(Exception):
    """A report file that cannot be loaded. Carries the file name and a one-line reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class DataFileError(Exception):
    """A file of the data folder (the engine's vocabulary) that cannot be read: an installation
    problem, not a problem of any report. One line: cannot read <path>: <reason>."""

    def __init__(self, path, reason: str):
        super().__init__(str(path), reason)  # both in args: the error crosses process boundaries
        self.path = str(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"cannot read {self.path}: {self.reason}"


class DataSchemaError(DataFileError):
    """A data file that does not fit its declared schema (envcompare/vocab/schema.py): an unknown
    or missing key, a value of the wrong type. One line: <path>: <key path>: <what is wrong>."""

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class RunError(Exception):
    """The run cannot go on (an unreachable Dask scheduler, no workers): one line for the user."""


class CacheError(Exception):
    """The cache folder cannot be used (one line for the user; --no-cache runs without it)."""


class CacheBusy(CacheError):
    """Another process holds the cache database for longer than the busy timeout."""


class BuildError(Exception):
    """The build cannot write into its folder (a file in the way, another build running): one
    line for the user."""


class UsageError(Exception):
    """A problem with what the command was asked to do: one line to stderr, exit status 2."""
