"""The dispatch package's exception hierarchy."""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every error raised by :mod:`dispatch`."""


class StoreError(DispatchError):
    """The outbox database cannot be opened, read or written."""


class SubmissionError(DispatchError):
    """An alert was not accepted (invalid, unreadable); nothing was stored."""
