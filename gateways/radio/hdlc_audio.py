"""AX.25 frames as Bell 202 AFSK 1200 audio for a plain FM radio, pure (numpy).

The layers, from the frame down (AX.25 2.2 section 3, HDLC / ISO 3309):

1. the frame gets its FCS (:func:`gateways.radio.ax25.with_fcs`), low octet first;
2. every octet is sent least significant bit first;
3. bit stuffing: after five 1 bits in a row inside a frame a 0 is inserted, so that only a
   flag (0x7E, ``01111110``) ever shows six; flags themselves are not stuffed;
4. a transmission is a preamble of flags (TXDELAY, which also lets the receiver's squelch open
   and its clock lock), the frames each closed by flags, and a few tail flags;
5. NRZI: a 0 bit changes the tone, a 1 bit keeps it;
6. Bell 202 tones: 1200 Hz (mark) and 2200 Hz (space) at 1200 baud, phase-continuous, from
   :func:`gateways.radio.afsk.afsk_tones`.

:func:`decode_hdlc_bits` undoes steps 1-5 on a bit stream; the tests use it to check the bit
layers without a demodulator (the demodulator check is direwolf's ``atest``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from gateways.radio.afsk import (
    BELL202_BAUD,
    BELL202_MARK_HZ,
    BELL202_SPACE_HZ,
    afsk_tones,
    bits_lsb_first,
)
from gateways.radio.ax25 import Ax25Error, Ax25Frame, encode_frame, strip_fcs, with_fcs

FLAG: Final = 0x7E
DEFAULT_TXDELAY_MS: Final = 300.0
DEFAULT_TAIL_FLAGS: Final = 4
DEFAULT_GAP_FLAGS: Final = 3
_FLAG_BITS: Final = bits_lsb_first(bytes([FLAG]))
_MIN_FRAME_OCTETS: Final = 17  # two addresses, control, FCS: anything shorter is noise


def flags_for_txdelay(txdelay_ms: float, *, baud: float = BELL202_BAUD) -> int:
    """How many flags fill a key-up delay of ``txdelay_ms`` (at least one)."""
    if txdelay_ms < 0:
        raise ValueError(f"TXDELAY must not be negative, got {txdelay_ms} ms")
    return max(1, math.ceil(txdelay_ms / 1000.0 * baud / 8.0))


def stuff_bits(bits: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Insert a 0 after every run of five 1 bits."""
    out: list[int] = []
    ones = 0
    for bit in bits.tolist():
        out.append(bit)
        if bit:
            ones += 1
            if ones == 5:
                out.append(0)
                ones = 0
        else:
            ones = 0
    return np.asarray(out, dtype=np.uint8)


def frame_bits(frame: bytes) -> NDArray[np.uint8]:
    """One frame's bits between its flags: FCS added, LSB first, stuffed (no NRZI yet)."""
    return stuff_bits(bits_lsb_first(with_fcs(frame)))


def transmission_bits(
    frames: Sequence[bytes],
    *,
    preamble_flags: int,
    tail_flags: int = DEFAULT_TAIL_FLAGS,
    gap_flags: int = DEFAULT_GAP_FLAGS,
) -> NDArray[np.uint8]:
    """Preamble flags, each frame followed by ``gap_flags`` flags (the last by ``tail_flags``)."""
    if preamble_flags < 1 or tail_flags < 1 or gap_flags < 1:
        raise ValueError("a transmission needs at least one flag before, between and after frames")
    parts = [np.tile(_FLAG_BITS, preamble_flags)]
    for index, frame in enumerate(frames):
        parts.append(frame_bits(frame))
        closing = tail_flags if index == len(frames) - 1 else gap_flags
        parts.append(np.tile(_FLAG_BITS, closing))
    return np.concatenate(parts).astype(np.uint8)


def nrzi_encode(bits: NDArray[np.uint8], *, start_level: int = 1) -> NDArray[np.uint8]:
    """Tone levels (1 = mark): a 0 bit toggles the level, a 1 bit keeps it."""
    toggles = np.cumsum(np.asarray(bits, dtype=np.int64) == 0) % 2
    return np.where(toggles == 1, 1 - start_level, start_level).astype(np.uint8)


def nrzi_decode(levels: NDArray[np.uint8], *, start_level: int = 1) -> NDArray[np.uint8]:
    """Bits from tone levels: 1 where the level did not change."""
    array: NDArray[np.uint8] = np.asarray(levels, dtype=np.uint8)
    previous = np.concatenate([np.array([start_level], dtype=np.uint8), array[:-1]])
    same: NDArray[np.uint8] = (array == previous).astype(np.uint8)
    return same


def decode_hdlc_bits(bits: NDArray[np.uint8]) -> list[bytes]:
    """The frames (FCS checked and removed) in a de-NRZI'd bit stream; bad ones are skipped."""
    frames: list[bytes] = []
    current: list[int] = []
    ones = 0
    in_frame = False
    for bit in np.asarray(bits, dtype=np.uint8).tolist():
        if bit:
            ones += 1
            if ones > 6:  # abort: seven or more ones
                in_frame = False
                current = []
            elif in_frame:
                current.append(1)
            continue
        if ones == 6:  # a flag: the six ones we collected were not data
            if in_frame and len(current) >= 7:
                data = current[:-7]  # the flag's leading 0 and its six ones were collected
                if len(data) % 8 == 0 and len(data) // 8 >= _MIN_FRAME_OCTETS:
                    octets = np.packbits(
                        np.asarray(data, dtype=np.uint8).reshape(-1, 8), axis=1, bitorder="little"
                    ).tobytes()
                    with contextlib.suppress(Ax25Error):  # a bad FCS: skip the frame
                        frames.append(strip_fcs(octets))
            in_frame = True
            current = []
        elif ones == 5:  # a stuffed zero: drop it
            pass
        elif in_frame:
            current.append(0)
        ones = 0
    return frames


def frames_audio(
    frames: Sequence[Ax25Frame | bytes],
    *,
    rate: int = 48000,
    txdelay_ms: float = DEFAULT_TXDELAY_MS,
    tail_flags: int = DEFAULT_TAIL_FLAGS,
    gap_flags: int = DEFAULT_GAP_FLAGS,
    amplitude: float = 0.5,
) -> NDArray[np.float32]:
    """One transmission of ``frames`` (encoded frames without FCS, or :class:`Ax25Frame`)
    as mono float32 samples in [-amplitude, amplitude] at ``rate`` Hz."""
    if not frames:
        raise ValueError("no frames to modulate")
    if rate < 9600:
        raise ValueError(f"sample rate {rate} Hz is too low for 2200 Hz tones (use >= 9600)")
    encoded = [encode_frame(f) if isinstance(f, Ax25Frame) else bytes(f) for f in frames]
    bits = transmission_bits(
        encoded,
        preamble_flags=flags_for_txdelay(txdelay_ms),
        tail_flags=tail_flags,
        gap_flags=gap_flags,
    )
    samples, _phase, _next = afsk_tones(
        nrzi_encode(bits),
        baud=BELL202_BAUD,
        mark_hz=BELL202_MARK_HZ,
        space_hz=BELL202_SPACE_HZ,
        rate=rate,
        amplitude=amplitude,
    )
    return samples
