"""CAP alerts as APRS bulletins and NWS-style messages in AX.25 UI frames, pure.

Formats (APRS Protocol Reference 1.0.1, chapter 14, "Messages, Bulletins and Announcements"):

- a message is ``:ADDRESSEE:text`` with the addressee padded with spaces to 9 characters, text
  of at most 67 printable ASCII characters without ``|``, ``~`` or ``{`` (``{`` starts the
  optional message identifier, 1-5 alphanumerics);
- a bulletin goes to ``BLNn`` (n = 0-9), an announcement to ``BLNA``-``BLNZ``, a group bulletin
  to ``BLNn`` plus a group name of up to 5 characters (``BLN4WX``). Receivers keep one bulletin
  per source station, identifier and group, so sending a line again with the same addressee
  replaces it: that is how a cancellation takes the alert's lines off every screen;
- NWS bulletins go to ``NWS-WARN``, ``NWS-WATCH``, ``NWS-ADVIS`` or ``NWS-CANCL``. Their text
  follows the convention of the NWS weather servers on APRS-IS (WXSVR by KG5QD, now run by
  AE5PL, documented at aprs-is.net/WX and in the APRS 1.0.1 example
  ``:NWS-WARN :092010z,THUNDER_STORM,AR_ASHLEY,{S9JbA``): expiry ``DDHHMMz`` (UTC), event,
  then comma-separated NWS zone or county codes (``TXZ103``, ``TXC439``), and a 5-character
  identifier whose first three characters are the issue day, hour and minute in base 60
  (0-9, A-Z, a-x). Xastir, UI-NWS and APRSIS32 read this format.

Text is made APRS-safe here: accents are dropped (``é`` -> ``e``), typographic quotes and dashes
become ASCII, the forbidden characters are replaced (``|`` -> ``/``, ``~`` -> ``-``, ``{`` ->
``(`` and ``}`` -> ``)``, the last because ``}`` starts a reply-ack in APRS 1.1), and an info
block whose text is mostly not Latin script is refused: APRS radios display only ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cap.model import Alert, Info
from gateways.base import CannotCarryError
from gateways.radio.ax25 import Ax25Address, Ax25Frame

APRS_TOCALL: Final = Ax25Address("APZTOC")  # APZxxx: experimental software (APRS tocall list)
DEFAULT_PATH: Final = (Ax25Address("WIDE2", 2),)  # a fixed station: two hops, no WIDE1-1
MESSAGE_TEXT_MAX: Final = 67
ADDRESSEE_WIDTH: Final = 9
MAX_BULLETIN_LINES: Final = 9  # BLN1 .. BLN9
DEFAULT_BULLETIN_LINES: Final = 5
FORBIDDEN: Final = "|~{"
CANCELLED_FILLER: Final = "(cancelled)"
ELLIPSIS: Final = "..."

_ADDRESSEE = re.compile(r"[!-9;-z]{1,9}")  # printable ASCII without ':' and '{|}~'
_MESSAGE_ID = re.compile(r"[A-Za-z0-9]{1,5}")
_GROUP = re.compile(r"[A-Z0-9]{0,5}")
_UGC = re.compile(r"[A-Z]{2}[CZ]\d{3}")
_FIPS6 = re.compile(r"\d{6}")
_BASE60: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
_MOSTLY_UNREADABLE: Final = 0.1  # refuse text with more than this share of '?' after folding

# Characters NFKD does not fold to ASCII but that have an obvious ASCII spelling.
_SPELLINGS: Final = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00b0": " deg ", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe",
    "\u0152": "OE", "\u00f8": "o", "\u00d8": "O", "\u0111": "d", "\u0110": "D", "\u0142": "l",
    "\u0141": "L", "\u00fe": "th", "\u00de": "TH", "\u00f0": "d", "\u00d0": "D", "\u0131": "i",
    "|": "/", "~": "-", "{": "(", "}": ")",
}  # fmt: skip

# US state and territory FIPS codes -> USPS abbreviations, to turn SAME/FIPS6 county codes
# (PSSCCC) into NWS county UGCs (SSCnnn). Source: FIPS PUB 5-2 / the NWS county-UGC table.
_STATE_BY_FIPS: Final = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}  # fmt: skip

_NWS_BY_SIGNIFICANCE: Final = {"W": "WARN", "A": "WATCH", "Y": "ADVIS", "S": "ADVIS"}
_EVENT_SUFFIXES: Final = ("WARNING", "WATCH", "ADVISORY", "STATEMENT", "ALERT", "EMERGENCY")
# not strftime("%b"): that depends on the locale
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_STATUS_WORDS: Final = {"Test": "TEST", "Exercise": "EXERCISE", "System": "SYSTEM"}
_MSG_TYPE_WORDS: Final = {"Update": "UPDATE", "Cancel": "CANCELLED"}


class AprsError(ValueError):
    """An APRS field that cannot be built as asked (says which and why)."""


class AprsCannotCarryError(AprsError, CannotCarryError):
    """The alert cannot go out over APRS (no text, no Latin script, no zones for NWS...)."""


@dataclass(frozen=True, slots=True)
class AprsMessage:
    """A message, bulletin or announcement: the information field ``:ADDRESSEE:text{id``."""

    addressee: str
    text: str
    message_id: str | None = None

    def __post_init__(self) -> None:
        if not _ADDRESSEE.fullmatch(self.addressee.rstrip(" ")):
            raise AprsError(
                f"APRS addressee {self.addressee!r} is not valid: 1 to 9 printable ASCII "
                "characters without ':', '{', '|', '}' or '~'"
            )
        if len(self.text) > MESSAGE_TEXT_MAX:
            raise AprsError(
                f"APRS message text to {self.addressee.strip()} is {len(self.text)} characters; "
                f"the limit is {MESSAGE_TEXT_MAX} (split it with split_text)"
            )
        bad = [c for c in self.text if not " " <= c <= "~" or c in FORBIDDEN]
        if bad:
            raise AprsError(
                f"APRS message text to {self.addressee.strip()} contains {bad[0]!r}; only "
                f"printable ASCII without {' '.join(FORBIDDEN)} is allowed (use aprs_safe_text)"
            )
        if self.message_id is not None and not _MESSAGE_ID.fullmatch(self.message_id):
            raise AprsError(
                f"APRS message identifier {self.message_id!r} must be 1 to 5 letters or digits"
            )

    def info(self) -> bytes:
        tail = "" if self.message_id is None else "{" + self.message_id
        text = f":{self.addressee.strip().ljust(ADDRESSEE_WIDTH)}:{self.text}{tail}"
        return text.encode("ascii")

    @classmethod
    def parse(cls, info: bytes) -> AprsMessage:
        """The message in an information field (the inverse of :meth:`info`)."""
        text = info.decode("ascii", errors="replace")
        if len(text) < ADDRESSEE_WIDTH + 2 or text[0] != ":" or text[ADDRESSEE_WIDTH + 1] != ":":
            raise AprsError(
                f"{text[:20]!r}... is not an APRS message: expected ':' + 9-character addressee "
                "+ ':'"
            )
        body = text[ADDRESSEE_WIDTH + 2 :]
        body, brace, message_id = body.partition("{")
        return cls(text[1 : ADDRESSEE_WIDTH + 1].rstrip(" "), body, message_id if brace else None)


def bulletin_addressee(line: int, group: str = "") -> str:
    """``BLN1``... or, for a group, ``BLN1WX``: line 0-9 of the bulletin."""
    if not 0 <= line <= 9:
        raise AprsError(f"bulletin line {line} is out of range: APRS bulletins are BLN0 to BLN9")
    if not _GROUP.fullmatch(group):
        raise AprsError(
            f"bulletin group {group!r} is not valid: up to 5 upper-case letters or digits "
            "(e.g. WX, ARES)"
        )
    return f"BLN{line}{group}"


def announcement_addressee(letter: str) -> str:
    """``BLNA`` to ``BLNZ``."""
    if len(letter) != 1 or not "A" <= letter <= "Z":
        raise AprsError(f"announcement identifier {letter!r} must be one letter A to Z")
    return f"BLN{letter}"


def fold_text(text: str) -> tuple[str, int]:
    """``text`` as APRS-safe ASCII on one line, and how many characters became ``?``."""
    out: list[str] = []
    unreadable = 0
    for char in text:
        if char in _SPELLINGS:
            out.append(_SPELLINGS[char])
            continue
        if char.isspace() or unicodedata.category(char) == "Cc":
            out.append(" ")
            continue
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        folded = "".join(_SPELLINGS.get(c, c) for c in folded)
        if folded and all(" " <= c <= "~" for c in folded):
            out.append(folded)
        else:
            out.append("?")
            unreadable += 1
    return " ".join("".join(out).split()), unreadable


def aprs_safe_text(text: str) -> str:
    """:func:`fold_text` without the count."""
    return fold_text(text)[0]


def split_text(text: str, width: int = MESSAGE_TEXT_MAX, max_parts: int | None = None) -> list[str]:
    """``text`` (whitespace collapsed) cut at spaces into parts of at most ``width``
    characters; a word longer than ``width`` is cut inside. With ``max_parts``, what does not
    fit is dropped and the last part ends with ``...``."""
    if width < len(ELLIPSIS) + 1:
        raise AprsError(f"part width {width} is too small")
    if max_parts is not None and max_parts < 1:
        raise AprsError(f"max_parts must be at least 1, got {max_parts}")
    parts: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = f"{current} {word}"
        else:
            parts.append(current)
            current = word
    if current:
        parts.append(current)
    if max_parts is None or len(parts) <= max_parts:
        return parts
    kept = parts[:max_parts]
    last = kept[-1]
    while len(last) + len(ELLIPSIS) > width:
        cut = last.rfind(" ", 0, width - len(ELLIPSIS) + 1)
        last = last[:cut] if cut > 0 else last[: width - len(ELLIPSIS)]
    kept[-1] = last.rstrip() + ELLIPSIS
    return kept


def _info_of(alert: Alert, info_index: int) -> Info:
    if not alert.infos:
        raise AprsCannotCarryError(
            f"alert {alert.identifier!r} has no <info> block, so there is no text for APRS"
            + (
                "; for a Cancel, build the cancellation from the cancelled alert "
                "(aprs_cancellation_for)"
                if alert.msg_type == "Cancel"
                else ""
            )
        )
    if not 0 <= info_index < len(alert.infos):
        raise AprsCannotCarryError(
            f"alert {alert.identifier!r} has {len(alert.infos)} <info> blocks; there is no "
            f"info_index {info_index}"
        )
    return alert.infos[info_index]


def _sentence(text: str | None) -> str:
    text = " ".join((text or "").split())
    if not text:
        return ""
    return text if text[-1] in ".!?" else text + "."


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _areas(info: Info) -> str:
    names = [" ".join(area.area_desc.split()) for area in info.areas if area.area_desc.strip()]
    return "; ".join(names)


def _prefix(alert: Alert, headline: str) -> str:
    words = []
    if alert.status in _STATUS_WORDS:
        words.append(_STATUS_WORDS[alert.status])
    kind = _MSG_TYPE_WORDS.get(alert.msg_type)
    if kind is not None and not headline.upper().startswith(kind):
        words.append(kind)
    return (" ".join(words) + ": ") if words else ""


def bulletin_text(alert: Alert, info_index: int = 0) -> str:
    """The whole text the bulletin lines carry, most important first: what, where, until
    when, what to do, then the description."""
    info = _info_of(alert, info_index)
    headline = " ".join((info.headline or info.event).split())
    if not headline:
        raise AprsCannotCarryError(
            f"info block {info_index} of alert {alert.identifier!r} has neither <headline> nor "
            "<event>; there is nothing to announce"
        )
    parts = [_prefix(alert, headline) + _sentence(headline)]
    areas = _areas(info)
    if areas:
        parts.append(_sentence(f"Area: {areas}"))
    if info.expires is not None:
        until = _utc(info.expires)
        # two tokens at most, so a line break cannot separate a day from its month
        parts.append(f"Until {until.day:02d}{_MONTHS[until.month - 1]} {until:%H:%M}Z.")
    parts.extend(_sentence(text) for text in (info.instruction, info.description))
    return _checked_fold(" ".join(p for p in parts if p), alert, info, info_index)


def _checked_fold(text: str, alert: Alert, info: Info, info_index: int) -> str:
    folded, unreadable = fold_text(text)
    visible = sum(1 for c in folded if c != " ")
    if visible == 0 or unreadable > _MOSTLY_UNREADABLE * visible:
        raise AprsCannotCarryError(
            f"info block {info_index} ({info.effective_language}) of alert "
            f"{alert.identifier!r} is mostly not in Latin script ({unreadable} of {visible} "
            "characters have no ASCII form); APRS radios show only ASCII: choose an info "
            "block in a Latin-script language with info_index"
        )
    return folded


def _frames(
    messages: Sequence[AprsMessage],
    source: Ax25Address,
    path: Sequence[Ax25Address],
    destination: Ax25Address,
) -> list[Ax25Frame]:
    return [Ax25Frame(destination, source, tuple(path), message.info()) for message in messages]


def _bulletin_lines(lines: Sequence[str], bulletin_id: str) -> list[AprsMessage]:
    return [
        AprsMessage(bulletin_addressee(number, bulletin_id), text)
        for number, text in enumerate(lines, start=1)
    ]


def _check_lines(max_lines: int) -> None:
    if not 1 <= max_lines <= MAX_BULLETIN_LINES:
        raise AprsError(
            f"max_lines {max_lines} is out of range: a bulletin has 1 to {MAX_BULLETIN_LINES} "
            "lines (BLN1 to BLN9)"
        )


def bulletin_lines(
    alert: Alert, *, info_index: int = 0, max_lines: int = DEFAULT_BULLETIN_LINES
) -> list[str]:
    """The texts of the bulletin lines for ``alert`` (at most ``max_lines``)."""
    _check_lines(max_lines)
    return split_text(bulletin_text(alert, info_index), MESSAGE_TEXT_MAX, max_lines)


def aprs_bulletins_for(
    alert: Alert,
    *,
    info_index: int = 0,
    bulletin_id: str = "",
    source: Ax25Address,
    path: Sequence[Ax25Address] = DEFAULT_PATH,
    destination: Ax25Address = APRS_TOCALL,
    max_lines: int = DEFAULT_BULLETIN_LINES,
) -> list[Ax25Frame]:
    """One UI frame per bulletin line: ``:BLN1<bulletin_id>:...``, ``:BLN2<bulletin_id>:...``.

    ``bulletin_id`` is the group name ("" for a general bulletin, or up to 5 letters/digits,
    e.g. ``WX``); give concurrent alerts from one station different ids, because each id has
    one set of lines per station."""
    lines = bulletin_lines(alert, info_index=info_index, max_lines=max_lines)
    return _frames(_bulletin_lines(lines, bulletin_id), source, path, destination)


def aprs_cancellation_for(
    cancelled: Alert,
    *,
    cancel: Alert | None = None,
    info_index: int = 0,
    bulletin_id: str = "",
    source: Ax25Address,
    path: Sequence[Ax25Address] = DEFAULT_PATH,
    destination: Ax25Address = APRS_TOCALL,
    max_lines: int = DEFAULT_BULLETIN_LINES,
) -> list[Ax25Frame]:
    """Bulletins that replace every line :func:`aprs_bulletins_for` sent for ``cancelled``
    (same ids, same ``max_lines``): the first says it is cancelled, with ``cancel``'s note if
    given; lines left over read ``(cancelled)``."""
    count = len(bulletin_lines(cancelled, info_index=info_index, max_lines=max_lines))
    info = _info_of(cancelled, info_index)
    headline = " ".join((info.headline or info.event).split())
    if headline.upper().startswith("CANCELLED"):
        headline = headline.split(":", 1)[-1].strip()
    status = _STATUS_WORDS.get(cancelled.status)
    parts = [("" if status is None else status + " ") + "CANCELLED: " + _sentence(headline)]
    areas = _areas(info)
    if areas:
        parts.append(_sentence(f"Area: {areas}"))
    if cancel is not None and cancel.note:
        parts.append(_sentence(cancel.note))
    text = _checked_fold(" ".join(parts), cancelled, info, info_index)
    lines = split_text(text, MESSAGE_TEXT_MAX, count)
    lines += [CANCELLED_FILLER] * (count - len(lines))
    return _frames(_bulletin_lines(lines, bulletin_id), source, path, destination)


def nws_zones(info: Info) -> list[str]:
    """NWS zone/county codes of the areas: ``UGC`` geocodes, else SAME/FIPS6 county codes
    turned into county UGCs (``048439`` -> ``TXC439``); in order, without repeats."""
    geocodes = [g for area in info.areas for g in area.geocodes]
    zones = [g.value.strip().upper() for g in geocodes if g.value_name.upper() == "UGC"]
    zones = [z for z in zones if _UGC.fullmatch(z)]
    if not zones:
        for geocode in geocodes:
            value = geocode.value.strip()
            if geocode.value_name.upper() in ("SAME", "FIPS6") and _FIPS6.fullmatch(value):
                state = _STATE_BY_FIPS.get(value[1:3])
                if state is not None and value[3:] != "000":
                    zones.append(f"{state}C{value[3:]}")
    return list(dict.fromkeys(zones))


def nws_kind(alert: Alert, info: Info) -> str:
    """WARN, WATCH, ADVIS or CANCL: from msgType, else the VTEC significance, else the event
    name, else the severity."""
    if alert.msg_type == "Cancel":
        return "CANCL"
    vtec = info.parameter("VTEC") or ""
    fields = vtec.strip("/").split(".")
    if len(fields) >= 5 and fields[4] in _NWS_BY_SIGNIFICANCE:
        return _NWS_BY_SIGNIFICANCE[fields[4]]
    words = info.event.upper().split()
    for word, kind in (("WARNING", "WARN"), ("WATCH", "WATCH"), ("ADVISORY", "ADVIS")):
        if word in words:
            return kind
    return "WARN" if info.severity in ("Extreme", "Severe") else "ADVIS"


def nws_event_tag(event: str) -> str:
    """``Flash Flood Warning`` -> ``FLASH_FLOOD``: upper case, the level word dropped."""
    words = aprs_safe_text(event).upper().replace("-", " ").split()
    while len(words) > 1 and words[-1] in _EVENT_SUFFIXES:
        words.pop()
    tag = re.sub(r"[^A-Z0-9]+", "_", "_".join(words)).strip("_")
    return tag[:20] or "ALERT"


def _base60_stamp(moment: datetime) -> str:
    utc = _utc(moment)
    return _BASE60[utc.day] + _BASE60[utc.hour] + _BASE60[utc.minute]


def aprs_nws_messages_for(
    alert: Alert,
    *,
    info_index: int = 0,
    source: Ax25Address,
    path: Sequence[Ax25Address] = DEFAULT_PATH,
    destination: Ax25Address = APRS_TOCALL,
    max_messages: int = 8,
    cancelled: bool = False,
) -> list[Ax25Frame]:
    """NWS-style messages (``:NWS-WARN :DDHHMMz,EVENT,ZONE,...{id``), as many as the zones
    need. ``cancelled=True`` sends ``NWS-CANCL`` for ``alert`` (the cancelled alert itself,
    since a CAP Cancel may carry no info). Only Actual alerts: this format has no test marker,
    and radios alarm on NWS- messages."""
    if alert.status != "Actual":
        raise AprsCannotCarryError(
            f"alert {alert.identifier!r} has status {alert.status}; NWS-style APRS messages have "
            "no test marker and radios alarm on them, so only Actual alerts are sent this way "
            "(use bulletins for tests and exercises)"
        )
    info = _info_of(alert, info_index)
    if info.expires is None:
        raise AprsCannotCarryError(
            f"info block {info_index} of alert {alert.identifier!r} has no <expires>; NWS-style "
            "messages start with the expiry time"
        )
    zones = nws_zones(info)
    if not zones:
        raise AprsCannotCarryError(
            f"info block {info_index} of alert {alert.identifier!r} has no UGC, SAME or FIPS6 "
            "geocode for a US state; NWS-style messages name NWS zones or counties (use "
            "bulletins instead)"
        )
    kind = "CANCL" if cancelled else nws_kind(alert, info)
    head = f"{_utc(info.expires):%d%H%M}z,{nws_event_tag(info.event)}"
    lines: list[str] = []
    current = head
    for zone in zones:
        if len(current) + 1 + len(zone) > MESSAGE_TEXT_MAX:
            lines.append(current)
            current = head
        current = f"{current},{zone}"
    lines.append(current)
    if len(lines) > max_messages:
        raise AprsCannotCarryError(
            f"alert {alert.identifier!r} names {len(zones)} zones, which need {len(lines)} "
            f"NWS-style messages; the limit is {max_messages} (raise max_messages or use "
            "bulletins)"
        )
    stamp = _base60_stamp(alert.sent or info.expires)
    messages = [
        AprsMessage(f"NWS-{kind}", line, f"{stamp}{chr(65 + n // 26)}{chr(65 + n % 26)}")
        for n, line in enumerate(lines)
    ]
    return _frames(messages, source, path, destination)
