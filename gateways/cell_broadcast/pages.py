"""Cell broadcast pages (3GPP TS 23.041 9.4.1.2) and their text (TS 23.038 section 5).

A GSM CBS message is 1 to 15 pages of 88 octets: serial number (2), message identifier (2),
data coding scheme (1), page parameter (1: page i of n, 4 bits each), then 82 octets of
content. The content is 93 GSM 7-bit septets or 41 UCS-2 units, padded with CR.

The data coding scheme (DCS) also tells the phone the language, which is how it picks the
message in the reader's language among several broadcast at once:

* GSM 7-bit, a language the DCS table names (group 0000: German ... Polish; group 0010:
  Czech, Hebrew, Arabic, Russian, Icelandic): the DCS carries it, 93 septets a page;
* GSM 7-bit, another language with a two-letter ISO 639 code: DCS 0x10, each page starts
  with the code and CR (``fr\\r``), 90 septets left;
* UCS-2 (a character the GSM default alphabet lacks): DCS 0x11, each page starts with the
  two-letter code in GSM 7-bit packed into two octets, 40 UCS-2 characters left;
* no two-letter code (or a profile that asks for none): DCS 0x0F (GSM 7-bit, language
  unspecified) or 0x48 (general coding, UCS-2, no class), full pages.

The language prefix is written on every page, not only the first: receivers take each page
on its own (Android strips the prefix from every page), and the spec's "90 characters" / "40
characters" after the prefix are one page's worth. National language shift tables are not
used: a CBS page has no user data header to name them (TS 23.038 6.2.1.2.4 is SMS-only).

CR is the padding, so a trailing CR cannot survive a page; text is normalised first (CR LF
and lone CR become LF). :func:`cbs_text_for` builds the text of one info block within a
profile's limits (WEA 90/360 characters, UK 1,395 septets / 615 UCS-2 characters, pages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from cap.model import Alert
from gateways.base import CannotCarryError
from gateways.cell_broadcast.serial import SerialNumber
from gateways.sms.gsm7 import (
    DEFAULT_ALPHABET,
    DEFAULT_EXTENSION,
    ESCAPE,
    decode_gsm7,
    encode_gsm7,
    pack_septets,
    unpack_septets,
)
from gateways.sms.national_tables import UNASSIGNED

if TYPE_CHECKING:
    from gateways.cell_broadcast.mapping import CbsProfile

PAGE_OCTETS: Final = 88
HEADER_OCTETS: Final = 6
CONTENT_OCTETS: Final = 82
MAX_PAGES: Final = 15
GSM7_PAGE_SEPTETS: Final = CONTENT_OCTETS * 8 // 7  # 93
UCS2_PAGE_UNITS: Final = CONTENT_OCTETS // 2  # 41
CR: Final = "\r"
CUT_MARKER: Final = " [...]"

DCS_GSM7_UNSPECIFIED: Final = 0x0F
DCS_GSM7_PREFIXED: Final = 0x10
DCS_UCS2_PREFIXED: Final = 0x11
DCS_UCS2_UNSPECIFIED: Final = 0x48  # group 01xx: uncompressed, no class, UCS2

# TS 23.038 section 5: languages the DCS itself names (GSM 7-bit default alphabet).
DCS_LANGUAGES: Final[dict[str, int]] = {
    "de": 0x00,
    "en": 0x01,
    "it": 0x02,
    "fr": 0x03,
    "es": 0x04,
    "nl": 0x05,
    "sv": 0x06,
    "da": 0x07,
    "pt": 0x08,
    "fi": 0x09,
    "no": 0x0A,
    "el": 0x0B,
    "tr": 0x0C,
    "hu": 0x0D,
    "pl": 0x0E,
    "cs": 0x20,
    "he": 0x21,
    "ar": 0x22,
    "ru": 0x23,
    "is": 0x24,
}
_DCS_LANGUAGE_NAMES: Final = {dcs: code for code, dcs in DCS_LANGUAGES.items()}
_LANGUAGE_ALIASES: Final = {"nb": "no", "nn": "no", "iw": "he"}


class CbsEncodingError(ValueError):
    """Text or a page that cannot be written or read as asked (says what, where, why)."""


class CbsAlphabet(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"
    DATA = "8bit"


@dataclass(frozen=True, slots=True)
class CbsCoding:
    """How a message's pages are written: the DCS octet, the alphabet, and the language the
    phone is told (in the DCS or as a per-page prefix; None: unspecified)."""

    dcs: int
    alphabet: CbsAlphabet
    language: str | None
    prefixed: bool

    @property
    def page_capacity(self) -> int:
        """Septets (GSM 7-bit) or UTF-16 units (UCS-2) of text one page carries."""
        if self.alphabet is CbsAlphabet.GSM7:
            return GSM7_PAGE_SEPTETS - (3 if self.prefixed else 0)
        return UCS2_PAGE_UNITS - (1 if self.prefixed else 0)

    def describe(self) -> str:
        alphabet = {"gsm7": "GSM 7-bit", "ucs2": "UCS-2", "8bit": "8-bit data"}[self.alphabet]
        if self.language is None:
            where = "language unspecified"
        elif self.prefixed:
            where = f"language {self.language!r} as a page prefix"
        else:
            where = f"language {self.language!r} in the DCS"
        return f"DCS 0x{self.dcs:02X}: {alphabet}, {where}"


def iso639_1(language: str | None) -> str | None:
    """The two-letter ISO 639-1 code of a BCP 47 tag (``fr-CA`` -> ``fr``), else None."""
    if not language:
        return None
    primary = language.split("-", 1)[0].lower()
    primary = _LANGUAGE_ALIASES.get(primary, primary)
    return primary if len(primary) == 2 and primary.isascii() and primary.isalpha() else None


def coding_for(
    alphabet: CbsAlphabet, language: str | None, *, language_prefix: bool = True
) -> CbsCoding:
    """The DCS for text in ``alphabet`` and ``language`` (see the module docstring)."""
    code = iso639_1(language)
    if alphabet is CbsAlphabet.GSM7:
        if code in DCS_LANGUAGES:
            return CbsCoding(DCS_LANGUAGES[code], alphabet, code, False)
        if code is not None and language_prefix:
            return CbsCoding(DCS_GSM7_PREFIXED, alphabet, code, True)
        return CbsCoding(DCS_GSM7_UNSPECIFIED, alphabet, None, False)
    if alphabet is CbsAlphabet.UCS2:
        if code is not None and language_prefix:
            return CbsCoding(DCS_UCS2_PREFIXED, alphabet, code, True)
        return CbsCoding(DCS_UCS2_UNSPECIFIED, alphabet, None, False)
    raise CbsEncodingError("8-bit data is not text; choose GSM 7-bit or UCS-2")


def _gsm7_costs() -> dict[str, int]:
    costs = {char: 1 for char in DEFAULT_ALPHABET if char != UNASSIGNED}
    for code, char in enumerate(DEFAULT_EXTENSION):
        if code != ESCAPE and char != UNASSIGNED and char not in costs:
            costs[char] = 2
    return costs


GSM7_COSTS: Final = _gsm7_costs()
"""Septets per character of the default alphabet (1) and its extension table (2)."""


def normalise_text(text: str) -> str:
    """CR LF and lone CR become LF: CR is the padding and would vanish at a page end."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def choose_coding(text: str, language: str | None, *, language_prefix: bool = True) -> CbsCoding:
    """GSM 7-bit when every character is in the default alphabet or its extension, else
    UCS-2."""
    costs = GSM7_COSTS
    alphabet = (
        CbsAlphabet.GSM7
        if all(char in costs for char in normalise_text(text))
        else CbsAlphabet.UCS2
    )
    return coding_for(alphabet, language, language_prefix=language_prefix)


def _unit_cost(coding: CbsCoding) -> Callable[[str], int]:
    if coding.alphabet is CbsAlphabet.GSM7:
        costs = GSM7_COSTS

        def gsm7(char: str) -> int:
            try:
                return costs[char]
            except KeyError:
                raise CbsEncodingError(
                    f"character {char!r} (U+{ord(char):04X}) is not in the GSM 7-bit default "
                    f"alphabet; {coding.describe()} cannot carry it (use UCS-2)"
                ) from None

        return gsm7

    def ucs2(char: str) -> int:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise CbsEncodingError(
                f"U+{code:04X} is a lone surrogate, not a character; it cannot be sent"
            )
        return 2 if code > 0xFFFF else 1

    return ucs2


def count_units(text: str, coding: CbsCoding) -> int:
    """Septets (escapes count two) or UTF-16 units ``text`` takes in ``coding``."""
    cost = _unit_cost(coding)
    return sum(cost(char) for char in normalise_text(text))


@dataclass(frozen=True, slots=True)
class PagePlan:
    """A text split into pages: never inside a GSM escape pair or a surrogate pair."""

    coding: CbsCoding
    pages: tuple[str, ...]
    units: int

    @property
    def count(self) -> int:
        return len(self.pages)


def plan_pages(
    text: str,
    *,
    language: str | None,
    language_prefix: bool = True,
    coding: CbsCoding | None = None,
    max_pages: int = MAX_PAGES,
) -> PagePlan:
    """Split ``text`` into pages (coding chosen by :func:`choose_coding` unless given)."""
    if not 1 <= max_pages <= MAX_PAGES:
        raise CbsEncodingError(f"max_pages {max_pages} is not 1..15 (TS 23.041 9.4.1.2.4)")
    text = normalise_text(text)
    if coding is None:
        coding = choose_coding(text, language, language_prefix=language_prefix)
    cost = _unit_cost(coding)
    capacity = coding.page_capacity
    pages: list[str] = []
    start = used = units = 0
    for index, char in enumerate(text):
        size = cost(char)
        if used + size > capacity:
            pages.append(text[start:index])
            start, used = index, 0
        used += size
        units += size
    pages.append(text[start:])
    if len(pages) > max_pages:
        raise CbsEncodingError(
            f"the text takes {len(pages)} pages ({units} "
            f"{'septets' if coding.alphabet is CbsAlphabet.GSM7 else 'UCS-2 units'}, "
            f"{capacity} a page with {coding.describe()}); at most {max_pages} are allowed: "
            "shorten it"
        )
    return PagePlan(coding, tuple(pages), units)


def page_parameter(page: int, pages: int) -> int:
    """Octet 6: page number in bits 7..4, number of pages in bits 3..0 (both 1..15)."""
    if not 1 <= pages <= MAX_PAGES or not 1 <= page <= pages:
        raise CbsEncodingError(f"page {page} of {pages}: need 1 <= page <= pages <= 15")
    return (page << 4) | pages


@dataclass(frozen=True, slots=True)
class CbsPage:
    """One 88-octet page. ``content`` is the 82 octets as sent (prefix and padding included);
    ``text`` is what a reader sees of this page."""

    serial: int
    message_id: int
    dcs: int
    page: int
    pages: int
    content: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.serial <= 0xFFFF:
            raise CbsEncodingError(f"serial number {self.serial} is not a 16-bit value")
        if not 0 <= self.message_id <= 0xFFFF:
            raise CbsEncodingError(f"message identifier {self.message_id} is not 16-bit")
        if not 0 <= self.dcs <= 0xFF:
            raise CbsEncodingError(f"DCS {self.dcs} is not an octet")
        page_parameter(self.page, self.pages)
        if len(self.content) != CONTENT_OCTETS:
            raise CbsEncodingError(
                f"page content is {len(self.content)} octets; a CBS page carries exactly 82"
            )

    def to_bytes(self) -> bytes:
        return (
            self.serial.to_bytes(2, "big")
            + self.message_id.to_bytes(2, "big")
            + bytes((self.dcs, page_parameter(self.page, self.pages)))
            + self.content
        )

    @property
    def serial_number(self) -> SerialNumber:
        return SerialNumber.decode(self.serial)

    @property
    def coding(self) -> CbsCoding:
        return coding_of_dcs(self.dcs)

    @property
    def language(self) -> str | None:
        """The language the page declares: in its DCS, or its prefix."""
        coding = self.coding
        if not coding.prefixed:
            return coding.language
        return _read_prefix(self.content, coding)[0]

    @property
    def text(self) -> str:
        """The page's text without prefix and trailing CR padding."""
        coding = self.coding
        body = _read_prefix(self.content, coding)[1] if coding.prefixed else self.content
        if coding.alphabet is CbsAlphabet.GSM7:
            count = len(body) * 8 // 7
            text = decode_gsm7(unpack_septets(body, count))
        elif coding.alphabet is CbsAlphabet.UCS2:
            text = body[: len(body) // 2 * 2].decode("utf-16-be", errors="replace")
        else:
            raise CbsEncodingError(
                f"DCS 0x{self.dcs:02X} announces 8-bit data, not text; it has no reading"
            )
        return text.rstrip(CR)


def _read_prefix(content: bytes, coding: CbsCoding) -> tuple[str, bytes]:
    """(language, the rest) of a page whose content starts with a language indication."""
    if coding.alphabet is CbsAlphabet.GSM7:
        septets = unpack_septets(content, GSM7_PAGE_SEPTETS)
        head = decode_gsm7(septets[:3])
        rest = pack_septets(septets[3:])  # re-packed: the text after the prefix, from bit 0
        return head[:2], rest
    return decode_gsm7(unpack_septets(content[:2], 2)), content[2:]


def coding_of_dcs(dcs: int) -> CbsCoding:
    """What a receiver makes of a DCS octet (TS 23.038 section 5; reserved codings are read as
    GSM 7-bit with the language unspecified, as the spec tells receivers to)."""
    group = dcs >> 4
    gsm7 = CbsAlphabet.GSM7
    if group in (0x0, 0x2):
        return CbsCoding(dcs, gsm7, _DCS_LANGUAGE_NAMES.get(dcs), False)
    if dcs == DCS_GSM7_PREFIXED:
        return CbsCoding(dcs, gsm7, None, True)
    if dcs == DCS_UCS2_PREFIXED:
        return CbsCoding(dcs, CbsAlphabet.UCS2, None, True)
    if group in (0x4, 0x5, 0x6, 0x7):
        if dcs & 0x20:
            raise CbsEncodingError(
                f"DCS 0x{dcs:02X} announces text compressed per TS 23.042, which is not supported"
            )
        alphabet = {0: gsm7, 1: CbsAlphabet.DATA, 2: CbsAlphabet.UCS2}.get((dcs >> 2) & 3, gsm7)
        return CbsCoding(dcs, alphabet, None, False)
    if group == 0xF:
        return CbsCoding(dcs, CbsAlphabet.DATA if dcs & 0x04 else gsm7, None, False)
    if group in (0x9, 0xE):
        raise CbsEncodingError(
            f"DCS 0x{dcs:02X} (coding group {group:04b}) announces a user data header or WAP "
            "content, which is not supported"
        )
    return CbsCoding(dcs, gsm7, None, False)


def _content(chunk: str, coding: CbsCoding) -> bytes:
    if coding.alphabet is CbsAlphabet.GSM7:
        head = f"{coding.language}{CR}" if coding.prefixed else ""
        septets = encode_gsm7(head + chunk)
        septets += b"\x0d" * (GSM7_PAGE_SEPTETS - len(septets))
        return pack_septets(septets)
    indication = pack_septets(encode_gsm7(coding.language or "")) if coding.prefixed else b""
    body = indication + chunk.encode("utf-16-be")
    return body + b"\x00\x0d" * ((CONTENT_OCTETS - len(body)) // 2)


def text_octets(chunk: str, coding: CbsCoding) -> int:
    """How many of a page's 82 octets hold text (prefix included, padding not): CBSP's
    user information length (TS 48.049 8.2.5)."""
    if coding.alphabet is CbsAlphabet.GSM7:
        head = f"{coding.language}{CR}" if coding.prefixed else ""
        return -(-len(encode_gsm7(head + chunk)) * 7 // 8)
    indication = pack_septets(encode_gsm7(coding.language or "")) if coding.prefixed else b""
    return len(indication) + len(chunk.encode("utf-16-be"))


def build_pages(
    text: str,
    *,
    language: str | None,
    message_id: int,
    serial: SerialNumber | int,
    language_prefix: bool = True,
    coding: CbsCoding | None = None,
    max_pages: int = MAX_PAGES,
) -> tuple[CbsPage, ...]:
    """The pages of one message (see :func:`encode_pages`)."""
    plan = plan_pages(
        text,
        language=language,
        language_prefix=language_prefix,
        coding=coding,
        max_pages=max_pages,
    )
    value = serial.encode() if isinstance(serial, SerialNumber) else serial
    n = plan.count
    return tuple(
        CbsPage(value, message_id, plan.coding.dcs, i, n, _content(chunk, plan.coding))
        for i, chunk in enumerate(plan.pages, 1)
    )


def encode_pages(
    text: str,
    *,
    language: str | None,
    message_id: int,
    serial: SerialNumber | int,
    language_prefix: bool = True,
    max_pages: int = MAX_PAGES,
) -> tuple[bytes, ...]:
    """``text`` as 88-octet pages (at most ``max_pages`` <= 15; longer text is refused with
    :class:`CbsEncodingError` saying how long it is)."""
    pages = build_pages(
        text,
        language=language,
        message_id=message_id,
        serial=serial,
        language_prefix=language_prefix,
        max_pages=max_pages,
    )
    return tuple(page.to_bytes() for page in pages)


def decode_page(data: bytes) -> CbsPage:
    """An 88-octet page as sent; refuses other lengths and bad page parameters."""
    if len(data) != PAGE_OCTETS:
        raise CbsEncodingError(f"a CBS page is 88 octets, not {len(data)}")
    parameter = data[5]
    page, pages = parameter >> 4, parameter & 0x0F
    if parameter == 0:  # TS 23.041 9.4.1.2.4: 0000 0000 is read as page 1 of 1
        page = pages = 1
    if not 1 <= pages <= MAX_PAGES or not 1 <= page <= pages:
        raise CbsEncodingError(
            f"octet 6 (page parameter) is 0x{parameter:02X}: page {page} of {pages} is not possible"
        )
    return CbsPage(
        int.from_bytes(data[0:2], "big"),
        int.from_bytes(data[2:4], "big"),
        data[4],
        page,
        pages,
        bytes(data[HEADER_OCTETS:]),
    )


def decode_message(pages: Iterable[bytes]) -> str:
    """The text of a whole message from its pages (in any order)."""
    decoded = sorted((decode_page(p) for p in pages), key=lambda page: page.page)
    if not decoded:
        return ""
    expected = list(range(1, decoded[0].pages + 1))
    if [page.page for page in decoded] != expected:
        raise CbsEncodingError(
            f"pages {[page.page for page in decoded]} do not make a message of "
            f"{decoded[0].pages} pages"
        )
    return "".join(page.text for page in decoded)


# --- the text of one info block --------------------------------------------------------------

# What a phone would show wrongly or force to UCS-2 for no reason: typographic punctuation that
# has a plain GSM 7-bit twin. Applied to composed text only, never to a text the author wrote
# for the channel (CMAMtext...).
_PLAIN: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\t": " ",
    }
)

_STATUS_PREFIX: Final = {"Exercise": "EXERCISE: ", "Test": "TEST: "}
COMPOSE_FIELDS: Final = ("headline", "instruction", "description", "web")
_CUT_ORDER: Final = ("description", "instruction", "headline")


@dataclass(frozen=True, slots=True)
class TextParameter:
    """An info parameter that holds the channel's text as the author wrote it (IPAWS
    ``CMAMtext``: 90 characters), with its limit in characters."""

    name: str
    max_chars: int


@dataclass(frozen=True, slots=True)
class TextLimits:
    """What a profile allows a message to be. ``None``: no limit of that kind."""

    max_pages: int = MAX_PAGES
    max_chars: int | None = None
    max_gsm7_septets: int | None = None
    max_ucs2_units: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_pages <= MAX_PAGES:
            raise CbsEncodingError(f"max_pages {self.max_pages} is not 1..15")
        for name in ("max_chars", "max_gsm7_septets", "max_ucs2_units"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise CbsEncodingError(f"{name} {value} must be at least 1")

    def problem(self, text: str, plan: PagePlan) -> str | None:
        """Why ``text`` (planned as ``plan``) breaks these limits, or None."""
        if self.max_chars is not None and len(text) > self.max_chars:
            return f"{len(text)} characters, more than {self.max_chars}"
        if plan.coding.alphabet is CbsAlphabet.GSM7:
            if self.max_gsm7_septets is not None and plan.units > self.max_gsm7_septets:
                return f"{plan.units} GSM 7-bit septets, more than {self.max_gsm7_septets}"
        elif self.max_ucs2_units is not None and plan.units > self.max_ucs2_units:
            return f"{plan.units} UCS-2 characters, more than {self.max_ucs2_units}"
        if plan.count > self.max_pages:
            return f"{plan.count} pages, more than {self.max_pages}"
        return None


@dataclass(frozen=True, slots=True)
class CbsText:
    """One info block's words for cell broadcast, and how they fill pages."""

    info_index: int
    language: str
    text: str
    plan: PagePlan
    truncated: bool
    source: str  # "composed", or the parameter it was taken from (e.g. "CMAMtext")


def _fit(
    text: str, language: str, language_prefix: bool, limits: TextLimits
) -> tuple[PagePlan | None, str | None]:
    try:
        plan = plan_pages(text, language=language, language_prefix=language_prefix)
    except CbsEncodingError as error:
        return None, str(error)
    return plan, limits.problem(text, plan)


def cbs_text_for(alert: Alert, info_index: int, profile: CbsProfile) -> CbsText:
    """The text of ``alert.infos[info_index]`` within ``profile``'s limits.

    The first of the profile's text parameters the info carries is used as written and must
    fit (an author's channel text is never cut: it is refused, naming the parameter). Else the
    text is composed from the profile's fields (default: headline, instruction, description,
    web link; ``TEST:``/``EXERCISE:`` first when the status says so); when too long, the
    description is cut at a word boundary (marked " [...]"), then the instruction, then the
    headline, so that what to do survives longest.
    """
    info = alert.infos[info_index]
    language = info.effective_language
    limits = profile.limits
    for parameter in profile.text_parameters:
        value = info.parameter(parameter.name)
        if value is None or not value.strip():
            continue
        text = normalise_text(value.strip())
        if len(text) > parameter.max_chars:
            raise CannotCarryError(
                f"info[{info_index}] parameter {parameter.name} has {len(text)} characters; "
                f"the {profile.name} profile allows {parameter.max_chars}: shorten it"
            )
        plan, problem = _fit(text, language, profile.language_prefix, limits)
        if plan is None or problem is not None:
            raise CannotCarryError(
                f"info[{info_index}] parameter {parameter.name} does not fit the "
                f"{profile.name} profile: {problem}"
            )
        return CbsText(info_index, language, text, plan, False, parameter.name)

    prefix = _STATUS_PREFIX.get(alert.status, "")
    fields = {
        "headline": info.headline or info.event or "",
        "instruction": info.instruction or "",
        "description": info.description or "",
        "web": info.web or "",
    }
    parts = {
        name: " ".join(fields[name].translate(_PLAIN).split())
        for name in profile.compose
        if name in fields
    }
    if not any(parts.values()):
        parts["headline"] = " ".join((info.headline or info.event or "").translate(_PLAIN).split())
    if not any(parts.values()):
        raise CannotCarryError(
            f"info[{info_index}] has no text for cell broadcast: the {profile.name} profile "
            f"composes {', '.join(profile.compose)} and all are empty"
        )

    def join(current: dict[str, str]) -> str:
        pieces = [value for value in current.values() if value]
        out = prefix
        for n, piece in enumerate(pieces):
            if n:
                out += "." if out[-1:].isalnum() else ""
                out += " "
            out += piece
        return out

    def fits(current: dict[str, str]) -> PagePlan | None:
        plan, problem = _fit(join(current), language, profile.language_prefix, limits)
        return plan if problem is None else None

    whole = fits(parts)
    if whole is not None:
        return CbsText(info_index, language, join(parts), whole, False, "composed")
    current = dict(parts)
    for name in _CUT_ORDER:
        if not current.get(name):
            continue
        words = current[name].split(" ")
        found = _longest_cut(words, _with_part(fits, current, name))
        if found is not None:
            current[name] = found[0]
            return CbsText(info_index, language, join(current), found[1], True, "composed")
        current[name] = ""
    if current.get("web"):
        current["web"] = ""
    head = join({**parts, "web": ""})
    return _cut_characters(head, info_index, language, profile)


def _with_part(
    fits: Callable[[dict[str, str]], PagePlan | None], current: dict[str, str], name: str
) -> Callable[[str], PagePlan | None]:
    """``fits`` of ``current`` with part ``name`` replaced by its argument."""
    return lambda kept: fits({**current, name: kept})


def _longest_cut(
    words: Sequence[str], fits: Callable[[str], PagePlan | None]
) -> tuple[str, PagePlan] | None:
    best: tuple[str, PagePlan] | None = None
    low, high = 0, len(words) - 1
    while low <= high:
        middle = (low + high) // 2
        kept = (" ".join(words[:middle]) + CUT_MARKER).strip()
        plan = fits(kept)
        if plan is not None:
            best = (kept, plan)
            low = middle + 1
        else:
            high = middle - 1
    return best


def _cut_characters(text: str, info_index: int, language: str, profile: CbsProfile) -> CbsText:
    low, high = 0, len(text)
    best: tuple[str, PagePlan] | None = None
    while low <= high:
        middle = (low + high) // 2
        candidate = (text[:middle].rstrip() + CUT_MARKER).strip()
        plan, problem = _fit(candidate, language, profile.language_prefix, profile.limits)
        if plan is not None and problem is None:
            best = (candidate, plan)
            low = middle + 1
        else:
            high = middle - 1
    if best is None:
        raise CannotCarryError(
            f"info[{info_index}]: not even a few words fit the {profile.name} profile's limits"
        )
    return CbsText(info_index, language, best[0], best[1], True, "composed")
