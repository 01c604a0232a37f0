"""Instants and intervals as people and OGC clients write them, for ``--at`` and ``datetime``.

An instant is ISO 8601 / RFC 3339 with an offset (``2017-10-20T12:00-04:00``, ``...Z``),
``now``, or a date alone. A date alone means the end of that day in UTC (``2017-10-20`` is
``2017-10-20T23:59:59Z``): "as of that day" then counts every report of the day, which is
what people mean when they ask about a date. An interval is ``START/END`` with ``..`` (or
nothing) for an open end, as OGC API - Features writes it. Pure: ``now`` is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final

from outage_map.errors import OutageError

__all__ = ["InstantError", "Interval", "format_instant", "parse_instant", "parse_interval"]

_DATE_ONLY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_END_OF_DAY: Final = time(23, 59, 59)


class InstantError(OutageError, ValueError):
    """A time that cannot be read; the message shows how to write one."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed interval; ``None`` is an open end."""

    start: datetime | None
    end: datetime | None

    def contains(self, at: datetime) -> bool:
        return (self.start is None or self.start <= at) and (self.end is None or at <= self.end)


def parse_instant(text: str, *, now: datetime, what: str = "time") -> datetime:
    """An aware UTC datetime from ISO 8601 with an offset, ``now``, or a date (end of day UTC)."""
    value = text.strip()
    if value.lower() == "now":
        return now.astimezone(UTC)
    if _DATE_ONLY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InstantError(f"{what} {text!r} is not a calendar date") from None
        return datetime.combine(day, _END_OF_DAY, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InstantError(
            f"{what} {text!r} is not a time; write ISO 8601 with an offset, e.g. "
            "2017-10-20T12:00-04:00 or 2017-10-20T16:00Z, a date (2017-10-20: as of its end, "
            "UTC), or 'now'"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InstantError(
            f"{what} {text!r} has no offset; add one (e.g. Z or -04:00) so that it names one "
            "instant"
        )
    return parsed.astimezone(UTC)


def parse_interval(text: str, *, now: datetime, what: str = "datetime") -> Interval:
    """``START/END`` (either end ``..`` or empty for open) or a single instant (a closed
    interval of one instant; a date alone is then the whole day)."""
    value = text.strip()
    if "/" not in value:
        if _DATE_ONLY.fullmatch(value):
            day_end = parse_instant(value, now=now, what=what)
            return Interval(day_end.replace(hour=0, minute=0, second=0, microsecond=0), day_end)
        instant = parse_instant(value, now=now, what=what)
        return Interval(instant, instant)
    first, _, second = value.partition("/")
    start = _end(first, now, what, start=True)
    end = _end(second, now, what, start=False)
    if start is None and end is None:
        raise InstantError(f"{what} {text!r}: at least one end of an interval must be given")
    if start is not None and end is not None and start > end:
        raise InstantError(f"{what} {text!r}: the interval ends before it starts")
    return Interval(start, end)


def _end(text: str, now: datetime, what: str, *, start: bool) -> datetime | None:
    value = text.strip()
    if value in ("", ".."):
        return None
    at = parse_instant(value, now=now, what=what)
    if start and _DATE_ONLY.fullmatch(value):
        return at.replace(hour=0, minute=0, second=0, microsecond=0)  # the start of that day
    return at


def format_instant(at: datetime | None) -> str | None:
    """RFC 3339 in UTC with ``Z`` (seconds, or microseconds when there are any)."""
    if at is None:
        return None
    utc = at.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
