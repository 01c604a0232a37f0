"""Audio frequency-shift keying: bits to a phase-continuous tone sequence (pure, numpy).

SAME (47 CFR 11.31: 520 5/6 baud, mark 2083 1/3 Hz, space 1562.5 Hz) and Bell 202 for APRS
(1200 baud, mark 1200 Hz, space 2200 Hz) both use it. The phase carries over from one bit to
the next and from one call to the next (pass ``phase`` back in), because a phase jump is a
click that demodulators read as noise. Bit boundaries fall on fractional sample positions
(48 kHz / 520.83 baud is 92.16 samples a bit), so timing does not drift over a long burst.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

SAME_BAUD = 520.0 + 5.0 / 6.0
SAME_MARK_HZ = 2083.0 + 1.0 / 3.0
SAME_SPACE_HZ = 1562.5
BELL202_BAUD = 1200.0
BELL202_MARK_HZ = 1200.0
BELL202_SPACE_HZ = 2200.0


def afsk_tones(
    bits: Sequence[int] | NDArray[np.integer],
    *,
    baud: float,
    mark_hz: float,
    space_hz: float,
    rate: int,
    amplitude: float = 0.5,
    phase: float = 0.0,
    start_sample: float = 0.0,
) -> tuple[NDArray[np.float32], float, float]:
    """Samples for ``bits`` (1 = mark, 0 = space), the phase after the last sample (radians),
    and the fractional sample position where the next bit would start.

    ``start_sample`` is that fractional position from a previous call (0 for a fresh burst)."""
    levels = np.asarray(bits, dtype=np.int8)
    if levels.size == 0:
        return np.zeros(0, np.float32), phase, start_sample
    samples_per_bit = rate / baud
    end = start_sample + levels.size * samples_per_bit
    count = int(np.floor(end))
    # bit index of each sample, from where each sample falls on the bit clock
    index = np.minimum(
        ((np.arange(count) + 0.5 - start_sample) / samples_per_bit).astype(np.int64),
        levels.size - 1,
    )
    index = np.maximum(index, 0)
    freq = np.where(levels[index] == 1, mark_hz, space_hz)
    steps = 2.0 * np.pi * freq / rate
    phases = phase + np.cumsum(steps) - steps
    samples = (amplitude * np.sin(phases)).astype(np.float32)
    next_phase = float((phase + steps.sum()) % (2.0 * np.pi))
    return samples, next_phase, end - count


def bits_lsb_first(data: bytes) -> NDArray[np.uint8]:
    """Each byte's bits, least significant first (as SAME and AX.25 send them)."""
    array = np.frombuffer(data, dtype=np.uint8)
    return np.unpackbits(array[:, None], axis=1, bitorder="little").reshape(-1)
