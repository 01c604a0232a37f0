"""A whole SAME/EAS message as audio samples (pure numpy), and a 16-bit WAV writer.

The message, as 47 CFR 11.31 lays it out (SAME-01..03):

    header burst, 1 s, header burst, 1 s, header burst, 1 s,
    attention signal (8-25 s), 1 s, spoken message, 1 s,
    EOM burst, 1 s, EOM burst, 1 s, EOM burst, 1 s

A burst is the 16-byte 0xAB preamble and then the ASCII text, 8 bits a character, least
significant bit first, in AFSK at 520 5/6 baud (:mod:`gateways.radio.afsk`). The attention
signal is 853 Hz and 960 Hz together (EAS), or 1050 Hz alone (NOAA Weather Radio). The trailing
second of silence lets a receiver close the last burst before the transmitter drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from gateways.base import GatewayError
from gateways.radio.afsk import (
    SAME_BAUD,
    SAME_MARK_HZ,
    SAME_SPACE_HZ,
    afsk_tones,
    bits_lsb_first,
)

PREAMBLE: Final = b"\xab" * 16
EOM_TEXT: Final = "NNNN"
BURSTS: Final = 3
GAP_SECONDS: Final = 1.0
EAS_ATTENTION_HZ: Final = (853.0, 960.0)
NWS_ATTENTION_HZ: Final = (1050.0,)
MIN_ATTENTION_SECONDS: Final = 8.0
MAX_ATTENTION_SECONDS: Final = 25.0
MIN_RATE: Final = 8000
MAX_RATE: Final = 192000
AFSK_AMPLITUDE: Final = 0.5
ATTENTION_AMPLITUDE: Final = 0.5  # peak of the two tones together
FADE_SECONDS: Final = 0.005  # edges of the attention signal, so it starts and stops without a click
SAME_RATES: Final = (22050, 44100, 48000)

SegmentKind = Literal["header", "attention", "speech", "eom", "gap"]


class SameAudioError(GatewayError, ValueError):
    """A SAME message that cannot be made as asked (bad rate, attention length, header text)."""

    retryable = False


@dataclass(frozen=True, slots=True)
class AttentionTone:
    """The attention signal: ``eas`` (853 + 960 Hz) or ``nws`` (1050 Hz, NOAA Weather Radio),
    8 to 25 seconds (47 CFR 11.31(a)(2), SAME-03)."""

    kind: Literal["eas", "nws"] = "eas"
    seconds: float = 8.0

    def __post_init__(self) -> None:
        if self.kind not in ("eas", "nws"):
            raise SameAudioError(f"attention tone kind {self.kind!r}: expected 'eas' or 'nws'")
        if not MIN_ATTENTION_SECONDS <= self.seconds <= MAX_ATTENTION_SECONDS:
            raise SameAudioError(
                f"attention tone of {self.seconds:g} s: 47 CFR 11.31(a)(2) allows "
                f"{MIN_ATTENTION_SECONDS:g} to {MAX_ATTENTION_SECONDS:g} seconds"
            )

    @property
    def frequencies(self) -> tuple[float, ...]:
        return EAS_ATTENTION_HZ if self.kind == "eas" else NWS_ATTENTION_HZ


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a message and the samples it spans, ``[start, end)``."""

    kind: SegmentKind
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def check_rate(rate: int) -> None:
    if not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise SameAudioError(
            f"sample rate {rate!r}: give a whole number of samples per second from {MIN_RATE} "
            f"to {MAX_RATE} (22050, 44100 or 48000 are usual)"
        )


def same_burst(text: str, *, rate: int) -> NDArray[np.float32]:
    """One burst: the 0xAB preamble and ``text`` in AFSK (phase starts at zero)."""
    check_rate(rate)
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError:
        raise SameAudioError(f"SAME text {text!r}: only ASCII can be sent") from None
    if any(not 0x20 <= b < 0x7F for b in data):
        raise SameAudioError(f"SAME text {text!r}: only printable ASCII can be sent")
    samples, _, _ = afsk_tones(
        bits_lsb_first(PREAMBLE + data),
        baud=SAME_BAUD,
        mark_hz=SAME_MARK_HZ,
        space_hz=SAME_SPACE_HZ,
        rate=rate,
        amplitude=AFSK_AMPLITUDE,
    )
    return samples


def attention_signal(attention: AttentionTone, *, rate: int) -> NDArray[np.float32]:
    """The attention tones, faded in and out over a few milliseconds."""
    check_rate(rate)
    count = round(attention.seconds * rate)
    t = np.arange(count, dtype=np.float64) / rate
    tones = attention.frequencies
    signal = np.zeros(count, dtype=np.float64)
    for hz in tones:
        signal += np.sin(2.0 * np.pi * hz * t)
    signal *= ATTENTION_AMPLITUDE / len(tones)
    fade = min(round(FADE_SECONDS * rate), count // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        signal[:fade] *= ramp
        signal[count - fade :] *= ramp[::-1]
    return signal.astype(np.float32)


def same_message_plan(
    header_text: str,
    *,
    rate: int,
    attention: AttentionTone,
    speech_samples: int = 0,
) -> tuple[Segment, ...]:
    """Where each part of the message lies, in samples (what :func:`same_message_audio`
    produces). No speech segment when ``speech_samples`` is 0."""
    header = len(same_burst(header_text, rate=rate))
    eom = len(same_burst(EOM_TEXT, rate=rate))
    gap = round(GAP_SECONDS * rate)
    parts: list[tuple[SegmentKind, int]] = []
    for _ in range(BURSTS):
        parts += [("header", header), ("gap", gap)]
    parts += [("attention", round(attention.seconds * rate)), ("gap", gap)]
    if speech_samples:
        parts += [("speech", speech_samples), ("gap", gap)]
    for _ in range(BURSTS):
        parts += [("eom", eom), ("gap", gap)]
    segments: list[Segment] = []
    position = 0
    for kind, length in parts:
        segments.append(Segment(kind, position, position + length))
        position += length
    return tuple(segments)


def same_message_audio(
    header_text: str,
    *,
    rate: int,
    attention: AttentionTone | None = None,
    speech: NDArray[np.floating] | None = None,
) -> NDArray[np.float32]:
    """The whole message as float32 samples in [-1, 1] at ``rate``: three header bursts, the
    attention signal, ``speech`` (already at ``rate``; clipped to [-1, 1]) and three EOMs."""
    tone = attention or AttentionTone()
    spoken = np.zeros(0, np.float32)
    if speech is not None:
        spoken = np.clip(np.asarray(speech, dtype=np.float32).reshape(-1), -1.0, 1.0)
    plan = same_message_plan(header_text, rate=rate, attention=tone, speech_samples=spoken.size)
    pieces = {
        "header": same_burst(header_text, rate=rate),
        "eom": same_burst(EOM_TEXT, rate=rate),
        "attention": attention_signal(tone, rate=rate),
        "speech": spoken,
    }
    out = np.zeros(plan[-1].end, dtype=np.float32)
    for segment in plan:
        if segment.kind != "gap":
            out[segment.start : segment.end] = pieces[segment.kind]
    return out
