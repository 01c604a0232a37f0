"""SMS text (3GPP TS 23.038): the GSM 7-bit default alphabet and its extension table, the national
language shift tables, septet packing, and the choice of the encoding that needs fewest SMS.

Everything here is pure: text in, septets or a plan out. The alphabets are built once per
(locking, single shift) pair and cached, so the hot path is one dict lookup per character.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import cache
from typing import Final, Literal

from gateways.sms.errors import SmsEncodingError
from gateways.sms.national_tables import LOCKING_SHIFT, SINGLE_SHIFT, UNASSIGNED

ESCAPE: Final = 0x1B
"""The septet that escapes to the extension (single shift) table."""

MAX_USER_DATA_OCTETS: Final = 140
MAX_SEGMENTS: Final = 255
"""Concatenation numbers segments in one octet (TS 23.040 9.2.3.24.1)."""

# TS 23.038 6.2.1, one string per column of the spec's table (septets 0xn0..0xnF).
DEFAULT_ALPHABET: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" + UNASSIGNED + "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# TS 23.038 6.2.1.1: the default extension table, reached with ESCAPE.
_DEFAULT_EXTENSION_CODES: Final = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
DEFAULT_EXTENSION: Final = "".join(
    _DEFAULT_EXTENSION_CODES.get(code, UNASSIGNED) for code in range(128)
)


class DataCoding(StrEnum):
    """The alphabet of the user data (TP-DCS); 8-bit data is not text and is not offered."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


class NationalLanguage(IntEnum):
    """National language identifiers of TS 23.038 6.2.1.2.4 (the value carried in the UDH).

    ``None`` stands for the default alphabet / default extension table.
    """

    TURKISH = 1
    SPANISH = 2
    PORTUGUESE = 3
    BENGALI = 4
    GUJARATI = 5
    HINDI = 6
    KANNADA = 7
    MALAYALAM = 8
    ORIYA = 9
    PUNJABI = 10
    TAMIL = 11
    TELUGU = 12
    URDU = 13


def _check_languages(locking: int | None, single: int | None) -> None:
    if locking is not None and locking not in LOCKING_SHIFT:
        if locking == NationalLanguage.SPANISH:
            raise SmsEncodingError(
                "Spanish has no locking shift table (TS 23.038 A.3.2 is reserved); "
                "use it as a single shift with the default alphabet"
            )
        raise SmsEncodingError(
            f"unknown national language {locking!r} for the locking shift; "
            f"TS 23.038 defines 1..13 (see NationalLanguage)"
        )
    if single is not None and single not in SINGLE_SHIFT:
        raise SmsEncodingError(
            f"unknown national language {single!r} for the single shift; "
            f"TS 23.038 defines 1..13 (see NationalLanguage)"
        )


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """How a message's text is written: GSM 7-bit (optionally with national shift tables) or
    UCS-2 (UTF-16 code units, so characters beyond the BMP take two)."""

    coding: DataCoding
    locking_shift: NationalLanguage | None = None
    single_shift: NationalLanguage | None = None

    def __post_init__(self) -> None:
        if self.coding is DataCoding.UCS2 and (
            self.locking_shift is not None or self.single_shift is not None
        ):
            raise SmsEncodingError(
                "national language shift tables apply to GSM 7-bit text only, not UCS-2; "
                "drop locking_shift/single_shift or use DataCoding.GSM7"
            )
        _check_languages(self.locking_shift, self.single_shift)

    @property
    def national_ie_count(self) -> int:
        """How many national language IEs (3 octets each) the UDH must carry."""
        return (self.locking_shift is not None) + (self.single_shift is not None)

    def describe(self) -> str:
        """A short human description, e.g. 'GSM 7-bit (Hindi locking, Hindi single shift)'."""
        if self.coding is DataCoding.UCS2:
            return "UCS-2"
        tables = []
        if self.locking_shift is not None:
            tables.append(f"{self.locking_shift.name.title()} locking shift")
        if self.single_shift is not None:
            tables.append(f"{self.single_shift.name.title()} single shift")
        return "GSM 7-bit" + (f" ({', '.join(tables)})" if tables else "")


GSM7_DEFAULT: Final = TextEncoding(DataCoding.GSM7)
UCS2: Final = TextEncoding(DataCoding.UCS2)


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """A text split into the parts that each SMS of a (possibly concatenated) message carries.

    Segments never split a GSM escape pair or a UTF-16 surrogate pair, since they split only
    between characters. ``reference_bits`` is the concatenation reference size the segment
    sizes were computed for.
    """

    encoding: TextEncoding
    segments: tuple[str, ...]
    units: int
    reference_bits: Literal[8, 16] = 8

    @property
    def count(self) -> int:
        return len(self.segments)


@dataclass(frozen=True, slots=True)
class _Alphabet:
    """One locking table and one single shift table, with the lookups encoding needs."""

    locking: str
    single: str
    encode: dict[str, bytes]
    cost: dict[str, int]


@cache
def _alphabet(locking: int | None, single: int | None) -> _Alphabet:
    _check_languages(locking, single)
    locking_table = DEFAULT_ALPHABET if locking is None else LOCKING_SHIFT[locking]
    single_table = DEFAULT_EXTENSION if single is None else SINGLE_SHIFT[single]
    encode: dict[str, bytes] = {}
    # Walk codes downwards so a character listed twice gets its lowest code, and fill the
    # single shift first so a character in both tables gets the one-septet locking code.
    for code in range(127, -1, -1):
        char = single_table[code]
        if code != ESCAPE and char != UNASSIGNED:
            encode[char] = bytes((ESCAPE, code))
    for code in range(127, -1, -1):
        char = locking_table[code]
        if code != ESCAPE and char != UNASSIGNED:
            encode[char] = bytes((code,))
    cost = {char: len(septets) for char, septets in encode.items()}
    return _Alphabet(locking_table, single_table, encode, cost)


def _unencodable(text: str, alphabet: _Alphabet, encoding: TextEncoding) -> SmsEncodingError:
    index, char = next((i, c) for i, c in enumerate(text) if c not in alphabet.encode)
    return SmsEncodingError(
        f"character {char!r} (U+{ord(char):04X}) at index {index} cannot be written in "
        f"{encoding.describe()}; choose the encoding with plan_segments (it falls back to UCS-2)"
    )


def encode_gsm7(
    text: str,
    locking_shift: NationalLanguage | None = None,
    single_shift: NationalLanguage | None = None,
) -> bytes:
    """Septet values of ``text``, one per byte; extension characters as ESCAPE + code."""
    alphabet = _alphabet(locking_shift, single_shift)
    try:
        return b"".join(map(alphabet.encode.__getitem__, text))
    except KeyError:
        encoding = TextEncoding(DataCoding.GSM7, locking_shift, single_shift)
        raise _unencodable(text, alphabet, encoding) from None


def decode_gsm7(
    septets: bytes,
    locking_shift: NationalLanguage | None = None,
    single_shift: NationalLanguage | None = None,
) -> str:
    """Text of septet values (one per byte).

    As TS 23.038 6.2.1.1 asks of a receiver: an escape to a code the single shift table does
    not define shows the locking table's character, ESCAPE ESCAPE (and a dangling escape) shows
    a space. A code no table defines decodes to U+FFFD.
    """
    if not septets.isascii():
        index = next(i for i, s in enumerate(septets) if s > 0x7F)
        raise SmsEncodingError(
            f"septet value 0x{septets[index]:02X} at index {index} is not a 7-bit value"
        )
    alphabet = _alphabet(locking_shift, single_shift)
    locking = alphabet.locking
    if ESCAPE not in septets:
        text = "".join(map(locking.__getitem__, septets))
    else:
        chars: list[str] = []
        escaped = False
        for septet in septets:
            if escaped:
                escaped = False
                char = alphabet.single[septet]
                if char == UNASSIGNED:
                    char = " " if septet == ESCAPE else locking[septet]
                chars.append(char)
            elif septet == ESCAPE:
                escaped = True
            else:
                chars.append(locking[septet])
        if escaped:
            chars.append(" ")
        text = "".join(chars)
    return text.replace(UNASSIGNED, "\ufffd") if UNASSIGNED in text else text


# Septet packing (TS 23.038 6.1.2.1.1): septet i occupies bits 7i..7i+6 of a little-endian bit
# string. The packed integer is built by squeezing the 8-bit slots of the input pairwise: after
# step k every 2^(k+4)-bit slot holds 7 * 2^(k+1) contiguous bits. Log2(n) big-integer
# operations instead of n shifts; the masks are made once for the longest fast input.
_FAST_PACK_SEPTETS: Final = 1024


def _pack_masks(septets: int) -> tuple[int, ...]:
    masks = []
    half = 8
    while half < 8 * septets:
        period = (1 << half) - 1
        mask = 0
        for start in range(0, 8 * septets, 2 * half):
            mask |= period << start
        masks.append(mask)
        half *= 2
    return tuple(masks)


_PACK_MASKS: Final = _pack_masks(_FAST_PACK_SEPTETS)


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septet values (0..127, one per byte) into octets, after ``fill_bits`` zero bits
    (0..6, what aligns the text to a septet boundary after a user data header)."""
    if not 0 <= fill_bits <= 6:
        raise SmsEncodingError(f"fill_bits must be 0..6, not {fill_bits}")
    if not septets.isascii():
        index = next(i for i, s in enumerate(septets) if s > 0x7F)
        raise SmsEncodingError(
            f"septet value 0x{septets[index]:02X} at index {index} is not a 7-bit value"
        )
    count = len(septets)
    value = int.from_bytes(septets, "little")
    if count <= _FAST_PACK_SEPTETS:
        used = (1 << (8 * count)) - 1
        shift = 1
        for mask in _PACK_MASKS:
            if shift * 8 >= 8 * count:
                break
            low = mask & used
            value = (value & low) | ((value & ~low & used) >> shift)
            shift *= 2
    else:
        value = 0
        for index, septet in enumerate(septets):
            value |= septet << (7 * index)
    value <<= fill_bits
    return value.to_bytes((7 * count + fill_bits + 7) // 8, "little")


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """The ``count`` septet values packed in ``data`` after ``fill_bits`` bits."""
    if not 0 <= fill_bits <= 6:
        raise SmsEncodingError(f"fill_bits must be 0..6, not {fill_bits}")
    needed = (7 * count + fill_bits + 7) // 8
    if count < 0 or len(data) < needed:
        raise SmsEncodingError(
            f"{count} septets after {fill_bits} fill bits need {needed} octets, "
            f"only {len(data)} given"
        )
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return bytes((value >> (7 * index)) & 0x7F for index in range(count))


def udh_octets(
    encoding: TextEncoding, *, concatenated: bool, reference_bits: Literal[8, 16] = 8
) -> int:
    """Octets of the user data header (with its length octet) a segment needs: concatenation
    IE 5 octets (8-bit reference) or 6 (16-bit), each national language IE 3."""
    body = 3 * encoding.national_ie_count
    if concatenated:
        body += 5 if reference_bits == 8 else 6
    return body + 1 if body else 0


def segment_capacity(
    encoding: TextEncoding, *, concatenated: bool, reference_bits: Literal[8, 16] = 8
) -> int:
    """Septets (GSM 7-bit) or UCS-2 code units one segment can carry after its header."""
    room = MAX_USER_DATA_OCTETS - udh_octets(
        encoding, concatenated=concatenated, reference_bits=reference_bits
    )
    return room * 8 // 7 if encoding.coding is DataCoding.GSM7 else room // 2


def _ucs2_units(text: str) -> int:
    try:
        return len(text.encode("utf-16-le")) // 2
    except UnicodeEncodeError as error:
        raise SmsEncodingError(
            f"character U+{ord(text[error.start]):04X} at index {error.start} is a lone "
            "surrogate and cannot be sent as text"
        ) from None


def count_units(text: str, encoding: TextEncoding) -> int:
    """Septets (GSM 7-bit, escapes counted) or UTF-16 code units ``text`` takes."""
    if encoding.coding is DataCoding.UCS2:
        return _ucs2_units(text)
    alphabet = _alphabet(encoding.locking_shift, encoding.single_shift)
    try:
        return sum(map(alphabet.cost.__getitem__, text))
    except KeyError:
        raise _unencodable(text, alphabet, encoding) from None


def _ucs2_cost(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _split(text: str, costs: dict[str, int] | None, capacity: int) -> list[str]:
    """Greedy split into parts of at most ``capacity`` units (optimal: every unit counts)."""
    segments = []
    start = 0
    used = 0
    for index, char in enumerate(text):
        cost = costs[char] if costs is not None else _ucs2_cost(char)
        if used + cost > capacity:
            segments.append(text[start:index])
            start = index
            used = 0
        used += cost
    segments.append(text[start:])
    return segments


def _segment_count(
    units: int,
    uneven: bool,
    text: str,
    costs: dict[str, int] | None,
    single: int,
    concatenated: int,
) -> int:
    if units <= single:
        return 1
    if not uneven:
        return -(-units // concatenated)
    return len(_split(text, costs, concatenated))


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A GSM 7-bit encoding plan_segments may choose, with what it needs to size segments."""

    encoding: TextEncoding
    costs: dict[str, int]
    single: int
    concatenated_8: int
    concatenated_16: int


@cache
def _candidates(languages: tuple[NationalLanguage, ...]) -> tuple[_Candidate, ...]:
    """GSM 7-bit encodings in order of preference: default, single shift only, locking only,
    locking + single shift (same language first)."""
    gsm7 = DataCoding.GSM7
    encodings = [GSM7_DEFAULT]
    encodings += [TextEncoding(gsm7, None, language) for language in languages]
    lockings = [language for language in languages if language in LOCKING_SHIFT]
    encodings += [TextEncoding(gsm7, language, None) for language in lockings]
    for locking in lockings:
        singles = [locking] + [language for language in languages if language != locking]
        encodings += [TextEncoding(gsm7, locking, single) for single in singles]
    return tuple(
        _Candidate(
            encoding,
            _alphabet(encoding.locking_shift, encoding.single_shift).cost,
            segment_capacity(encoding, concatenated=False),
            segment_capacity(encoding, concatenated=True, reference_bits=8),
            segment_capacity(encoding, concatenated=True, reference_bits=16),
        )
        for encoding in encodings
    )


_NO_TABLES: Final[frozenset[int | None]] = frozenset()


@cache
def _tables_of_chars() -> tuple[dict[str, frozenset[int | None]], dict[str, frozenset[int | None]]]:
    """For every character: the locking tables and the single shift tables that hold it
    (None: the default alphabet / default extension table)."""
    lockings: list[tuple[int | None, str]] = [(None, DEFAULT_ALPHABET), *LOCKING_SHIFT.items()]
    singles: list[tuple[int | None, str]] = [(None, DEFAULT_EXTENSION), *SINGLE_SHIFT.items()]
    found: list[dict[str, frozenset[int | None]]] = []
    for tables in (lockings, singles):
        holders: dict[str, set[int | None]] = {}
        for language, table in tables:
            for code, char in enumerate(table):
                if code != ESCAPE and char != UNASSIGNED:
                    holders.setdefault(char, set()).add(language)
        found.append({char: frozenset(languages) for char, languages in holders.items()})
    return found[0], found[1]


def _feasible(distinct: list[str], candidates: tuple[_Candidate, ...]) -> list[_Candidate]:
    """The candidates that can write every character, found table by table rather than by
    trying each of up to 196 pairs."""
    in_locking, in_single = _tables_of_chars()
    lockings = {candidate.encoding.locking_shift for candidate in candidates}
    all_singles = frozenset(candidate.encoding.single_shift for candidate in candidates)
    singles_for: dict[int | None, frozenset[int | None]] = {}
    for locking in lockings:
        usable = all_singles
        for char in distinct:
            if locking not in in_locking.get(char, _NO_TABLES):
                usable = usable & in_single.get(char, _NO_TABLES)
                if not usable:
                    break
        singles_for[locking] = usable
    return [
        candidate
        for candidate in candidates
        if candidate.encoding.single_shift in singles_for[candidate.encoding.locking_shift]
    ]


def _languages(languages: Iterable[NationalLanguage] | None) -> tuple[NationalLanguage, ...]:
    if languages is None:
        return tuple(NationalLanguage)
    chosen: list[NationalLanguage] = []
    for language in languages:
        if language not in SINGLE_SHIFT:
            raise SmsEncodingError(
                f"unknown national language {language!r}; TS 23.038 defines 1..13 "
                "(see NationalLanguage)"
            )
        member = NationalLanguage(language)
        if member not in chosen:
            chosen.append(member)
    return tuple(chosen)


def plan_segments(
    text: str,
    *,
    languages: Iterable[NationalLanguage] | None = None,
    reference_bits: Literal[8, 16] = 8,
) -> SegmentPlan:
    """Choose the encoding that needs the fewest SMS and split the text for it.

    Candidates, in order of preference (a tie goes to the earlier): the default alphabet, a
    national single shift table, a national locking shift table, locking + single shift (among
    ``languages``, default all), then UCS-2. A single segment without national tables carries
    160 septets / 70 UCS-2 units; every header octet (concatenation, national language IEs)
    costs room, see ``segment_capacity``.
    """
    if reference_bits not in (8, 16):
        raise SmsEncodingError(f"reference_bits must be 8 or 16, not {reference_bits!r}")
    default = _alphabet(None, None)
    default_costs = default.cost
    counts = Counter(text)
    # Characters the default alphabet lacks first: they rule most candidates out at once.
    distinct = sorted(counts, key=lambda char: char in default_costs)
    default_units = -1
    needs_escape = False
    if not distinct or distinct[0] in default_costs:
        default_units = sum(default_costs[char] * n for char, n in counts.items())
        needs_escape = any(default_costs[char] == 2 for char in counts)
        if default_units <= 160 or not needs_escape:
            # Nothing can beat the default alphabet: national tables only add header octets.
            return _plan(
                text, GSM7_DEFAULT, default_units, default_costs, needs_escape, reference_bits
            )

    best: tuple[int, _Candidate, int, bool] | None = None
    in_locking, in_single = _tables_of_chars()
    if all(char in in_locking or char in in_single for char in distinct):
        for candidate in _feasible(distinct, _candidates(_languages(languages))):
            costs = candidate.costs
            units = 0
            uneven = False
            for char in distinct:
                cost = costs[char]
                units += cost * counts[char]
                uneven = uneven or cost == 2
            single = candidate.single
            concatenated = (
                candidate.concatenated_8 if reference_bits == 8 else candidate.concatenated_16
            )
            if best is not None:
                lower_bound = 1 if units <= single else -(-units // concatenated)
                if lower_bound >= best[0]:
                    continue
            count = _segment_count(units, uneven, text, costs, single, concatenated)
            if best is None or count < best[0]:
                best = (count, candidate, units, uneven)

    ucs2_units = _ucs2_units(text)
    ucs2_count = _segment_count(
        ucs2_units,
        ucs2_units != len(text),
        text,
        None,
        segment_capacity(UCS2, concatenated=False),
        segment_capacity(UCS2, concatenated=True, reference_bits=reference_bits),
    )
    if best is None or ucs2_count < best[0]:
        return _plan(text, UCS2, ucs2_units, None, ucs2_units != len(text), reference_bits)
    _, chosen, chosen_units, chosen_uneven = best
    return _plan(text, chosen.encoding, chosen_units, chosen.costs, chosen_uneven, reference_bits)


def _plan(
    text: str,
    encoding: TextEncoding,
    units: int,
    costs: dict[str, int] | None,
    uneven: bool,
    reference_bits: Literal[8, 16],
) -> SegmentPlan:
    if units <= segment_capacity(encoding, concatenated=False):
        return SegmentPlan(encoding, (text,), units, reference_bits)
    capacity = segment_capacity(encoding, concatenated=True, reference_bits=reference_bits)
    if uneven:
        segments = tuple(_split(text, costs, capacity))
    else:
        segments = tuple(text[i : i + capacity] for i in range(0, len(text), capacity))
    return SegmentPlan(encoding, segments, units, reference_bits)
