"""What a run may use: the engines that map documents, the cores, and the time one document may
take. Read by the command line's options before anything heavy is imported."""

import os

ENGINES = ("processes", "dask")
DOC_TIMEOUT = 60.0  # seconds one document may take in a worker (None or 0: no limit)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
