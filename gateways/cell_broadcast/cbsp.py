"""CBSP, the Cell Broadcast Service Protocol between a CBC and a BSC (3GPP TS 48.049): a pure codec.

Every message is a frozen dataclass; :func:`encode` turns one into the bytes that go on the TCP
stream and :class:`CbspDecoder` turns the stream back into messages. A message is a 4-octet
header (message type, then the length of what follows in 3 octets, big-endian) and a sequence of
information elements (IEs). Each IE starts with its identifier; its length is fixed by the
identifier (TV and fixed-length IEs) or given in the next 2 octets (the lists).

Facts come from TS 48.049 (sections 8.1.3 messages, 8.2 IEs) and were checked against the
peers we meet: osmo-bsc 1.9 (libosmogsm 1.7) and Wireshark's ``cbsp`` dissector (4.0.17).
Two encodings need a decision, recorded where they are coded:

* the **repetition period** (8.2.8) is a 12-bit number in units of 1.883 s (one CBCH cycle):
  octet 2 holds its 8 high bits, bits 1-4 of octet 3 its 4 low bits, bits 5-8 of octet 3 are
  spare. We follow the specification, and Wireshark 4.0.17 reads it the same way (300 is
  ``12 0c`` and shows as 300). libosmogsm (so osmo-bsc and osmo-cbc) reads the two octets as one
  big-endian 16-bit number instead: the readings agree for periods 1 to 15 (up to 28 s), and
  osmo-bsc 1.9 only compares periods with each other to order its schedule, which both readings
  do alike because the mapping between them is increasing;
* the **warning period** (8.2.25) and the **keep-alive repetition period** (8.2.18a) share a
  1-octet code: 1-10 s by 1 s, 12-30 s by 2 s, 35-120 s by 5 s, 130-600 s by 10 s, then 30 s
  steps to 3600 s (code 186), and 0 for "infinite" (warning period only). This is libosmogsm's
  table, the one osmo-bsc decodes with, and matches osmo-cbc's documented 3600 s maximum.
  Wireshark 4.0.17 uses 60 s steps above 600 s (it shows code 186 as 6600 s): the two agree up
  to 600 s, so keep ETWS warning periods at or below 600 s where both must agree.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, TypeAlias, TypeVar

HEADER_LENGTH = 4
MAX_MESSAGE_LENGTH = 1 << 20  # a sane bound well above any real message (10,000 CGIs = 70 kB)
PAGE_CONTENT_OCTETS = 82
SECURITY_INFO_OCTETS = 50
MAX_PAGES = 15
CBCH_CYCLE_SECONDS = 1.883  # unit of the repetition period (8.2.8)


class CbspError(Exception):
    """Base of the CBSP codec's, link's and transport's errors."""


class CbspEncodeError(CbspError, ValueError):
    """A message that cannot be put on the wire as given (says which field and why)."""


class CbspDecodeError(CbspError, ValueError):
    """Bytes that are not a valid CBSP message; ``offset`` is the octet (0 = message type)."""

    def __init__(self, message: str, *, offset: int, fatal: bool = False) -> None:
        super().__init__(f"octet {offset}: {message}")
        self.offset = offset
        # fatal: the stream cannot be framed any more (the length is absurd); close the link
        self.fatal = fatal


class MessageType(IntEnum):
    """8.2.2."""

    WRITE_REPLACE = 0x01
    WRITE_REPLACE_COMPLETE = 0x02
    WRITE_REPLACE_FAILURE = 0x03
    KILL = 0x04
    KILL_COMPLETE = 0x05
    KILL_FAILURE = 0x06
    LOAD_QUERY = 0x07
    LOAD_QUERY_COMPLETE = 0x08
    LOAD_QUERY_FAILURE = 0x09
    MESSAGE_STATUS_QUERY = 0x0A
    MESSAGE_STATUS_QUERY_COMPLETE = 0x0B
    MESSAGE_STATUS_QUERY_FAILURE = 0x0C
    SET_DRX = 0x0D
    SET_DRX_COMPLETE = 0x0E
    SET_DRX_FAILURE = 0x0F
    RESET = 0x10
    RESET_COMPLETE = 0x11
    RESET_FAILURE = 0x12
    RESTART = 0x13
    FAILURE = 0x14
    ERROR_INDICATION = 0x15
    KEEP_ALIVE = 0x16
    KEEP_ALIVE_COMPLETE = 0x17

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").replace("WRITE REPLACE", "WRITE-REPLACE")


class Iei(IntEnum):
    """8.2.1 information element identifiers."""

    MESSAGE_CONTENT = 0x01
    OLD_SERIAL_NUMBER = 0x02
    NEW_SERIAL_NUMBER = 0x03
    CELL_LIST = 0x04
    CATEGORY = 0x05
    REPETITION_PERIOD = 0x06
    NUMBER_OF_BROADCASTS_REQUESTED = 0x07
    NUMBER_OF_BROADCASTS_COMPLETED_LIST = 0x08
    FAILURE_LIST = 0x09
    RADIO_RESOURCE_LOADING_LIST = 0x0A
    CAUSE = 0x0B
    DATA_CODING_SCHEME = 0x0C
    RECOVERY_INDICATION = 0x0D
    MESSAGE_IDENTIFIER = 0x0E
    EMERGENCY_INDICATOR = 0x0F
    WARNING_TYPE = 0x10
    WARNING_SECURITY_INFORMATION = 0x11
    CHANNEL_INDICATOR = 0x12
    NUMBER_OF_PAGES = 0x13
    SCHEDULE_PERIOD = 0x14
    NUMBER_OF_RESERVED_SLOTS = 0x15
    BROADCAST_MESSAGE_TYPE = 0x16
    WARNING_PERIOD = 0x17
    KEEP_ALIVE_REPETITION_PERIOD = 0x18


# How long each IE's value is: an int is a fixed length, None means a 2-octet length follows.
_IE_LENGTH: dict[int, int | None] = {
    Iei.MESSAGE_CONTENT: 1 + PAGE_CONTENT_OCTETS,
    Iei.OLD_SERIAL_NUMBER: 2,
    Iei.NEW_SERIAL_NUMBER: 2,
    Iei.CELL_LIST: None,
    Iei.CATEGORY: 1,
    Iei.REPETITION_PERIOD: 2,
    Iei.NUMBER_OF_BROADCASTS_REQUESTED: 2,
    Iei.NUMBER_OF_BROADCASTS_COMPLETED_LIST: None,
    Iei.FAILURE_LIST: None,
    Iei.RADIO_RESOURCE_LOADING_LIST: None,
    Iei.CAUSE: 1,
    Iei.DATA_CODING_SCHEME: 1,
    Iei.RECOVERY_INDICATION: 1,
    Iei.MESSAGE_IDENTIFIER: 2,
    Iei.EMERGENCY_INDICATOR: 1,
    Iei.WARNING_TYPE: 2,
    Iei.WARNING_SECURITY_INFORMATION: SECURITY_INFO_OCTETS,
    Iei.CHANNEL_INDICATOR: 1,
    Iei.NUMBER_OF_PAGES: 1,
    Iei.SCHEDULE_PERIOD: 1,
    Iei.NUMBER_OF_RESERVED_SLOTS: 1,
    Iei.BROADCAST_MESSAGE_TYPE: 1,
    Iei.WARNING_PERIOD: 1,
    Iei.KEEP_ALIVE_REPETITION_PERIOD: 1,
}


class Category(IntEnum):
    """8.2.7."""

    HIGH_PRIORITY = 0
    BACKGROUND = 1
    NORMAL = 2


class Channel(IntEnum):
    """8.2.20: which CBCH carries the message."""

    BASIC = 0
    EXTENDED = 1


class BroadcastType(IntEnum):
    """8.2.24: what a RESTART or FAILURE is about."""

    CBS = 0
    EMERGENCY = 1


class Recovery(IntEnum):
    """8.2.15: did the BSC keep its messages over the restart?"""

    DATA_AVAILABLE = 0
    DATA_LOST = 1


class BroadcastInfo(IntEnum):
    """8.2.9: how to read a number-of-broadcasts-completed count."""

    VALID = 0
    OVERFLOW = 1
    UNKNOWN = 2


class Cause(IntEnum):
    """8.2.13. Peers may send values outside this list; fields typed ``int`` keep them."""

    PARAMETER_NOT_RECOGNISED = 0x00
    PARAMETER_VALUE_INVALID = 0x01
    MESSAGE_REFERENCE_NOT_IDENTIFIED = 0x02
    CELL_IDENTITY_NOT_VALID = 0x03
    UNRECOGNISED_MESSAGE = 0x04
    MISSING_MANDATORY_ELEMENT = 0x05
    BSC_CAPACITY_EXCEEDED = 0x06
    CELL_MEMORY_EXCEEDED = 0x07
    BSC_MEMORY_EXCEEDED = 0x08
    CELL_BROADCAST_NOT_SUPPORTED = 0x09
    CELL_BROADCAST_NOT_OPERATIONAL = 0x0A
    INCOMPATIBLE_DRX_PARAMETER = 0x0B
    EXTENDED_CHANNEL_NOT_SUPPORTED = 0x0C
    MESSAGE_REFERENCE_ALREADY_USED = 0x0D
    UNSPECIFIED_ERROR = 0x0E
    LAI_OR_LAC_NOT_VALID = 0x0F


def cause_name(cause: int) -> str:
    """A readable name for a cause value, also for values the specification does not list."""
    try:
        return Cause(cause).name.lower().replace("_", "-")
    except ValueError:
        return f"cause 0x{cause:02x} (not defined in TS 48.049)"


class CellIdKind(IntEnum):
    """Cell identification discriminator (8.2.6, same codes as TS 48.008)."""

    CGI = 0
    LAC_CI = 1
    CI = 2
    LAI = 4
    LAC = 5
    ALL_IN_BSS = 6


# ---------------------------------------------------------------------------------------------
# Cell identities


def _check_u16(value: int, what: str) -> None:
    if not 0 <= value <= 0xFFFF:
        raise CbspEncodeError(f"{what} {value} is out of range: it must be 0 to 65535")


def _check_plmn(mcc: str, mnc: str) -> None:
    if len(mcc) != 3 or not mcc.isdigit() or not mcc.isascii():
        raise CbspEncodeError(f"MCC {mcc!r} must be 3 decimal digits")
    if len(mnc) not in (2, 3) or not mnc.isdigit() or not mnc.isascii():
        raise CbspEncodeError(f"MNC {mnc!r} must be 2 or 3 decimal digits")


@dataclass(frozen=True, slots=True)
class Cgi:
    """Cell global identity: MCC, MNC (2 or 3 digits, as text so "01" stays two digits),
    LAC and CI."""

    mcc: str
    mnc: str
    lac: int
    ci: int
    kind: ClassVar[CellIdKind] = CellIdKind.CGI

    def __post_init__(self) -> None:
        _check_plmn(self.mcc, self.mnc)
        _check_u16(self.lac, "LAC")
        _check_u16(self.ci, "CI")

    def __str__(self) -> str:
        return f"{self.mcc}-{self.mnc}-{self.lac}-{self.ci}"


@dataclass(frozen=True, slots=True)
class LacCi:
    lac: int
    ci: int
    kind: ClassVar[CellIdKind] = CellIdKind.LAC_CI

    def __post_init__(self) -> None:
        _check_u16(self.lac, "LAC")
        _check_u16(self.ci, "CI")

    def __str__(self) -> str:
        return f"LAC {self.lac} CI {self.ci}"


@dataclass(frozen=True, slots=True)
class Ci:
    ci: int
    kind: ClassVar[CellIdKind] = CellIdKind.CI

    def __post_init__(self) -> None:
        _check_u16(self.ci, "CI")

    def __str__(self) -> str:
        return f"CI {self.ci}"


@dataclass(frozen=True, slots=True)
class Lai:
    """Location area identity: every cell of one location area."""

    mcc: str
    mnc: str
    lac: int
    kind: ClassVar[CellIdKind] = CellIdKind.LAI

    def __post_init__(self) -> None:
        _check_plmn(self.mcc, self.mnc)
        _check_u16(self.lac, "LAC")

    def __str__(self) -> str:
        return f"{self.mcc}-{self.mnc}-{self.lac}"


@dataclass(frozen=True, slots=True)
class Lac:
    lac: int
    kind: ClassVar[CellIdKind] = CellIdKind.LAC

    def __post_init__(self) -> None:
        _check_u16(self.lac, "LAC")

    def __str__(self) -> str:
        return f"LAC {self.lac}"


@dataclass(frozen=True, slots=True)
class AllInBss:
    """Every cell of the BSS (no identity follows the discriminator)."""

    kind: ClassVar[CellIdKind] = CellIdKind.ALL_IN_BSS

    def __str__(self) -> str:
        return "all cells of the BSS"


CellId: TypeAlias = Cgi | LacCi | Ci | Lai | Lac | AllInBss

_CELL_ID_SIZE = {
    CellIdKind.CGI: 7,
    CellIdKind.LAC_CI: 4,
    CellIdKind.CI: 2,
    CellIdKind.LAI: 5,
    CellIdKind.LAC: 2,
    CellIdKind.ALL_IN_BSS: 0,
}


@dataclass(frozen=True, slots=True)
class CellList:
    """A cell list IE (8.2.6): one discriminator for all entries; "all in BSS" has none."""

    kind: CellIdKind
    cells: tuple[CellId, ...] = ()

    def __post_init__(self) -> None:
        for cell in self.cells:
            if cell.kind != self.kind:
                raise CbspEncodeError(
                    f"a cell list holds one kind of identity: {cell} is a {cell.kind.name}, "
                    f"the list is {self.kind.name}"
                )
        if self.kind == CellIdKind.ALL_IN_BSS and self.cells:
            raise CbspEncodeError("an all-in-BSS cell list has no entries")

    @classmethod
    def of(cls, cells: Iterable[CellId]) -> CellList:
        """A list of the given cells (at least one, all of one kind)."""
        items = tuple(cells)
        if not items:
            raise CbspEncodeError("a cell list needs at least one cell (or use all_in_bss())")
        return cls(items[0].kind, items)

    @classmethod
    def all_in_bss(cls) -> CellList:
        return cls(CellIdKind.ALL_IN_BSS)

    def __iter__(self) -> Iterator[CellId]:
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)


MAX_IE_OCTETS = 0xFFFF  # a list IE's 2-octet length


def split_cells(cells: CellList, max_octets: int = MAX_IE_OCTETS) -> tuple[CellList, ...]:
    """``cells`` cut into lists that each fit one cell list IE (65535 octets, of which one is
    the discriminator: at most 9362 CGIs, 32767 CIs). One WRITE-REPLACE or KILL per part."""
    size = _CELL_ID_SIZE[cells.kind]
    if size == 0 or 1 + size * len(cells.cells) <= max_octets:
        return (cells,)
    per_part = (max_octets - 1) // size
    return tuple(
        CellList(cells.kind, cells.cells[start : start + per_part])
        for start in range(0, len(cells.cells), per_part)
    )


@dataclass(frozen=True, slots=True)
class CellFailure:
    """One failure list entry (8.2.11): the cell (with its own discriminator) and why."""

    cell: CellId
    cause: int

    def __str__(self) -> str:
        return f"{self.cell}: {cause_name(self.cause)}"


@dataclass(frozen=True, slots=True)
class BroadcastsCompleted:
    """One number-of-broadcasts-completed list entry (8.2.10)."""

    cell: CellId
    count: int
    info: int = BroadcastInfo.VALID


@dataclass(frozen=True, slots=True)
class CompletedList:
    kind: CellIdKind
    entries: tuple[BroadcastsCompleted, ...] = ()

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.cell.kind != self.kind:
                raise CbspEncodeError(
                    f"completed list is {self.kind.name} but {entry.cell} is {entry.cell.kind.name}"
                )


@dataclass(frozen=True, slots=True)
class CellLoad:
    """One radio resource loading list entry (8.2.12): CBCH load in percent, two figures."""

    cell: CellId
    load1: int
    load2: int


@dataclass(frozen=True, slots=True)
class LoadingList:
    kind: CellIdKind
    entries: tuple[CellLoad, ...] = ()

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.cell.kind != self.kind:
                raise CbspEncodeError(
                    f"loading list is {self.kind.name} but {entry.cell} is {entry.cell.kind.name}"
                )


# ---------------------------------------------------------------------------------------------
# Message contents


@dataclass(frozen=True, slots=True)
class Page:
    """One CBS message information page as CBSP carries it: 82 content octets (TS 23.041
    9.4.1.2.4, without the 6-octet header the BSC adds) and how many of them hold text."""

    content: bytes
    user_info_length: int

    def __post_init__(self) -> None:
        if len(self.content) != PAGE_CONTENT_OCTETS:
            raise CbspEncodeError(
                f"a page holds exactly {PAGE_CONTENT_OCTETS} octets, not {len(self.content)} "
                "(pad with the coding's fill characters)"
            )
        if not 0 <= self.user_info_length <= PAGE_CONTENT_OCTETS:
            raise CbspEncodeError(
                f"user information length {self.user_info_length} must be 0 to "
                f"{PAGE_CONTENT_OCTETS}"
            )


@dataclass(frozen=True, slots=True)
class CbsContent:
    """What a WRITE-REPLACE for a CBS message carries besides its identity."""

    pages: tuple[Page, ...]
    dcs: int
    repetition_period: int  # in units of 1.883 s, 1 to 4095
    broadcasts_requested: int = 0  # 0: broadcast until killed
    category: Category = Category.NORMAL
    channel: Channel = Channel.BASIC

    def __post_init__(self) -> None:
        if not 1 <= len(self.pages) <= MAX_PAGES:
            raise CbspEncodeError(
                f"a CBS message has 1 to {MAX_PAGES} pages, not {len(self.pages)}"
            )
        if not 0 <= self.dcs <= 0xFF:
            raise CbspEncodeError(f"data coding scheme {self.dcs} must be one octet")
        if not 1 <= self.repetition_period <= 4095:
            raise CbspEncodeError(
                f"repetition period {self.repetition_period} must be 1 to 4095 "
                f"(units of {CBCH_CYCLE_SECONDS} s)"
            )
        if not 0 <= self.broadcasts_requested <= 0xFFFF:
            raise CbspEncodeError(
                f"number of broadcasts requested {self.broadcasts_requested} must be 0 "
                "(until killed) to 65535"
            )


@dataclass(frozen=True, slots=True)
class WarningType:
    """TS 23.041 9.3.24: warning type value (0 earthquake, 1 tsunami, 2 both, 3 test,
    4 other), and whether phones alert the user and pop the warning up."""

    value: int
    emergency_user_alert: bool = True
    popup: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.value <= 127:
            raise CbspEncodeError(f"warning type value {self.value} must be 0 to 127")


@dataclass(frozen=True, slots=True)
class EmergencyContent:
    """What a WRITE-REPLACE for an ETWS (emergency) primary notification carries."""

    warning_type: WarningType
    security_info: bytes = bytes(SECURITY_INFO_OCTETS)
    warning_period: int | None = None  # seconds; None: until killed ("infinite")
    emergency_indicator: int = 1  # 8.2.17: 1 = ETWS information available

    def __post_init__(self) -> None:
        if len(self.security_info) != SECURITY_INFO_OCTETS:
            raise CbspEncodeError(
                f"warning security information is {SECURITY_INFO_OCTETS} octets, "
                f"not {len(self.security_info)}"
            )
        if self.warning_period is not None:
            period_code(self.warning_period, "warning period")
        if not 0 <= self.emergency_indicator <= 0xFF:
            raise CbspEncodeError("emergency indicator must be one octet")


# ---------------------------------------------------------------------------------------------
# Period codes (8.2.25 and 8.2.18a)

_PERIOD_RANGES = (  # (first code, last code, seconds at first code, step)
    (1, 10, 1, 1),
    (11, 20, 12, 2),
    (21, 38, 35, 5),
    (39, 86, 130, 10),
    (87, 186, 630, 30),
)


def period_seconds(code: int) -> int | None:
    """The seconds an 8.2.25 period code stands for; None for 0 ("infinite")."""
    if code == 0:
        return None
    for first, last, start, step in _PERIOD_RANGES:
        if first <= code <= last:
            return start + (code - first) * step
    raise ValueError(f"period code {code} is reserved (codes 187 to 255 are not defined)")


def period_code(seconds: int, what: str = "period") -> int:
    """The 8.2.25 code for ``seconds``; raises if the code has no such value (see
    :func:`round_period`)."""
    for first, last, start, step in _PERIOD_RANGES:
        end = start + (last - first) * step
        if start <= seconds <= end and (seconds - start) % step == 0:
            return first + (seconds - start) // step
    raise CbspEncodeError(
        f"{what} {seconds} s cannot be coded: use 1-10 s, 12-30 s in 2 s steps, 35-120 s in "
        "5 s steps, 130-600 s in 10 s steps or 630-3600 s in 30 s steps (round_period() helps)"
    )


def round_period(seconds: float) -> int:
    """The smallest codable period of at least ``seconds`` (at most 3600 s)."""
    for first, last, start, step in _PERIOD_RANGES:
        for code in range(first, last + 1):
            value = start + (code - first) * step
            if value >= seconds:
                return value
    raise CbspEncodeError(f"period {seconds} s is longer than the 3600 s the code allows")


# ---------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True, slots=True)
class WriteReplace:
    """8.1.3.1: broadcast a new message (no ``old_serial``) or replace the message
    ``message_id``/``old_serial`` by ``new_serial`` in the listed cells."""

    message_id: int
    new_serial: int
    cells: CellList
    content: CbsContent | EmergencyContent
    old_serial: int | None = None
    message_type: ClassVar[MessageType] = MessageType.WRITE_REPLACE


@dataclass(frozen=True, slots=True)
class WriteReplaceComplete:
    message_id: int
    new_serial: int
    old_serial: int | None = None
    completed: CompletedList | None = None
    cells: CellList | None = None
    channel: Channel | None = None
    message_type: ClassVar[MessageType] = MessageType.WRITE_REPLACE_COMPLETE


@dataclass(frozen=True, slots=True)
class WriteReplaceFailure:
    message_id: int
    new_serial: int
    failures: tuple[CellFailure, ...]
    old_serial: int | None = None
    completed: CompletedList | None = None
    cells: CellList | None = None  # the cells where it did succeed
    channel: Channel | None = None
    message_type: ClassVar[MessageType] = MessageType.WRITE_REPLACE_FAILURE


@dataclass(frozen=True, slots=True)
class Kill:
    """8.1.3.4: stop a message. ``channel`` None kills an emergency (ETWS) message: osmo-bsc
    reads a KILL without channel indicator as one."""

    message_id: int
    old_serial: int
    cells: CellList
    channel: Channel | None = Channel.BASIC
    message_type: ClassVar[MessageType] = MessageType.KILL


@dataclass(frozen=True, slots=True)
class KillComplete:
    message_id: int
    old_serial: int
    completed: CompletedList | None = None
    cells: CellList | None = None
    channel: Channel | None = None
    message_type: ClassVar[MessageType] = MessageType.KILL_COMPLETE


@dataclass(frozen=True, slots=True)
class KillFailure:
    message_id: int
    old_serial: int
    failures: tuple[CellFailure, ...]
    completed: CompletedList | None = None
    cells: CellList | None = None
    channel: Channel | None = None
    message_type: ClassVar[MessageType] = MessageType.KILL_FAILURE


@dataclass(frozen=True, slots=True)
class LoadQuery:
    cells: CellList
    channel: Channel = Channel.BASIC
    message_type: ClassVar[MessageType] = MessageType.LOAD_QUERY


@dataclass(frozen=True, slots=True)
class LoadQueryComplete:
    loading: LoadingList
    channel: Channel = Channel.BASIC
    message_type: ClassVar[MessageType] = MessageType.LOAD_QUERY_COMPLETE


@dataclass(frozen=True, slots=True)
class LoadQueryFailure:
    failures: tuple[CellFailure, ...]
    channel: Channel = Channel.BASIC
    loading: LoadingList | None = None
    message_type: ClassVar[MessageType] = MessageType.LOAD_QUERY_FAILURE


@dataclass(frozen=True, slots=True)
class MessageStatusQuery:
    message_id: int
    old_serial: int
    cells: CellList
    channel: Channel = Channel.BASIC
    message_type: ClassVar[MessageType] = MessageType.MESSAGE_STATUS_QUERY


@dataclass(frozen=True, slots=True)
class MessageStatusQueryComplete:
    message_id: int
    old_serial: int
    completed: CompletedList
    channel: Channel = Channel.BASIC
    message_type: ClassVar[MessageType] = MessageType.MESSAGE_STATUS_QUERY_COMPLETE


@dataclass(frozen=True, slots=True)
class MessageStatusQueryFailure:
    message_id: int
    old_serial: int
    failures: tuple[CellFailure, ...]
    channel: Channel = Channel.BASIC
    completed: CompletedList | None = None
    message_type: ClassVar[MessageType] = MessageType.MESSAGE_STATUS_QUERY_FAILURE


@dataclass(frozen=True, slots=True)
class Reset:
    """8.1.3.16: the BSC stops and forgets every message in the listed cells."""

    cells: CellList = field(default_factory=CellList.all_in_bss)
    message_type: ClassVar[MessageType] = MessageType.RESET


@dataclass(frozen=True, slots=True)
class ResetComplete:
    cells: CellList
    message_type: ClassVar[MessageType] = MessageType.RESET_COMPLETE


@dataclass(frozen=True, slots=True)
class ResetFailure:
    failures: tuple[CellFailure, ...]
    cells: CellList | None = None
    message_type: ClassVar[MessageType] = MessageType.RESET_FAILURE


@dataclass(frozen=True, slots=True)
class Restart:
    """8.1.3.19, BSC to CBC: the cells are operational again; ``recovery`` says whether the
    BSC still has their messages."""

    cells: CellList
    broadcast_type: BroadcastType = BroadcastType.CBS
    recovery: Recovery = Recovery.DATA_LOST
    message_type: ClassVar[MessageType] = MessageType.RESTART


@dataclass(frozen=True, slots=True)
class Failure:
    """8.1.3.20, BSC to CBC: broadcasting stopped in the listed cells."""

    failures: tuple[CellFailure, ...]
    broadcast_type: BroadcastType = BroadcastType.CBS
    message_type: ClassVar[MessageType] = MessageType.FAILURE


@dataclass(frozen=True, slots=True)
class ErrorIndication:
    """8.1.3.21: the peer could not process a message (e.g. a missing mandatory IE)."""

    cause: int
    message_id: int | None = None
    new_serial: int | None = None
    old_serial: int | None = None
    channel: Channel | None = None
    message_type: ClassVar[MessageType] = MessageType.ERROR_INDICATION


@dataclass(frozen=True, slots=True)
class KeepAlive:
    """8.1.3.18a, CBC to BSC: ``repetition_period`` tells the BSC how often to expect one
    (seconds, 1 to 120, coded like the warning period)."""

    repetition_period: int
    message_type: ClassVar[MessageType] = MessageType.KEEP_ALIVE

    def __post_init__(self) -> None:
        if not 1 <= self.repetition_period <= 120:
            raise CbspEncodeError(
                f"keep-alive repetition period {self.repetition_period} s must be 1 to 120 s"
            )
        period_code(self.repetition_period, "keep-alive repetition period")


@dataclass(frozen=True, slots=True)
class KeepAliveComplete:
    message_type: ClassVar[MessageType] = MessageType.KEEP_ALIVE_COMPLETE


CbspMessage: TypeAlias = (
    WriteReplace
    | WriteReplaceComplete
    | WriteReplaceFailure
    | Kill
    | KillComplete
    | KillFailure
    | LoadQuery
    | LoadQueryComplete
    | LoadQueryFailure
    | MessageStatusQuery
    | MessageStatusQueryComplete
    | MessageStatusQueryFailure
    | Reset
    | ResetComplete
    | ResetFailure
    | Restart
    | Failure
    | ErrorIndication
    | KeepAlive
    | KeepAliveComplete
)


# ---------------------------------------------------------------------------------------------
# Encoding


@functools.lru_cache(maxsize=256)
def _bcd_plmn(mcc: str, mnc: str) -> bytes:
    """MCC/MNC as 3 octets of swapped BCD (TS 24.008 10.5.1.3), F filling a 2-digit MNC."""
    d = [int(c) for c in mcc]
    n = [int(c) for c in mnc]
    mnc3 = n[2] if len(n) == 3 else 0xF
    return bytes(((d[1] << 4) | d[0], (mnc3 << 4) | d[2], (n[1] << 4) | n[0]))


_LAC_CI = struct.Struct(">HH")


def _cell_id_bytes(cell: CellId) -> bytes:
    match cell:
        case Cgi(mcc, mnc, lac, ci):
            return _bcd_plmn(mcc, mnc) + _LAC_CI.pack(lac, ci)
        case LacCi(lac, ci):
            return _LAC_CI.pack(lac, ci)
        case Ci(ci):
            return struct.pack(">H", ci)
        case Lai(mcc, mnc, lac):
            return _bcd_plmn(mcc, mnc) + struct.pack(">H", lac)
        case Lac(lac):
            return struct.pack(">H", lac)
        case AllInBss():
            return b""


def _tl16v(iei: Iei, value: bytes) -> bytes:
    if len(value) > MAX_IE_OCTETS:
        raise CbspEncodeError(
            f"{_ie_name(iei)} is {len(value)} octets, more than the 65535 "
            "an IE can hold: split it into several messages (split_cells)"
        )
    return struct.pack(">BH", iei, len(value)) + value


def _cell_list_ie(cells: CellList) -> bytes:
    return _tl16v(
        Iei.CELL_LIST, bytes([cells.kind]) + b"".join(_cell_id_bytes(c) for c in cells.cells)
    )


def _failure_list_ie(failures: tuple[CellFailure, ...]) -> bytes:
    if not failures:
        raise CbspEncodeError("a failure list needs at least one entry")
    body = bytearray()
    for failure in failures:
        if not 0 <= failure.cause <= 0xFF:
            raise CbspEncodeError(f"cause {failure.cause} must be one octet")
        body.append(failure.cell.kind)
        body += _cell_id_bytes(failure.cell)
        body.append(failure.cause)
    return _tl16v(Iei.FAILURE_LIST, bytes(body))


def _completed_list_ie(completed: CompletedList) -> bytes:
    body = bytearray([completed.kind])
    for entry in completed.entries:
        _check_u16(entry.count, "number of broadcasts completed")
        if not 0 <= entry.info <= 0xFF:
            raise CbspEncodeError(f"number of broadcast info {entry.info} must be one octet")
        body += _cell_id_bytes(entry.cell) + struct.pack(">HB", entry.count, entry.info)
    return _tl16v(Iei.NUMBER_OF_BROADCASTS_COMPLETED_LIST, bytes(body))


def _loading_list_ie(loading: LoadingList) -> bytes:
    body = bytearray([loading.kind])
    for entry in loading.entries:
        if not (0 <= entry.load1 <= 0xFF and 0 <= entry.load2 <= 0xFF):
            raise CbspEncodeError("cell loads must be one octet each")
        body += _cell_id_bytes(entry.cell) + bytes((entry.load1, entry.load2))
    return _tl16v(Iei.RADIO_RESOURCE_LOADING_LIST, bytes(body))


def _u16_ie(iei: Iei, value: int, what: str) -> bytes:
    _check_u16(value, what)
    return struct.pack(">BH", iei, value)


def _u8_ie(iei: Iei, value: int) -> bytes:
    return bytes((iei, value))


def _repetition_period_ie(period: int) -> bytes:
    # 8.2.8, the specification's layout (see the module docstring): 8 high bits in octet 2,
    # 4 low bits in bits 1-4 of octet 3, bits 5-8 of octet 3 spare (0).
    return bytes((Iei.REPETITION_PERIOD, period >> 4, period & 0x0F))


def _warning_type_bytes(warning: WarningType) -> bytes:
    # TS 23.041 9.3.24: value in bits 8-2 of octet 1, user alert in bit 1; popup in bit 8 of
    # octet 2, the 7 bits below it are padding (0).
    return bytes(((warning.value << 1) | int(warning.emergency_user_alert), warning.popup << 7))


def _serials(msg_id: int, new: int | None, old: int | None) -> bytes:
    out = _u16_ie(Iei.MESSAGE_IDENTIFIER, msg_id, "message identifier")
    if new is not None:
        out += _u16_ie(Iei.NEW_SERIAL_NUMBER, new, "new serial number")
    if old is not None:
        out += _u16_ie(Iei.OLD_SERIAL_NUMBER, old, "old serial number")
    return out


def _channel(channel: Channel | None) -> bytes:
    return b"" if channel is None else _u8_ie(Iei.CHANNEL_INDICATOR, channel)


def _optional(value: CellList | CompletedList | LoadingList | None) -> bytes:
    match value:
        case None:
            return b""
        case CellList():
            return _cell_list_ie(value)
        case CompletedList():
            return _completed_list_ie(value)
        case LoadingList():
            return _loading_list_ie(value)


def _write_replace_body(msg: WriteReplace) -> bytes:
    out = _serials(msg.message_id, msg.new_serial, msg.old_serial) + _cell_list_ie(msg.cells)
    content = msg.content
    if isinstance(content, CbsContent):
        out += _u8_ie(Iei.CHANNEL_INDICATOR, content.channel)
        out += _u8_ie(Iei.CATEGORY, content.category)
        out += _repetition_period_ie(content.repetition_period)
        out += _u16_ie(
            Iei.NUMBER_OF_BROADCASTS_REQUESTED,
            content.broadcasts_requested,
            "number of broadcasts requested",
        )
        out += _u8_ie(Iei.NUMBER_OF_PAGES, len(content.pages))
        out += _u8_ie(Iei.DATA_CODING_SCHEME, content.dcs)
        for page in content.pages:
            out += bytes((Iei.MESSAGE_CONTENT, page.user_info_length)) + page.content
        return out
    code = 0 if content.warning_period is None else period_code(content.warning_period)
    out += _u8_ie(Iei.EMERGENCY_INDICATOR, content.emergency_indicator)
    out += bytes([Iei.WARNING_TYPE]) + _warning_type_bytes(content.warning_type)
    out += bytes([Iei.WARNING_SECURITY_INFORMATION]) + content.security_info
    out += _u8_ie(Iei.WARNING_PERIOD, code)
    return out


def _body(msg: CbspMessage) -> bytes:
    match msg:
        case WriteReplace():
            return _write_replace_body(msg)
        case WriteReplaceComplete():
            return (
                _serials(msg.message_id, msg.new_serial, msg.old_serial)
                + _optional(msg.completed)
                + _optional(msg.cells)
                + _channel(msg.channel)
            )
        case WriteReplaceFailure():
            return (
                _serials(msg.message_id, msg.new_serial, msg.old_serial)
                + _failure_list_ie(msg.failures)
                + _optional(msg.completed)
                + _optional(msg.cells)
                + _channel(msg.channel)
            )
        case Kill():
            return (
                _serials(msg.message_id, None, msg.old_serial)
                + _cell_list_ie(msg.cells)
                + _channel(msg.channel)
            )
        case KillComplete():
            return (
                _serials(msg.message_id, None, msg.old_serial)
                + _optional(msg.completed)
                + _optional(msg.cells)
                + _channel(msg.channel)
            )
        case KillFailure():
            return (
                _serials(msg.message_id, None, msg.old_serial)
                + _failure_list_ie(msg.failures)
                + _optional(msg.completed)
                + _optional(msg.cells)
                + _channel(msg.channel)
            )
        case LoadQuery():
            return _cell_list_ie(msg.cells) + _channel(msg.channel)
        case LoadQueryComplete():
            return _loading_list_ie(msg.loading) + _channel(msg.channel)
        case LoadQueryFailure():
            return _failure_list_ie(msg.failures) + _channel(msg.channel) + _optional(msg.loading)
        case MessageStatusQuery():
            return (
                _serials(msg.message_id, None, msg.old_serial)
                + _cell_list_ie(msg.cells)
                + _channel(msg.channel)
            )
        case MessageStatusQueryComplete():
            return (
                _serials(msg.message_id, None, msg.old_serial)
                + _completed_list_ie(msg.completed)
                + _channel(msg.channel)
            )
        case MessageStatusQueryFailure():
            return (
                _serials(msg.message_id, None, msg.old_serial)
                + _failure_list_ie(msg.failures)
                + _channel(msg.channel)
                + _optional(msg.completed)
            )
        case Reset() | ResetComplete():
            return _cell_list_ie(msg.cells)
        case ResetFailure():
            return _failure_list_ie(msg.failures) + _optional(msg.cells)
        case Restart():
            return (
                _cell_list_ie(msg.cells)
                + _u8_ie(Iei.BROADCAST_MESSAGE_TYPE, msg.broadcast_type)
                + _u8_ie(Iei.RECOVERY_INDICATION, msg.recovery)
            )
        case Failure():
            return _failure_list_ie(msg.failures) + _u8_ie(
                Iei.BROADCAST_MESSAGE_TYPE, msg.broadcast_type
            )
        case ErrorIndication():
            if not 0 <= msg.cause <= 0xFF:
                raise CbspEncodeError(f"cause {msg.cause} must be one octet")
            out = _u8_ie(Iei.CAUSE, msg.cause)
            if msg.message_id is not None:
                out += _u16_ie(Iei.MESSAGE_IDENTIFIER, msg.message_id, "message identifier")
            if msg.new_serial is not None:
                out += _u16_ie(Iei.NEW_SERIAL_NUMBER, msg.new_serial, "new serial number")
            if msg.old_serial is not None:
                out += _u16_ie(Iei.OLD_SERIAL_NUMBER, msg.old_serial, "old serial number")
            return out + _channel(msg.channel)
        case KeepAlive():
            return _u8_ie(Iei.KEEP_ALIVE_REPETITION_PERIOD, period_code(msg.repetition_period))
        case KeepAliveComplete():
            return b""


def encode(msg: CbspMessage) -> bytes:
    """The bytes of one CBSP message, header included."""
    body = _body(msg)
    if len(body) > MAX_MESSAGE_LENGTH:
        raise CbspEncodeError(
            f"{msg.message_type.label} would be {len(body)} octets, more than the "
            f"{MAX_MESSAGE_LENGTH} we allow: split its cell list"
        )
    return bytes([msg.message_type]) + len(body).to_bytes(3, "big") + body


# ---------------------------------------------------------------------------------------------
# Decoding


@dataclass(frozen=True, slots=True)
class _Ie:
    iei: int
    offset: int  # of the identifier octet, counted from the message type octet
    value: bytes

    @property
    def value_offset(self) -> int:
        return self.offset + 1 + (2 if _IE_LENGTH[self.iei] is None else 0)


def _ie_name(iei: int) -> str:
    return Iei(iei).name.lower().replace("_", " ")


def _split_ies(body: bytes) -> list[_Ie]:
    ies: list[_Ie] = []
    pos = 0
    while pos < len(body):
        offset = HEADER_LENGTH + pos
        iei = body[pos]
        if iei not in _IE_LENGTH:
            raise CbspDecodeError(
                f"unknown information element identifier 0x{iei:02x}: its length cannot be "
                "known, so the rest of the message cannot be read",
                offset=offset,
            )
        length = _IE_LENGTH[iei]
        pos += 1
        if length is None:
            if pos + 2 > len(body):
                raise CbspDecodeError(
                    f"{_ie_name(iei)} IE is cut off before its 2-octet length",
                    offset=offset,
                )
            length = int.from_bytes(body[pos : pos + 2], "big")
            pos += 2
        if pos + length > len(body):
            raise CbspDecodeError(
                f"{_ie_name(iei)} IE needs {length} octets but only "
                f"{len(body) - pos} are left in the message",
                offset=offset,
            )
        ies.append(_Ie(iei, offset, body[pos : pos + length]))
        pos += length
    return ies


_E = TypeVar("_E", bound=IntEnum)


class _Reader:
    """The IEs of one message, looked up by identifier, with errors naming the message."""

    def __init__(self, name: str, ies: list[_Ie]) -> None:
        self.name = name
        self.ies = ies

    def all(self, iei: Iei) -> list[_Ie]:
        return [ie for ie in self.ies if ie.iei == iei]

    def optional(self, iei: Iei) -> _Ie | None:
        found = self.all(iei)
        if len(found) > 1:
            raise CbspDecodeError(
                f"{self.name} carries {_ie_name(iei)} {len(found)} times", offset=found[1].offset
            )
        return found[0] if found else None

    def required(self, iei: Iei) -> _Ie:
        ie = self.optional(iei)
        if ie is None:
            raise CbspDecodeError(
                f"{self.name} lacks its mandatory {_ie_name(iei)} IE",
                offset=0,
            )
        return ie

    def u16(self, iei: Iei) -> int:
        return int.from_bytes(self.required(iei).value, "big")

    def u16_opt(self, iei: Iei) -> int | None:
        ie = self.optional(iei)
        return None if ie is None else int.from_bytes(ie.value, "big")

    def u8(self, iei: Iei) -> int:
        return self.required(iei).value[0]

    def channel(self, *, required: bool = False) -> Channel | None:
        ie = (
            self.required(Iei.CHANNEL_INDICATOR)
            if required
            else self.optional(Iei.CHANNEL_INDICATOR)
        )
        if ie is None:
            return None
        return _enum(Channel, ie.value[0] & 0x01, ie, "channel indicator")


def _enum(kind: type[_E], value: int, ie: _Ie, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise CbspDecodeError(f"{what} {value} is not defined", offset=ie.value_offset) from None


def _known(kind: type[_E], value: int) -> int:
    """The enum member for a value a peer may also send outside the defined list."""
    try:
        return kind(value)
    except ValueError:
        return value


def _bcd_digits(data: bytes, offset: int) -> tuple[str, str]:
    nibbles = [data[0] & 0x0F, data[0] >> 4, data[1] & 0x0F, data[2] & 0x0F, data[2] >> 4]
    mnc3 = data[1] >> 4
    digits = nibbles + ([mnc3] if mnc3 != 0xF else [])
    if any(d > 9 for d in digits):
        raise CbspDecodeError(f"PLMN {data.hex()} is not BCD digits", offset=offset)
    mcc = "".join(str(d) for d in nibbles[:3])
    mnc = "".join(str(d) for d in nibbles[3:5]) + ("" if mnc3 == 0xF else str(mnc3))
    return mcc, mnc


def _kind(value: int, offset: int) -> CellIdKind:
    try:
        return CellIdKind(value & 0x0F)
    except ValueError:
        raise CbspDecodeError(
            f"cell identification discriminator {value & 0x0F} is not one CBSP defines "
            "(0 CGI, 1 LAC+CI, 2 CI, 4 LAI, 5 LAC, 6 all in BSS)",
            offset=offset,
        ) from None


def _cell_id(kind: int, data: bytes, pos: int, base: int) -> tuple[CellId, int]:
    """Decode one identity of ``kind`` at ``data[pos:]``; ``base`` is data's octet offset."""
    ckind = _kind(kind, base + pos - 1)
    size = _CELL_ID_SIZE[ckind]
    if pos + size > len(data):
        raise CbspDecodeError(
            f"a {ckind.name} identity needs {size} octets, only {len(data) - pos} are left",
            offset=base + pos,
        )
    raw = data[pos : pos + size]
    cell: CellId
    match ckind:
        case CellIdKind.CGI:
            mcc, mnc = _bcd_digits(raw, base + pos)
            lac, ci = struct.unpack(">HH", raw[3:])
            cell = Cgi(mcc, mnc, lac, ci)
        case CellIdKind.LAC_CI:
            cell = LacCi(*struct.unpack(">HH", raw))
        case CellIdKind.CI:
            cell = Ci(int.from_bytes(raw, "big"))
        case CellIdKind.LAI:
            mcc, mnc = _bcd_digits(raw, base + pos)
            cell = Lai(mcc, mnc, int.from_bytes(raw[3:], "big"))
        case CellIdKind.LAC:
            cell = Lac(int.from_bytes(raw, "big"))
        case CellIdKind.ALL_IN_BSS:
            cell = AllInBss()
    return cell, pos + size


def _list_kind(ie: _Ie, what: str) -> CellIdKind:
    if not ie.value:
        raise CbspDecodeError(f"{what} is empty: it lacks its discriminator", offset=ie.offset)
    return _kind(ie.value[0], ie.value_offset)


def _cell_list(ie: _Ie) -> CellList:
    kind = _list_kind(ie, "cell list")
    data, base = ie.value, ie.value_offset
    if kind == CellIdKind.ALL_IN_BSS:
        if len(data) > 1:
            raise CbspDecodeError(
                "an all-in-BSS cell list has entries after its discriminator", offset=base + 1
            )
        return CellList(kind)
    cells: list[CellId] = []
    pos = 1
    while pos < len(data):
        cell, pos = _cell_id(kind, data, pos, base)
        cells.append(cell)
    return CellList(kind, tuple(cells))


def _failure_list(ie: _Ie) -> tuple[CellFailure, ...]:
    data, base = ie.value, ie.value_offset
    failures: list[CellFailure] = []
    pos = 0
    while pos < len(data):
        cell, pos = _cell_id(data[pos], data, pos + 1, base)
        if pos >= len(data):
            raise CbspDecodeError("failure list entry lacks its cause octet", offset=base + pos)
        failures.append(CellFailure(cell, _known(Cause, data[pos])))
        pos += 1
    if not failures:
        raise CbspDecodeError("failure list has no entries", offset=ie.offset)
    return tuple(failures)


def _completed_list(ie: _Ie) -> CompletedList:
    kind = _list_kind(ie, "number of broadcasts completed list")
    data, base = ie.value, ie.value_offset
    entries: list[BroadcastsCompleted] = []
    pos = 1
    while pos < len(data):
        cell, pos = _cell_id(kind, data, pos, base)
        if pos + 3 > len(data):
            raise CbspDecodeError(
                "completed list entry lacks its count and info octets", offset=base + pos
            )
        count, info = struct.unpack(">HB", data[pos : pos + 3])
        entries.append(BroadcastsCompleted(cell, count, _known(BroadcastInfo, info)))
        pos += 3
    return CompletedList(kind, tuple(entries))


def _loading_list(ie: _Ie) -> LoadingList:
    kind = _list_kind(ie, "radio resource loading list")
    data, base = ie.value, ie.value_offset
    entries: list[CellLoad] = []
    pos = 1
    while pos < len(data):
        cell, pos = _cell_id(kind, data, pos, base)
        if pos + 2 > len(data):
            raise CbspDecodeError("loading list entry lacks its two load octets", offset=base + pos)
        entries.append(CellLoad(cell, data[pos], data[pos + 1]))
        pos += 2
    return LoadingList(kind, tuple(entries))


def _opt_cells(r: _Reader) -> CellList | None:
    ie = r.optional(Iei.CELL_LIST)
    return None if ie is None else _cell_list(ie)


def _opt_completed(r: _Reader) -> CompletedList | None:
    ie = r.optional(Iei.NUMBER_OF_BROADCASTS_COMPLETED_LIST)
    return None if ie is None else _completed_list(ie)


def _period(ie: _Ie, what: str) -> int | None:
    try:
        return period_seconds(ie.value[0])
    except ValueError as exc:
        raise CbspDecodeError(f"{what}: {exc}", offset=ie.value_offset) from None


def _decode_write_replace(r: _Reader) -> WriteReplace:
    cells = _cell_list(r.required(Iei.CELL_LIST))
    content: CbsContent | EmergencyContent
    if r.optional(Iei.CHANNEL_INDICATOR) is not None:
        pages_ie = r.required(Iei.NUMBER_OF_PAGES)
        declared = pages_ie.value[0] & 0x0F
        page_ies = r.all(Iei.MESSAGE_CONTENT)
        if declared != len(page_ies) or not 1 <= declared <= MAX_PAGES:
            raise CbspDecodeError(
                f"number of pages says {declared} but {len(page_ies)} message content IEs "
                f"follow (1 to {MAX_PAGES} needed)",
                offset=pages_ie.value_offset,
            )
        pages = []
        for ie in page_ies:
            if ie.value[0] > PAGE_CONTENT_OCTETS:
                raise CbspDecodeError(
                    f"user information length {ie.value[0]} exceeds {PAGE_CONTENT_OCTETS}",
                    offset=ie.value_offset,
                )
            pages.append(Page(ie.value[1:], ie.value[0]))
        period_ie = r.required(Iei.REPETITION_PERIOD)
        period = (period_ie.value[0] << 4) | (period_ie.value[1] & 0x0F)  # see module docstring
        if period == 0:
            raise CbspDecodeError(
                "repetition period 0 is not allowed (1 to 4095)", offset=period_ie.value_offset
            )
        category_ie = r.required(Iei.CATEGORY)
        channel = r.channel(required=True)
        assert channel is not None
        content = CbsContent(
            pages=tuple(pages),
            dcs=r.u8(Iei.DATA_CODING_SCHEME),
            repetition_period=period,
            broadcasts_requested=r.u16(Iei.NUMBER_OF_BROADCASTS_REQUESTED),
            category=_enum(Category, category_ie.value[0], category_ie, "category"),
            channel=channel,
        )
    else:
        wt = r.required(Iei.WARNING_TYPE).value
        content = EmergencyContent(
            warning_type=WarningType(wt[0] >> 1, bool(wt[0] & 1), bool(wt[1] & 0x80)),
            security_info=r.required(Iei.WARNING_SECURITY_INFORMATION).value,
            warning_period=_period(r.required(Iei.WARNING_PERIOD), "warning period"),
            emergency_indicator=r.u8(Iei.EMERGENCY_INDICATOR),
        )
    return WriteReplace(
        message_id=r.u16(Iei.MESSAGE_IDENTIFIER),
        new_serial=r.u16(Iei.NEW_SERIAL_NUMBER),
        cells=cells,
        content=content,
        old_serial=r.u16_opt(Iei.OLD_SERIAL_NUMBER),
    )


def _broadcast_type(r: _Reader) -> BroadcastType:
    ie = r.required(Iei.BROADCAST_MESSAGE_TYPE)
    return _enum(BroadcastType, ie.value[0], ie, "broadcast message type")


def _decode_body(mtype: MessageType, r: _Reader) -> CbspMessage:
    match mtype:
        case MessageType.WRITE_REPLACE:
            return _decode_write_replace(r)
        case MessageType.WRITE_REPLACE_COMPLETE:
            return WriteReplaceComplete(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.NEW_SERIAL_NUMBER),
                r.u16_opt(Iei.OLD_SERIAL_NUMBER),
                _opt_completed(r),
                _opt_cells(r),
                r.channel(),
            )
        case MessageType.WRITE_REPLACE_FAILURE:
            return WriteReplaceFailure(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.NEW_SERIAL_NUMBER),
                _failure_list(r.required(Iei.FAILURE_LIST)),
                r.u16_opt(Iei.OLD_SERIAL_NUMBER),
                _opt_completed(r),
                _opt_cells(r),
                r.channel(),
            )
        case MessageType.KILL:
            return Kill(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.OLD_SERIAL_NUMBER),
                _cell_list(r.required(Iei.CELL_LIST)),
                r.channel(),
            )
        case MessageType.KILL_COMPLETE:
            return KillComplete(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.OLD_SERIAL_NUMBER),
                _opt_completed(r),
                _opt_cells(r),
                r.channel(),
            )
        case MessageType.KILL_FAILURE:
            return KillFailure(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.OLD_SERIAL_NUMBER),
                _failure_list(r.required(Iei.FAILURE_LIST)),
                _opt_completed(r),
                _opt_cells(r),
                r.channel(),
            )
        case MessageType.LOAD_QUERY:
            return LoadQuery(_cell_list(r.required(Iei.CELL_LIST)), _req_channel(r))
        case MessageType.LOAD_QUERY_COMPLETE:
            return LoadQueryComplete(
                _loading_list(r.required(Iei.RADIO_RESOURCE_LOADING_LIST)), _req_channel(r)
            )
        case MessageType.LOAD_QUERY_FAILURE:
            loading = r.optional(Iei.RADIO_RESOURCE_LOADING_LIST)
            return LoadQueryFailure(
                _failure_list(r.required(Iei.FAILURE_LIST)),
                _req_channel(r),
                None if loading is None else _loading_list(loading),
            )
        case MessageType.MESSAGE_STATUS_QUERY:
            return MessageStatusQuery(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.OLD_SERIAL_NUMBER),
                _cell_list(r.required(Iei.CELL_LIST)),
                _req_channel(r),
            )
        case MessageType.MESSAGE_STATUS_QUERY_COMPLETE:
            return MessageStatusQueryComplete(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.OLD_SERIAL_NUMBER),
                _completed_list(r.required(Iei.NUMBER_OF_BROADCASTS_COMPLETED_LIST)),
                _req_channel(r),
            )
        case MessageType.MESSAGE_STATUS_QUERY_FAILURE:
            return MessageStatusQueryFailure(
                r.u16(Iei.MESSAGE_IDENTIFIER),
                r.u16(Iei.OLD_SERIAL_NUMBER),
                _failure_list(r.required(Iei.FAILURE_LIST)),
                _req_channel(r),
                _opt_completed(r),
            )
        case MessageType.RESET:
            return Reset(_cell_list(r.required(Iei.CELL_LIST)))
        case MessageType.RESET_COMPLETE:
            return ResetComplete(_cell_list(r.required(Iei.CELL_LIST)))
        case MessageType.RESET_FAILURE:
            return ResetFailure(_failure_list(r.required(Iei.FAILURE_LIST)), _opt_cells(r))
        case MessageType.RESTART:
            recovery = r.required(Iei.RECOVERY_INDICATION)
            return Restart(
                _cell_list(r.required(Iei.CELL_LIST)),
                _broadcast_type(r),
                _enum(Recovery, recovery.value[0], recovery, "recovery indication"),
            )
        case MessageType.FAILURE:
            return Failure(_failure_list(r.required(Iei.FAILURE_LIST)), _broadcast_type(r))
        case MessageType.ERROR_INDICATION:
            return ErrorIndication(
                _known(Cause, r.u8(Iei.CAUSE)),
                r.u16_opt(Iei.MESSAGE_IDENTIFIER),
                r.u16_opt(Iei.NEW_SERIAL_NUMBER),
                r.u16_opt(Iei.OLD_SERIAL_NUMBER),
                r.channel(),
            )
        case MessageType.KEEP_ALIVE:
            ie = r.required(Iei.KEEP_ALIVE_REPETITION_PERIOD)
            seconds = _period(ie, "keep-alive repetition period")
            if seconds is None or seconds > 120:
                raise CbspDecodeError(
                    f"keep-alive repetition period code {ie.value[0]} is not 1 to 120 s",
                    offset=ie.value_offset,
                )
            return KeepAlive(seconds)
        case MessageType.KEEP_ALIVE_COMPLETE:
            return KeepAliveComplete()
        case _:
            raise CbspDecodeError(f"{mtype.label} is not supported", offset=0)


def _req_channel(r: _Reader) -> Channel:
    channel = r.channel(required=True)
    assert channel is not None
    return channel


def decode(frame: bytes) -> CbspMessage:
    """One complete message (header and body, nothing more) as its dataclass."""
    if len(frame) < HEADER_LENGTH:
        raise CbspDecodeError(
            f"a message needs a {HEADER_LENGTH}-octet header, got {len(frame)} octets",
            offset=len(frame),
        )
    length = int.from_bytes(frame[1:4], "big")
    if length != len(frame) - HEADER_LENGTH:
        raise CbspDecodeError(
            f"header says {length} octets follow but {len(frame) - HEADER_LENGTH} do", offset=1
        )
    try:
        mtype = MessageType(frame[0])
    except ValueError:
        raise CbspDecodeError(
            f"message type 0x{frame[0]:02x} is not defined in TS 48.049", offset=0
        ) from None
    reader = _Reader(mtype.label, _split_ies(frame[HEADER_LENGTH:]))
    try:
        return _decode_body(mtype, reader)
    except CbspEncodeError as exc:  # a value the dataclasses refuse (e.g. an invalid PLMN)
        raise CbspDecodeError(f"{mtype.label}: {exc}", offset=0) from None


class CbspDecoder:
    """Splits a TCP byte stream into CBSP messages.

    ``feed`` returns every complete message so far. A message that cannot be decoded is
    dropped and raised as :class:`CbspDecodeError` once the messages before it have been
    returned (so nothing is lost): call ``feed(b"")`` again to go on. A header whose length is
    absurd raises with ``fatal`` set: the stream can no longer be framed, close the connection.
    """

    def __init__(self, max_length: int = MAX_MESSAGE_LENGTH) -> None:
        self._buffer = bytearray()
        self._max_length = max_length
        self._consumed = 0  # octets of the stream already framed, for error positions

    @property
    def pending(self) -> int:
        """Octets received that do not form a complete message yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[CbspMessage]:
        self._buffer += data
        messages: list[CbspMessage] = []
        while len(self._buffer) >= HEADER_LENGTH:
            length = int.from_bytes(self._buffer[1:4], "big")
            if length > self._max_length:
                raise CbspDecodeError(
                    f"header at stream octet {self._consumed} announces {length} octets, more "
                    f"than the {self._max_length} allowed: the stream is out of step",
                    offset=1,
                    fatal=True,
                )
            end = HEADER_LENGTH + length
            if len(self._buffer) < end:
                break
            frame = bytes(self._buffer[:end])
            try:
                message = decode(frame)
            except CbspDecodeError:
                if messages:  # hand out the good ones first; this frame raises next time
                    return messages
                del self._buffer[:end]
                self._consumed += end
                raise
            del self._buffer[:end]
            self._consumed += end
            messages.append(message)
        return messages
