"""AX.25 UI frames as APRS uses them (AX.25 2.2, sections 3 and 6), pure.

A frame here is what a KISS TNC carries: the address field, control, PID and information field,
without the HDLC flags and without the frame-check sequence; :func:`with_fcs` adds the FCS for
the places that need it (our own AFSK modulator). Each address is six characters shifted left
by one bit plus an SSID octet ``CRRSSSSE``: C is the command/response bit on the destination and
source and the has-been-repeated ("H") bit on a digipeater, RR the reserved bits (sent as 1),
SSSS the SSID and E set on the last address only.

The FCS is CRC-16/X-25 (ISO 3309 / HDLC, the same as PPP's FCS-16 in RFC 1662): polynomial
x^16 + x^12 + x^5 + 1 processed least significant bit first, preset to all ones, complemented,
and sent low octet first. AX.25 2.2 section 4.4.6 says "most significant bit first", which
contradicts every implementation; we follow HDLC, which is what TNCs and direwolf decode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

CONTROL_UI: Final = 0x03  # Unnumbered Information, P/F bit clear
PID_NO_LAYER3: Final = 0xF0  # what APRS uses
MAX_DIGIPEATERS: Final = 8
MAX_INFO_OCTETS: Final = 256  # AX.25 default N1; APRS (spec 1.0.1 ch. 3) keeps to it too

_CALLSIGN = re.compile(r"[A-Z0-9]{1,6}")
_ADDRESS_TEXT = re.compile(r"(?P<call>[A-Za-z0-9]{1,6})(?:-(?P<ssid>\d{1,2}))?(?P<h>\*)?")
_ADDRESS_OCTETS: Final = 7


class Ax25Error(ValueError):
    """A callsign, frame or octet string that is not valid AX.25 (says which part and why)."""


@dataclass(frozen=True, slots=True)
class Ax25Address:
    """A station or digipeater alias: ``N0CALL-7``, ``WIDE2-2``. ``repeated`` is the H bit of
    a digipeater entry (``WIDE1-1*`` in monitor text); it means nothing on the destination or
    source."""

    callsign: str
    ssid: int = 0
    repeated: bool = False

    def __post_init__(self) -> None:
        if not _CALLSIGN.fullmatch(self.callsign):
            raise Ax25Error(
                f"AX.25 callsign {self.callsign!r} is not valid: it must be 1 to 6 upper-case "
                "letters or digits (write the SSID separately, e.g. N0CALL-7)"
            )
        if not 0 <= self.ssid <= 15:
            raise Ax25Error(
                f"AX.25 SSID {self.ssid} of {self.callsign} is out of range: it must be 0 to 15"
            )

    @classmethod
    def parse(cls, text: str) -> Ax25Address:
        """``N0CALL``, ``n0call-7``, ``WIDE1-1*`` (a trailing ``*`` sets ``repeated``)."""
        match = _ADDRESS_TEXT.fullmatch(text.strip())
        if match is None:
            raise Ax25Error(
                f"{text!r} is not an AX.25 address: expected CALLSIGN or CALLSIGN-SSID "
                "(1 to 6 letters or digits, SSID 0 to 15), e.g. N0CALL-7 or WIDE2-2"
            )
        ssid = int(match["ssid"]) if match["ssid"] is not None else 0
        return cls(match["call"].upper(), ssid, match["h"] is not None)

    def __str__(self) -> str:
        text = self.callsign if self.ssid == 0 else f"{self.callsign}-{self.ssid}"
        return text + ("*" if self.repeated else "")

    def without_repeated(self) -> Ax25Address:
        return Ax25Address(self.callsign, self.ssid)


def parse_path(text: str) -> tuple[Ax25Address, ...]:
    """A digipeater path as written in configs and monitor lines: ``WIDE1-1,WIDE2-2``."""
    items = [item for item in text.split(",") if item.strip()]
    if len(items) > MAX_DIGIPEATERS:
        raise Ax25Error(
            f"digipeater path {text!r} has {len(items)} entries; AX.25 allows at most "
            f"{MAX_DIGIPEATERS}"
        )
    return tuple(Ax25Address.parse(item) for item in items)


@dataclass(frozen=True, slots=True)
class Ax25Frame:
    """One UI frame. ``command`` sets the C bits as AX.25 2.x commands do (destination 1,
    source 0); APRS frames are commands."""

    destination: Ax25Address
    source: Ax25Address
    path: tuple[Ax25Address, ...] = ()
    info: bytes = b""
    control: int = CONTROL_UI
    pid: int = PID_NO_LAYER3
    command: bool = True

    def __post_init__(self) -> None:
        if len(self.path) > MAX_DIGIPEATERS:
            raise Ax25Error(
                f"frame from {self.source} has {len(self.path)} digipeaters; AX.25 allows at "
                f"most {MAX_DIGIPEATERS}"
            )
        if len(self.info) > MAX_INFO_OCTETS:
            raise Ax25Error(
                f"frame from {self.source} has an information field of {len(self.info)} "
                f"octets; the limit is {MAX_INFO_OCTETS} (split the text into more frames)"
            )
        if self.control not in (CONTROL_UI, CONTROL_UI | 0x10):
            raise Ax25Error(
                f"control field 0x{self.control:02X} is not a UI frame (0x03, or 0x13 with "
                "the poll bit); only UI frames are supported"
            )
        if not 0 <= self.pid <= 0xFF:
            raise Ax25Error(f"PID {self.pid} does not fit in one octet")


def _encode_address(address: Ax25Address, *, high_bit: bool, last: bool) -> bytes:
    shifted = bytes(ord(c) << 1 for c in address.callsign.ljust(6))
    ssid_octet = 0x60 | (address.ssid << 1) | (0x80 if high_bit else 0) | (0x01 if last else 0)
    return shifted + bytes([ssid_octet])


def encode_frame(frame: Ax25Frame) -> bytes:
    """The frame as a KISS TNC takes it: addresses, control, PID, info (no flags, no FCS)."""
    parts = [
        _encode_address(frame.destination, high_bit=frame.command, last=False),
        _encode_address(frame.source, high_bit=not frame.command, last=not frame.path),
    ]
    for index, digi in enumerate(frame.path):
        parts.append(
            _encode_address(digi, high_bit=digi.repeated, last=index == len(frame.path) - 1)
        )
    parts.append(bytes([frame.control, frame.pid]))
    parts.append(frame.info)
    return b"".join(parts)


def _decode_address(octets: bytes, offset: int) -> tuple[Ax25Address, bool, bool]:
    """The address at ``offset``, its C/H bit and whether it is the last one."""
    chars = []
    for position, octet in enumerate(octets[:6]):
        if octet & 0x01:
            raise Ax25Error(
                f"octet {offset + position}: the extension bit is set inside a callsign, so the "
                "address field ends too early (a truncated or non-AX.25 frame)"
            )
        chars.append(chr(octet >> 1))
    text = "".join(chars)
    callsign = text.rstrip(" ")
    if " " in callsign:
        raise Ax25Error(f"octet {offset}: callsign {text!r} has a space inside it")
    ssid_octet = octets[6]
    try:
        address = Ax25Address(callsign, (ssid_octet >> 1) & 0x0F)
    except Ax25Error as exc:
        raise Ax25Error(f"octet {offset}: {exc}") from None
    return address, bool(ssid_octet & 0x80), bool(ssid_octet & 0x01)


def decode_frame(data: bytes) -> Ax25Frame:
    """A UI frame from its octets (no flags, no FCS: use :func:`strip_fcs` first if present)."""
    addresses: list[tuple[Ax25Address, bool]] = []
    offset = 0
    while True:
        if offset + _ADDRESS_OCTETS > len(data):
            raise Ax25Error(
                f"frame of {len(data)} octets ends inside the address field (at octet {offset}); "
                "the last address must have its extension bit set"
            )
        address, high_bit, last = _decode_address(data[offset : offset + _ADDRESS_OCTETS], offset)
        addresses.append((address, high_bit))
        offset += _ADDRESS_OCTETS
        if last:
            break
        if len(addresses) == 2 + MAX_DIGIPEATERS:
            raise Ax25Error(
                f"address field runs past {2 + MAX_DIGIPEATERS} addresses without an extension "
                "bit; this is not an AX.25 frame"
            )
    if len(addresses) < 2:
        raise Ax25Error("octet 6: the address field ends after the destination; no source")
    if offset + 2 > len(data):
        raise Ax25Error(
            f"frame ends at octet {len(data)} before its control and PID octets; only UI "
            "frames (control 0x03, PID) are supported"
        )
    control, pid = data[offset], data[offset + 1]
    if control & 0xEF != CONTROL_UI:
        raise Ax25Error(
            f"octet {offset}: control 0x{control:02X} is not a UI frame; only UI frames are "
            "supported"
        )
    (destination, dest_c), (source, source_c) = addresses[0], addresses[1]
    path = tuple(
        Ax25Address(digi.callsign, digi.ssid, repeated) for digi, repeated in addresses[2:]
    )
    return Ax25Frame(
        destination,
        source,
        path,
        bytes(data[offset + 2 :]),
        control=control,
        pid=pid,
        command=dest_c or not source_c,
    )


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE: Final = _crc_table()
FCS_GOOD_RESIDUE: Final = 0x0F47  # fcs16(data + its own FCS) for every good frame


def fcs16(data: bytes) -> int:
    """CRC-16/X-25 of ``data`` (poly 0x1021 reflected, init 0xFFFF, final XOR 0xFFFF)."""
    crc = 0xFFFF
    for octet in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ octet) & 0xFF]
    return crc ^ 0xFFFF


def with_fcs(data: bytes) -> bytes:
    """``data`` followed by its FCS, low octet first (as HDLC sends it)."""
    return data + fcs16(data).to_bytes(2, "little")


def strip_fcs(data: bytes) -> bytes:
    """``data`` without its trailing FCS, after checking it."""
    if len(data) < 3:
        raise Ax25Error(f"{len(data)} octets cannot hold a frame and a 2-octet FCS")
    if fcs16(data) != FCS_GOOD_RESIDUE:
        expected = fcs16(data[:-2])
        found = int.from_bytes(data[-2:], "little")
        raise Ax25Error(
            f"FCS mismatch: the frame says 0x{found:04X}, its contents give 0x{expected:04X} "
            "(the frame was corrupted)"
        )
    return data[:-2]


def to_tnc2(frame: Ax25Frame) -> str:
    """The monitor line TNCs and direwolf print: ``SRC>DEST,PATH:info``. Info octets outside
    printable ASCII are written ``<0xNN>`` as direwolf does."""
    head = ",".join([str(frame.destination), *(str(digi) for digi in frame.path)])
    info = "".join(
        chr(octet) if 0x20 <= octet < 0x7F else f"<0x{octet:02x}>" for octet in frame.info
    )
    return f"{frame.source}>{head}:{info}"


def parse_tnc2(line: str) -> Ax25Frame:
    """A UI frame from a monitor line (``SRC>DEST[,DIGI...]:info``); the inverse of
    :func:`to_tnc2` for frames whose info is printable ASCII."""
    header, colon, info = line.partition(":")
    source, gt, rest = header.partition(">")
    if not colon or not gt:
        raise Ax25Error(f"{line!r} is not a monitor line: expected SOURCE>DEST[,PATH]:info")
    destination, _, path = rest.partition(",")
    try:
        octets = info.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Ax25Error(
            f"monitor line info has a non-ASCII character at position {exc.start}; "
            "write such octets into Ax25Frame.info directly"
        ) from None
    return Ax25Frame(
        Ax25Address.parse(destination).without_repeated(),
        Ax25Address.parse(source).without_repeated(),
        parse_path(path),
        octets,
    )
