"""The autoscaler's errors: one base class, translated into one clear line at the CLI boundary.

What belongs here: the exception hierarchy only. Subclasses that describe bad input also derive
from :class:`ValueError`, so library users get the statsmodels convention (exact ``ValueError`` s
for invalid arguments) and the command line can catch :class:`AutoscalerError` alone.
"""

from __future__ import annotations


class AutoscalerError(Exception):
    """Base class of every error the autoscaler raises on purpose."""


class TraceError(AutoscalerError, ValueError):
    """A trace file cannot be used: missing, wrong columns, unsorted or duplicate timestamps."""


class SeriesError(AutoscalerError, ValueError):
    """A series or a model option is invalid for the requested operation."""


class WindowError(AutoscalerError, ValueError):
    """A backtest window is empty or has too little history before it."""


class MetricsSourceError(AutoscalerError):
    """The metrics source (Prometheus) could not be queried or returned unusable data."""


class EventsError(AutoscalerError, ValueError):
    """A list of known events (a file or ``spec.events``) is malformed."""
