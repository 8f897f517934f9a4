"""The one error type of the pipeline: a report that cannot be used, with the file and the reason."""

from __future__ import annotations


class ReportError(Exception):
    """A report file that cannot be loaded. Carries the file name and a one-line reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
