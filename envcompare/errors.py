"""The one error type of the pipeline: a report that cannot be used, with the file and the reason."""

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
