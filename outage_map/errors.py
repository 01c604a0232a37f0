"""The outage map's errors: each says what is wrong, where (file, row, field) and why."""

from __future__ import annotations


class OutageError(Exception):
    """Base of every outage-map error."""


class ReportError(OutageError, ValueError):
    """A report, site or area that cannot be what it claims (bad coordinate, bad share)."""


class ReaderError(OutageError):
    """A whole input file cannot be read (missing, wrong format, no usable header)."""


class OutageConfigError(OutageError):
    """The ``[outage]`` configuration is wrong; the message names the key."""


class OutageStoreError(OutageError):
    """The report store cannot be opened or written."""
