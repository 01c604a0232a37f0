"""The dispatch package's exception hierarchy."""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every error raised by :mod:`dispatch`."""


class StoreError(DispatchError):
    """The outbox database cannot be opened, read or written."""


class SubmissionError(DispatchError):
    """An alert was not accepted (invalid, unreadable); nothing was stored."""


class AuditError(DispatchError):
    """An audit event cannot be recorded (naive time, detail not JSON, broken chain head)."""


class InvalidTransition(DispatchError):  # noqa: N818 - the name the dispatch API promises
    """A delivery was asked to move to a state it cannot reach from where it is."""


class PolicyError(DispatchError, ValueError):
    """A retry or rate-limit setting is out of range; the message names the setting."""


class ConfigurationError(DispatchError):
    """The dispatch sections of the configuration file ([store], [channels.*], [intake]) are
    wrong; the message names the table and key, what is wrong and how to fix it."""
