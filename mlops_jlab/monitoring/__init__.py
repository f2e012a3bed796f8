"""Monitoring: data drift of a current window against a reference.

``drift_report(reference, current)`` is the one call; see :mod:`.drift` for the tests
chosen per column and :mod:`.window` for how a streamed window is summarised.
"""

from .drift import (
    DEFAULT_THRESHOLDS,
    DriftAccumulator,
    default_test,
    drift_report,
    drift_report_stream,
    resolve_tests,
)
from .reference import ColumnReference, DriftReference
from .report import ColumnDrift, DriftReport

__all__ = [
    "DEFAULT_THRESHOLDS",
    "ColumnDrift",
    "ColumnReference",
    "DriftAccumulator",
    "DriftReference",
    "DriftReport",
    "default_test",
    "drift_report",
    "drift_report_stream",
    "resolve_tests",
]
