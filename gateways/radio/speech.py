"""The spoken part of a SAME/EAS message: what to say (pure) and espeak-ng saying it (IO edge).

What is said follows the ECIG guide (``../shared/data/cap/profiles/ipaws-v1.0.md``): the
``EASText`` parameter word for word when the alert has one (IPAWS-22), else the info block's
headline, description and instruction, at most 1800 characters (IPAWS-29) and 120 seconds
(IPAWS-27). The voice is the espeak-ng voice for the info block's language (a BCP 47 tag such
as ``es-419`` or ``fr-CA``), narrowed step by step (``fr-ca`` -> ``fr``), else English, and the
result says when it fell back. espeak-ng writes a 22050 Hz WAV on its standard output; it is
resampled here to the message's rate.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from cap.model import Info
from gateways.base import GatewayError

MAX_SPEECH_CHARACTERS: Final = 1800
MAX_SPEECH_SECONDS: Final = 120.0
WORDS_PER_MINUTE: Final = 150  # a little slower than espeak-ng's 175: clearer on a radio
FALLBACK_LANGUAGES: Final = ("en-us", "en")
_QUIET_WINDOW_SECONDS: Final = 0.02
_CUT_SEARCH_SECONDS: Final = 5.0
_FADE_SECONDS: Final = 0.05


class SpeechError(GatewayError):
    """The message could not be spoken (the speech engine failed); the message says why."""

    retryable = False


class SpeechUnavailableError(SpeechError):
    """The speech engine is not installed."""


@dataclass(frozen=True, slots=True)
class SpokenText:
    """What to say, in which language, and whether it had to be shortened."""

    text: str
    language: str
    source: str  # "EASText" or "headline, description, instruction"
    truncated: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Speech:
    """Speech samples at the message's rate, the voice used, and what the officer should know
    (a fallback voice, a cut)."""

    samples: NDArray[np.float32]
    rate: int
    voice: str
    language: str
    notes: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return self.samples.size / self.rate


class SpeechEngine(Protocol):
    """A text-to-speech engine: its voices by language tag, and text to samples."""

    def voices(self) -> Mapping[str, str]:
        """Lower-case language tag -> the voice to ask for."""
        ...

    def synthesize(self, text: str, voice: str) -> tuple[NDArray[np.float32], int]:
        """Samples in [-1, 1] and their rate."""
        ...


# --- pure -------------------------------------------------------------------------------------


def speech_text(info: Info) -> SpokenText:
    """The text to speak for an info block (IPAWS-22, IPAWS-29)."""
    language = info.effective_language
    eas_text = info.parameter("EASText")
    if eas_text and eas_text.strip():
        text, source = _clean(eas_text), "EASText"
    else:
        parts = [info.headline, info.description, info.instruction]
        text = " ".join(_sentence(p) for p in parts if p and p.strip())
        source = "headline, description, instruction"
    if len(text) <= MAX_SPEECH_CHARACTERS:
        return SpokenText(text, language, source)
    cut = text[: MAX_SPEECH_CHARACTERS + 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return SpokenText(_sentence(cut), language, source, truncated=True)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _sentence(text: str) -> str:
    cleaned = _clean(text)
    return cleaned if cleaned.endswith((".", "!", "?", "…")) else cleaned + "."


def parse_espeak_voices(listing: str) -> dict[str, str]:
    """``espeak-ng --voices`` output as language tag -> voice: each voice's own language and
    the other languages it offers, the lowest priority number winning (espeak-ng's own rule)."""
    best: dict[str, tuple[int, int, str]] = {}
    order = 0
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[0].isdigit():
            continue  # the heading, or a line we cannot read
        voice = fields[1].lower()
        offers = [(int(fields[0]), voice)]
        offers += [
            (int(priority), tag.lower())
            for tag, priority in re.findall(r"\(([A-Za-z0-9-]+) (\d+)\)", line)
        ]
        for priority, tag in offers:
            order += 1
            if tag not in best or (priority, order) < best[tag][:2]:
                best[tag] = (priority, order, voice)
    return {tag: voice for tag, (_, _, voice) in best.items()}


def voice_for(language: str, voices: Mapping[str, str]) -> tuple[str, str | None]:
    """The voice for a BCP 47 tag, and a note when it is not the language's own voice.

    The tag is narrowed one subtag at a time (``zh-Hant-TW`` -> ``zh-hant`` -> ``zh``); with
    no voice for the language at all, English is spoken and the note says so."""
    tag = language.strip().replace("_", "-").lower()
    subtags = [s for s in tag.split("-") if s]
    for n in range(len(subtags), 0, -1):
        candidate = "-".join(subtags[:n])
        if candidate in voices:
            return voices[candidate], None
    for fallback in FALLBACK_LANGUAGES:
        if fallback in voices:
            return voices[fallback], (
                f"no espeak-ng voice for language {language!r}: spoken in English "
                f"({voices[fallback]}); give the alert an info block in a supported language "
                "or record the message"
            )
    raise SpeechError(
        f"no espeak-ng voice for language {language!r} and no English voice to fall back to: "
        "install espeak-ng-data, or make the message without speech"
    )


def decode_wav(data: bytes) -> tuple[NDArray[np.float32], int]:
    """16-bit PCM WAV bytes as float samples (first channel) and rate.

    espeak-ng streaming to a pipe cannot know its length, so its RIFF and data sizes are
    placeholders; the data chunk is read to the end of the bytes when it says more."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechError("the speech engine did not write a WAV file")
    position = 12
    channels = rate = bits = 0
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        body = position + 8
        if chunk == b"fmt " and size >= 16:
            fmt = int.from_bytes(data[body : body + 2], "little")
            channels = int.from_bytes(data[body + 2 : body + 4], "little")
            rate = int.from_bytes(data[body + 4 : body + 8], "little")
            bits = int.from_bytes(data[body + 14 : body + 16], "little")
            if fmt != 1 or bits != 16 or channels < 1:
                raise SpeechError(
                    f"the speech engine wrote WAV format {fmt}, {bits} bits, {channels} "
                    "channels; expected 16-bit PCM"
                )
        elif chunk == b"data":
            if not rate:
                raise SpeechError("the speech engine's WAV has data before its format")
            end = min(body + size, len(data))
            usable = (end - body) // (2 * channels) * (2 * channels)
            frames = np.frombuffer(data[body : body + usable], dtype="<i2")
            mono = frames.reshape(-1, channels)[:, 0].astype(np.float32) / 32768.0
            return mono, rate
        position = body + size + (size & 1)
    if not rate:
        raise SpeechError("the speech engine's WAV has no format chunk")
    return np.zeros(0, np.float32), rate


def resample(samples: NDArray[np.floating], from_rate: int, to_rate: int) -> NDArray[np.float32]:
    """Samples at another rate, by linear interpolation (speech sits well below the Nyquist
    frequency of every rate SAME uses, so this is enough for a voice)."""
    source = np.asarray(samples, dtype=np.float64).reshape(-1)
    if from_rate == to_rate or source.size == 0:
        return source.astype(np.float32)
    count = round(source.size * to_rate / from_rate)
    positions = np.arange(count, dtype=np.float64) * (from_rate / to_rate)
    return np.interp(positions, np.arange(source.size), source).astype(np.float32)


def cap_length(
    samples: NDArray[np.float32], rate: int, max_seconds: float = MAX_SPEECH_SECONDS
) -> tuple[NDArray[np.float32], bool]:
    """At most ``max_seconds``: cut at the quietest moment of the last few seconds before the
    limit (a pause between words), faded out."""
    limit = int(max_seconds * rate)
    if samples.size <= limit:
        return samples, False
    window = max(1, int(_QUIET_WINDOW_SECONDS * rate))
    start = max(0, limit - int(_CUT_SEARCH_SECONDS * rate))
    energy = np.convolve(samples[start:limit].astype(np.float64) ** 2, np.ones(window), "valid")
    cut = start + int(np.argmin(energy)) + window // 2 if energy.size else limit
    out = samples[:cut].copy()
    fade = min(int(_FADE_SECONDS * rate), out.size)
    if fade:
        out[out.size - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out, True


def spoken_message(info: Info, *, rate: int, engine: SpeechEngine) -> Speech:
    """The info block spoken by ``engine`` at ``rate``, at most 120 seconds."""
    return speak(speech_text(info), rate=rate, engine=engine)


def speak(spoken: SpokenText, *, rate: int, engine: SpeechEngine) -> Speech:
    """``spoken`` said by ``engine`` at ``rate`` in the nearest voice, at most 120 seconds."""
    notes: list[str] = []
    voice, note = voice_for(spoken.language, engine.voices())
    if note:
        notes.append(note)
    if spoken.truncated:
        notes.append(f"text cut to {MAX_SPEECH_CHARACTERS} characters for speech (IPAWS-29)")
    if not spoken.text:
        notes.append("the info block has no headline, description or instruction: no speech")
        return Speech(np.zeros(0, np.float32), rate, voice, spoken.language, tuple(notes))
    samples, engine_rate = engine.synthesize(spoken.text, voice)
    samples = resample(samples, engine_rate, rate)
    samples, cut = cap_length(samples, rate)
    if cut:
        notes.append(f"speech cut to {MAX_SPEECH_SECONDS:g} seconds (IPAWS-27)")
    return Speech(samples, rate, voice, spoken.language, tuple(notes))


# --- IO edge ----------------------------------------------------------------------------------


class EspeakNg:
    """espeak-ng run as a program: ``--voices`` once, then one run per text, WAV on stdout."""

    def __init__(
        self,
        executable: str = "espeak-ng",
        *,
        words_per_minute: int = WORDS_PER_MINUTE,
        timeout: float = 120.0,
    ) -> None:
        self.executable = executable
        self.words_per_minute = words_per_minute
        self.timeout = timeout
        self._voices: dict[str, str] | None = None

    def voices(self) -> Mapping[str, str]:
        if self._voices is None:
            listing = self._run(["--voices"], b"").decode("utf-8", "replace")
            self._voices = parse_espeak_voices(listing)
        return self._voices

    def synthesize(self, text: str, voice: str) -> tuple[NDArray[np.float32], int]:
        if not text.strip():
            return np.zeros(0, np.float32), 22050
        args = ["--stdout", "-v", voice, "-s", str(self.words_per_minute), "-b", "1", "--stdin"]
        return decode_wav(self._run(args, text.encode("utf-8")))

    def _run(self, args: list[str], stdin: bytes) -> bytes:
        try:
            done = subprocess.run(
                [self.executable, *args],
                input=stdin,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            raise SpeechUnavailableError(
                f"{self.executable} is not installed: install it (Debian: apt-get install "
                "espeak-ng) or make the message without speech (--no-speech)"
            ) from None
        except subprocess.TimeoutExpired:
            raise SpeechError(
                f"{self.executable} did not finish within {self.timeout:g} s; the text may be "
                "too long, or the machine overloaded"
            ) from None
        except OSError as exc:
            raise SpeechUnavailableError(
                f"{self.executable} cannot be run: {exc.strerror}"
            ) from None
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip() or "no message"
            raise SpeechError(
                f"{self.executable} {' '.join(args[:3])} failed (exit {done.returncode}): {detail}"
            )
        return done.stdout
