"""The bit layers of our Bell 202 modulator (stuffing, flags, NRZI, FCS) and its audio.

The demodulator check of the audio itself is direwolf's ``atest`` in test_direwolf.py.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.radio.afsk import bits_lsb_first
from gateways.radio.ax25 import encode_frame, parse_tnc2, with_fcs
from gateways.radio.hdlc_audio import (
    decode_hdlc_bits,
    flags_for_txdelay,
    frame_bits,
    frames_audio,
    nrzi_decode,
    nrzi_encode,
    stuff_bits,
    transmission_bits,
)
from gateways.radio.wav import wav_bytes

FRAME = parse_tnc2("N0CALL-1>APZTOC,WIDE2-2::BLN1     :Flood warning for the valley")


def _longest_run_of_ones(bits: np.ndarray) -> int:
    best = run = 0
    for bit in bits.tolist():
        run = run + 1 if bit else 0
        best = max(best, run)
    return best


def test_stuffing_inserts_a_zero_after_five_ones() -> None:
    assert stuff_bits(np.array([1, 1, 1, 1, 1, 1, 1], np.uint8)).tolist() == [
        1, 1, 1, 1, 1, 0, 1, 1,
    ]  # fmt: skip
    assert stuff_bits(np.array([1, 1, 1, 1, 0, 1], np.uint8)).tolist() == [1, 1, 1, 1, 0, 1]


def test_nrzi_zero_toggles_one_keeps() -> None:
    assert nrzi_encode(np.array([1, 0, 0, 1, 0], np.uint8)).tolist() == [1, 0, 1, 1, 0]
    # a flag after idle mark: 0 toggles, six ones keep, 0 toggles
    assert nrzi_encode(bits_lsb_first(b"\x7e")).tolist() == [0, 0, 0, 0, 0, 0, 0, 1]


def test_txdelay_in_flags() -> None:
    assert flags_for_txdelay(300) == 45  # 0.3 s x 1200 bit/s / 8
    assert flags_for_txdelay(0) == 1
    with pytest.raises(ValueError, match="negative"):
        flags_for_txdelay(-1)


def test_transmission_layout() -> None:
    octets = encode_frame(FRAME)
    bits = transmission_bits([octets], preamble_flags=3, tail_flags=2)
    flag = bits_lsb_first(b"\x7e").tolist()
    assert bits[:24].tolist() == flag * 3
    assert bits[-16:].tolist() == flag * 2
    body = bits[24:-16]
    assert body.tolist() == frame_bits(octets).tolist()
    assert _longest_run_of_ones(body) <= 5


def test_all_ones_payload_is_stuffed_and_still_decodes() -> None:
    octets = encode_frame(parse_tnc2("N0CALL>APZTOC:x")) + b"\xff" * 40
    bits = transmission_bits([octets], preamble_flags=2)
    assert _longest_run_of_ones(frame_bits(octets)) == 5
    assert decode_hdlc_bits(nrzi_decode(nrzi_encode(bits))) == [octets]


def test_a_corrupted_frame_is_skipped_not_returned() -> None:
    octets = encode_frame(FRAME)
    bits = transmission_bits([octets, octets], preamble_flags=2)
    bits[16 + 100] ^= 1  # inside the first frame
    assert decode_hdlc_bits(bits) == [octets]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=17, max_size=330), min_size=1, max_size=4))
def test_bit_layers_round_trip(frames: list[bytes]) -> None:
    bits = transmission_bits(frames, preamble_flags=4)
    levels = nrzi_encode(bits)
    assert decode_hdlc_bits(nrzi_decode(levels)) == frames
    for frame in frames:
        assert _longest_run_of_ones(frame_bits(frame)) <= 5
        assert len(frame_bits(frame)) >= len(with_fcs(frame)) * 8


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
def test_audio_length_and_tones(rate: int) -> None:
    samples = frames_audio([FRAME], rate=rate, txdelay_ms=300)
    bits = transmission_bits([encode_frame(FRAME)], preamble_flags=45)
    assert samples.dtype == np.float32
    assert abs(len(samples) - len(bits) * rate / 1200) < 1
    assert float(np.max(np.abs(samples))) == pytest.approx(0.5, abs=1e-3)
    power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)

    def share(low: float, high: float) -> float:
        return float(power[(freqs > low) & (freqs < high)].sum() / power.sum())

    assert share(900, 2600) > 0.9  # nothing much outside the Bell 202 band
    assert share(1050, 1350) > 0.1  # mark
    assert share(2050, 2350) > 0.3  # space (flags are mostly space after NRZI)
    assert share(2850, 3150) < 0.02


def test_phase_is_continuous() -> None:
    samples = frames_audio([FRAME], rate=48000).astype(np.float64)
    # a 2200 Hz sine at amplitude 0.5 moves at most 2*pi*2200/48000*0.5 per sample
    assert np.max(np.abs(np.diff(samples))) < 2 * np.pi * 2200 / 48000 * 0.5 * 1.01


def test_wav_bytes_are_16_bit_mono() -> None:
    samples = frames_audio([FRAME], rate=44100)
    with wave.open(io.BytesIO(wav_bytes(samples, 44100))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 44100)
        assert wav.getnframes() == len(samples)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    assert np.max(np.abs(pcm.astype(np.int32) - np.round(samples * 32767))) <= 1


def test_refuses_nothing_and_too_low_rates() -> None:
    with pytest.raises(ValueError, match="no frames"):
        frames_audio([])
    with pytest.raises(ValueError, match="too low"):
        frames_audio([FRAME], rate=8000)
