"""CAP date-time values: ``YYYY-MM-DDThh:mm:ss`` plus a mandatory ``+hh:mm``/``-hh:mm`` offset.

CAP 1.2 (section 3.3.2) forbids the alphabetic designator ``Z`` and writes UTC as ``-00:00``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from cap.errors import CapFormatError

CAP_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([-+])(\d{2}):(\d{2})$"
)
# What XML Schema's xs:dateTime admits, which CAP 1.0/1.1 documents sometimes use.
_LENIENT_RE = re.compile(
    r"^\s*(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[-+]\d{2}:\d{2})?\s*$"
)


def parse_cap_datetime(text: str) -> datetime:
    """Parse a strictly CAP-formatted date-time into an aware ``datetime``.

    Raises :class:`CapFormatError` naming what is wrong (fraction, ``Z``, missing offset...).
    """
    m = CAP_DATETIME_RE.match(text)
    if m is None:
        raise CapFormatError(describe_datetime_problem(text))
    return _build(m.group(1, 2, 3, 4, 5, 6), m.group(7), m.group(8), m.group(9), text)


def parse_lenient_datetime(text: str) -> datetime | None:
    """Parse any xs:dateTime that carries a zone; ``None`` when that is impossible.

    Used to build the model from imperfect documents; the validator reports the format issue.
    """
    m = _LENIENT_RE.match(text)
    if m is None or m.group(8) is None:
        return None
    zone = m.group(8)
    fraction = m.group(7)
    try:
        if zone == "Z":
            value = _build(m.group(1, 2, 3, 4, 5, 6), "-", "00", "00", text)
        else:
            value = _build(m.group(1, 2, 3, 4, 5, 6), zone[0], zone[1:3], zone[4:6], text)
    except CapFormatError:
        return None
    if fraction:
        value = value.replace(microsecond=int((fraction[1:] + "000000")[:6]))
    return value


_ZONES: dict[tuple[str, int], timezone] = {}


def _zone(sign: str, minutes: int) -> timezone:
    zone = _ZONES.get((sign, minutes))
    if zone is None:
        zone = timezone(timedelta(minutes=minutes if sign == "+" else -minutes))
        _ZONES[(sign, minutes)] = zone
    return zone


def _build(fields: tuple[str, ...], sign: str, hours: str, minutes: str, text: str) -> datetime:
    h, m = int(hours), int(minutes)
    if h > 14 or m > 59 or h * 60 + m > 14 * 60:
        raise CapFormatError(f"{text!r}: time zone offset {sign}{hours}:{minutes} is out of range")
    year, month, day, hour, minute, second = fields
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=_zone(sign, h * 60 + m),
        )
    except ValueError as exc:
        raise CapFormatError(f"{text!r} is not a real date and time: {exc}") from None


def describe_datetime_problem(text: str) -> str:
    """Explain why ``text`` is not a CAP date-time, in words an operator can act on."""
    stripped = text.strip()
    if stripped != text:
        return f"{text!r} has surrounding white space; write the date-time alone"
    if not stripped:
        return "the date-time is empty"
    if stripped.endswith(("Z", "z")):
        return (
            f"{text!r} uses the 'Z' designator, which CAP forbids; "
            "write UTC as '-00:00' (e.g. 2024-05-01T12:00:00-00:00)"
        )
    m = _LENIENT_RE.match(stripped)
    if m is not None:
        if m.group(7):
            return f"{text!r} has fractional seconds, which CAP does not allow"
        if m.group(8) is None:
            return f"{text!r} has no time zone offset; CAP requires one such as '-05:00'"
        return f"{text!r} is not a valid CAP date-time"
    return (
        f"{text!r} is not a CAP date-time; the form is YYYY-MM-DDThh:mm:ss+hh:mm "
        "(e.g. 2024-05-01T14:30:00-05:00)"
    )


def format_cap_datetime(value: datetime) -> str:
    """Write an aware ``datetime`` in CAP form; UTC is written ``-00:00`` as CAP requires."""
    offset = value.utcoffset()
    if offset is None:
        raise CapFormatError(f"{value.isoformat()} has no time zone; CAP times need an offset")
    total = int(offset.total_seconds()) // 60
    if offset.total_seconds() % 60:
        raise CapFormatError(f"{value.isoformat()}: CAP offsets are whole minutes")
    sign = "-" if total <= 0 else "+"
    total = abs(total)
    stamp = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    return f"{stamp}{sign}{total // 60:02d}:{total % 60:02d}"
