"""Review (layer 3): a researcher's corrections (corrections.csv: reject, set, add, confirm),
applied after every extraction, and review flags (weak place or year, conflicting values,
implausible values, contradicted signs) with the review queue. Between extraction and the
comparisons: everything after it reads the reviewed facts table.

    >>> import envcompare
    >>> facts = envcompare.extract("seeds")          # = envcompare.review.extract
"""

from .corrections import (
    CORRECTION_COLUMNS,
    REVIEW_COLUMNS,
    Correction,
    CorrectionError,
    StaleCorrection,
    apply_corrections,
    correction_line,
    parse_corrections,
    read_corrections,
)
from .flags import FLAGS, QUEUE_COLUMNS, flag_codes, flag_facts, review_queue
from .table import (
    REVIEWED_COLUMNS,
    REVIEWED_UNMAPPED_COLUMNS,
    Reviewed,
    StaleCorrectionError,
    StaleCorrectionWarning,
    extract,
    resolve_corrections,
    review,
    review_facts,
)

__all__ = [
    "CORRECTION_COLUMNS",
    "FLAGS",
    "QUEUE_COLUMNS",
    "REVIEWED_COLUMNS",
    "REVIEWED_UNMAPPED_COLUMNS",
    "REVIEW_COLUMNS",
    "Correction",
    "CorrectionError",
    "Reviewed",
    "StaleCorrection",
    "StaleCorrectionError",
    "StaleCorrectionWarning",
    "apply_corrections",
    "correction_line",
    "extract",
    "flag_codes",
    "flag_facts",
    "parse_corrections",
    "read_corrections",
    "resolve_corrections",
    "review",
    "review_facts",
    "review_queue",
]
