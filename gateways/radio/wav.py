"""16-bit mono PCM WAV, the one format every radio tool here reads (aplay, multimon-ng via
sox, direwolf's atest) and that our audio is written in."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def pcm16(samples: NDArray[np.floating]) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM (clipped, rounded)."""
    scaled = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0) * 32767.0
    return np.rint(scaled).astype("<i2").tobytes()


def wav_bytes(samples: NDArray[np.floating], rate: int) -> bytes:
    """A whole WAV file holding ``samples`` at ``rate``."""
    return pcm16_wav_bytes(pcm16(samples), rate)


def pcm16_wav_bytes(pcm: bytes, rate: int) -> bytes:
    """A WAV file around raw 16-bit little-endian mono PCM (an odd last byte is dropped)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm[: len(pcm) - len(pcm) % 2])
    return buffer.getvalue()


def write_wav(path: Path | str, samples: NDArray[np.floating], rate: int) -> None:
    Path(path).write_bytes(wav_bytes(samples, rate))
