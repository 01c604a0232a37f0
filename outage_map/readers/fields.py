"""Parsing one field of one row: numbers, times, statuses, causes, technologies.

Each parser takes the text as written and returns the value, or raises ``FieldError`` whose
reason completes the sentence "<value> ..." (e.g. "is not a number"), so a reader can say
which file, line and field it came from."""

from __future__ import annotations

import math
import re
from datetime import datetime, tzinfo
from decimal import Decimal

from outage_map.errors import ReportError
from outage_map.model import Cause, Status, Technology


class FieldError(ReportError):
    """One field of one row cannot be read; ``reason`` says why and how to write it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d+")
_HAS_TIME = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}")

STATUS_WORDS: dict[str, Status] = {
    "up": Status.UP,
    "ok": Status.UP,
    "in service": Status.UP,
    "degraded": Status.DEGRADED,
    "partial": Status.DEGRADED,
    "down": Status.DOWN,
    "out": Status.DOWN,
    "out of service": Status.DOWN,
    "unknown": Status.UNKNOWN,
}

CAUSE_WORDS: dict[str, Cause] = {
    "damage": Cause.DAMAGE,
    "power": Cause.POWER,
    "transport": Cause.TRANSPORT,
    "backhaul": Cause.TRANSPORT,
    "other": Cause.OTHER,
}

TECHNOLOGY_WORDS: dict[str, Technology] = {
    **{t.value: t for t in Technology},
    "2g": Technology.GSM,
    "3g": Technology.UMTS,
    "wcdma": Technology.UMTS,
    "4g": Technology.LTE,
    "5g": Technology.NR,
}

_TECH_SEPARATORS = re.compile(r"[;|/+,\s]+")


def check_received_at(received_at: datetime) -> None:
    """Readers stamp every report with the caller's ingestion instant, which must be aware."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ReportError(f"received_at {received_at.isoformat()} has no time zone")


def parse_number(text: str) -> float:
    """A plain decimal number: ``12``, ``-3.5``, ``1e3``. No thousands separators, no decimal
    commas, no ``nan``/``inf``: those are how spreadsheets silently corrupt figures."""
    value = text.strip()
    if not value:
        raise FieldError("is empty; a number is required")
    if not _NUMBER.fullmatch(value):
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", value):
            raise FieldError("is not a number: write it without thousands separators")
        if re.fullmatch(r"[+-]?\d+,\d+", value):
            raise FieldError("is not a number: write the decimal point as '.'")
        raise FieldError("is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise FieldError("is too large to be a number")
    return number


def parse_count(text: str) -> int:
    """A whole number 0 or more (identifiers and counts)."""
    value = text.strip()
    if not value:
        raise FieldError("is empty; a whole number is required")
    if not _INTEGER.fullmatch(value):
        raise FieldError("is not a whole number 0 or more")
    return int(value)


def parse_percent(text: str) -> float:
    """A percentage, 0 to 100."""
    number = parse_number(text)
    if not 0.0 <= number <= 100.0:
        raise FieldError("is not a percentage between 0 and 100")
    return number


def parse_lon(text: str) -> float:
    lon = parse_number(text)
    if not -180.0 <= lon <= 180.0:
        raise FieldError("is not a longitude between -180 and 180")
    return lon


def parse_lat(text: str) -> float:
    lat = parse_number(text)
    if not -90.0 <= lat <= 90.0:
        raise FieldError("is not a latitude between -90 and 90")
    return lat


def parse_time(text: str, default_tz: tzinfo | None = None) -> datetime:
    """An ISO 8601 date and time, e.g. ``2024-10-01T09:00:00-04:00`` or ``...Z``. A time
    without an offset takes ``default_tz`` when given (a file's documented zone), else it is
    refused: a time that could be any zone would shift every merge by hours."""
    value = text.strip()
    if not value:
        raise FieldError("is empty; write a time like 2024-10-01T09:00:00-04:00")
    if not _HAS_TIME.match(value):
        raise FieldError(
            "is not a date and time; write it as ISO 8601, like 2024-10-01T09:00:00-04:00"
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(
            "is not a date and time; write it as ISO 8601, like 2024-10-01T09:00:00-04:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if default_tz is None:
            raise FieldError("has no time zone; add an offset such as -04:00, or Z for UTC")
        moment = moment.replace(tzinfo=default_tz)
    return moment


def _words(text: str) -> str:
    return " ".join(text.strip().casefold().replace("_", " ").replace("-", " ").split())


def parse_status(text: str) -> Status:
    status = STATUS_WORDS.get(_words(text))
    if status is None:
        if not text.strip():
            raise FieldError("is empty; write up, degraded, down or unknown")
        raise FieldError("is not a status; write up, degraded, down or unknown")
    return status


def parse_cause(text: str) -> Cause | None:
    """Empty means the cause is not known."""
    if not text.strip():
        return None
    cause = CAUSE_WORDS.get(_words(text))
    if cause is None:
        raise FieldError("is not a cause; write damage, power, transport or other (or nothing)")
    return cause


def parse_technologies(text: str) -> frozenset[Technology]:
    """``gsm;lte`` (also ``|``, ``/``, ``+``, spaces). Empty or ``all`` means every one."""
    words = [w for w in _TECH_SEPARATORS.split(text.strip().casefold()) if w]
    if words == ["all"]:
        return frozenset()
    found: set[Technology] = set()
    for word in words:
        technology = TECHNOLOGY_WORDS.get(word)
        if technology is None:
            raise FieldError(
                f"names {word!r}, not a radio technology; write gsm, umts, cdma, lte or nr, "
                "separated by ';'"
            )
        found.add(technology)
    return frozenset(found)


def share_from_percent(percent: float, *, percent_is_up: bool = False) -> float:
    """A share 0-1 from a percentage, in decimal arithmetic so that 4.1 % is 0.041 exactly as
    written (not 0.040999...). ``percent_is_up``: the figure is of service up, not out."""
    value = Decimal(repr(percent))
    return float((100 - value if percent_is_up else value) / 100)


def status_for_share_out(share_out: float) -> Status:
    """An area's status from the share of its sites out: none out is up, all out is down,
    anything between is degraded (the share itself carries how badly)."""
    if share_out <= 0.0:
        return Status.UP
    if share_out >= 1.0:
        return Status.DOWN
    return Status.DEGRADED


class RowError(FieldError):
    """A field of a row is bad: which field (as the file spells it), its text, and why."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = value
