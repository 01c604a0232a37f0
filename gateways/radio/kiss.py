"""KISS framing between a host and a TNC (Chepponis and Karn, "The KISS TNC", 1987), pure.

Every frame travels as ``FEND type data FEND``. The type octet holds the TNC port in its high
nibble and the command in its low nibble (0 = data: an AX.25 frame without FCS). Inside a frame
FEND is sent as ``FESC TFEND`` and FESC as ``FESC TFESC``, so a FEND on the wire always means a
frame boundary. :class:`KissDecoder` is a sans-IO state machine: feed it whatever bytes arrived
(in any chunks) and it returns the complete frames; a frame with a broken escape or too long
is dropped and counted, because a serial line can carry noise and one bad frame must not stop
the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

FEND: Final = 0xC0
FESC: Final = 0xDB
TFEND: Final = 0xDC
TFESC: Final = 0xDD
RETURN_TYPE: Final = 0xFF  # "leave KISS mode": the whole type octet, no port
DEFAULT_MAX_FRAME: Final = 4096


class KissCommand(IntEnum):
    """The command nibble (KISS section 4)."""

    DATA = 0
    TXDELAY = 1  # key-up delay in 10 ms units
    PERSISTENCE = 2  # p-persistence, p = (value + 1) / 256
    SLOTTIME = 3  # in 10 ms units
    TXTAIL = 4  # obsolete, some TNCs still honour it
    FULLDUPLEX = 5
    SETHARDWARE = 6


class KissError(ValueError):
    """Bytes or a frame that are not valid KISS (says what and where)."""


@dataclass(frozen=True, slots=True)
class KissFrame:
    """One KISS frame: TNC port 0-15, command 0-15 (15 on port 15 is "return"), data."""

    port: int
    command: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 15:
            raise KissError(f"KISS port {self.port} is out of range: it must be 0 to 15")
        if not 0 <= self.command <= 15:
            raise KissError(f"KISS command {self.command} is out of range: it must be 0 to 15")

    @property
    def type_octet(self) -> int:
        return (self.port << 4) | self.command

    @property
    def is_data(self) -> bool:
        return self.command == KissCommand.DATA and self.type_octet != RETURN_TYPE

    @property
    def is_return(self) -> bool:
        return self.type_octet == RETURN_TYPE


def kiss_escape(data: bytes) -> bytes:
    """Escape FEND and FESC inside a frame."""
    return data.replace(bytes([FESC]), bytes([FESC, TFESC])).replace(
        bytes([FEND]), bytes([FESC, TFEND])
    )


def kiss_unescape(data: bytes) -> bytes:
    """Undo :func:`kiss_escape`; an FESC not followed by TFEND or TFESC is an error."""
    out = bytearray()
    escaped = False
    for index, octet in enumerate(data):
        if escaped:
            if octet == TFEND:
                out.append(FEND)
            elif octet == TFESC:
                out.append(FESC)
            else:
                raise KissError(
                    f"octet {index}: FESC is followed by 0x{octet:02X}, not TFEND (0xDC) or "
                    "TFESC (0xDD)"
                )
            escaped = False
        elif octet == FESC:
            escaped = True
        elif octet == FEND:
            raise KissError(f"octet {index}: an unescaped FEND inside a frame")
        else:
            out.append(octet)
    if escaped:
        raise KissError("the frame ends with a lone FESC")
    return bytes(out)


def encode_kiss(frame: KissFrame) -> bytes:
    """``FEND type data FEND``, type and data escaped (port 12 data has type 0xC0, a FEND)."""
    return bytes([FEND]) + kiss_escape(bytes([frame.type_octet]) + frame.data) + bytes([FEND])


def kiss_data(ax25: bytes, *, port: int = 0) -> bytes:
    """An AX.25 frame (no FCS) as a KISS data frame for TNC ``port``."""
    return encode_kiss(KissFrame(port, KissCommand.DATA, ax25))


def kiss_parameter(command: KissCommand, value: int, *, port: int = 0) -> bytes:
    """A one-octet parameter frame (TXDELAY, PERSISTENCE, SLOTTIME, TXTAIL, FULLDUPLEX)."""
    if command in (KissCommand.DATA, KissCommand.SETHARDWARE):
        raise KissError(f"{command.name} is not a one-octet parameter")
    if not 0 <= value <= 255:
        raise KissError(f"KISS {command.name} value {value} does not fit in one octet (0-255)")
    return encode_kiss(KissFrame(port, command, bytes([value])))


def kiss_return() -> bytes:
    """Ask the TNC to leave KISS mode (type octet 0xFF)."""
    return bytes([FEND, RETURN_TYPE, FEND])


@dataclass(slots=True)
class KissDecoder:
    """Streaming decoder: ``feed(chunk)`` returns the frames completed by that chunk.

    Bytes before the first FEND are discarded (the start of a frame we did not see), as are
    empty frames (back-to-back FENDs, which TNCs send as padding)."""

    max_frame: int = DEFAULT_MAX_FRAME
    dropped: int = 0  # frames thrown away: bad escape or longer than max_frame
    _in_frame: bool = field(default=False, init=False)
    _escaped: bool = field(default=False, init=False)
    _broken: bool = field(default=False, init=False)
    _buffer: bytearray = field(default_factory=bytearray, init=False)

    def feed(self, chunk: bytes) -> list[KissFrame]:
        frames: list[KissFrame] = []
        for octet in chunk:
            if octet == FEND:
                self._finish(frames)
                continue
            if not self._in_frame or self._broken:
                continue
            if self._escaped:
                self._escaped = False
                if octet == TFEND:
                    octet = FEND
                elif octet == TFESC:
                    octet = FESC
                else:
                    self._broken = True
                    continue
            elif octet == FESC:
                self._escaped = True
                continue
            if len(self._buffer) >= self.max_frame + 1:  # + 1: the type octet
                self._broken = True
                continue
            self._buffer.append(octet)
        return frames

    def _finish(self, frames: list[KissFrame]) -> None:
        if self._in_frame and (self._broken or self._escaped):
            self.dropped += 1
        elif self._in_frame and self._buffer:
            kind = self._buffer[0]
            frames.append(KissFrame(kind >> 4, kind & 0x0F, bytes(self._buffer[1:])))
        self._in_frame = True
        self._escaped = False
        self._broken = False
        self._buffer.clear()
