"""The CAP package's exception hierarchy. Messages say what, where and why, for a duty officer."""

from __future__ import annotations


class CapError(Exception):
    """Base of every error raised by :mod:`cap`."""


class CapInputError(CapError):
    """The input could not be read at all (missing file, unreachable URL, over the size limit)."""


class CapParseError(CapError):
    """The bytes are not a safe, well-formed XML document we accept.

    ``reason`` is a stable code (e.g. ``xml.doctype``), ``line``/``column`` point into the input
    when known.
    """

    def __init__(
        self, message: str, *, reason: str, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.line = line
        self.column = column


class NotCapError(CapParseError):
    """Well-formed XML, but not a CAP alert, feed or EDXL-DE distribution we know."""


class CapModelError(CapError):
    """A model value was asked for something it does not hold (e.g. identity without ``sent``)."""


class CapFormatError(CapError):
    """A CAP value (time, polygon, circle, references) does not have the required syntax."""


class CapAuthoringError(CapError):
    """An alert description, template or reference given to the authoring tools is unusable."""


class CapProfileError(CapError):
    """An unknown profile name was asked for."""
