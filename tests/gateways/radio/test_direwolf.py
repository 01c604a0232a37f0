"""Direwolf (Debian ``direwolf`` 1.6) as the independent peer for our APRS output.

1. ``atest`` decodes the WAV our AFSK 1200 modulator writes, at several sample rates, to exactly
   the frames we encoded (compared octet by octet through ``atest -h``'s hex dump, which shows
   each frame without its FCS; atest keeps only frames whose FCS is right).
2. A real direwolf, started here, takes our frames on its KISS TCP port and transmits them.
   Direwolf 1.6 writes audio only to an ALSA device, and this machine (and CI) has no sound
   card, so its output device is ALSA's ``file`` plugin over a ``null`` slave, defined in a
   config file of our own that ``ALSA_CONFIG_PATH`` points at (it replaces the system
   alsa.conf, so nothing on the host matters). ADEVICE names are cut at 29 characters by
   direwolf, which is why the PCM gets a short name there instead of an inline
   ``file:FILE=...`` definition. Receive audio comes from ``stdin`` (``ADEVICE stdin ...``):
   ALSA's ``null`` capture would hand direwolf endless silence as fast as it can read, a busy
   loop, while a pipe nobody writes to just blocks. The raw S16_LE file is wrapped as WAV and
   ``atest`` decodes it back to the frames we sent.
3. The same direwolf demodulates our AFSK audio written to its stdin and hands the frames back
   to us over KISS TCP, which exercises our KISS decoder against a real TNC.

Integration tests: skipped if direwolf is missing, failed under CI.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cap.authoring import alert_from_description
from gateways.radio.afsk import BELL202_BAUD, BELL202_MARK_HZ, BELL202_SPACE_HZ, afsk_tones
from gateways.radio.aprs import aprs_bulletins_for, aprs_nws_messages_for
from gateways.radio.ax25 import Ax25Address, Ax25Frame, encode_frame, parse_tnc2, to_tnc2
from gateways.radio.direwolf import DirewolfError, LocalDirewolf
from gateways.radio.hdlc_audio import frames_audio, nrzi_encode, stuff_bits
from gateways.radio.kiss import KissFrame
from gateways.radio.kiss_transport import KissTcpTransport
from gateways.radio.wav import pcm16_wav_bytes, write_wav
from tests.conftest import require_tool

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SOURCE = Ax25Address("N0CALL", 10)
_ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
_HEX_LINE = re.compile(r"^\s+([0-9a-f]{3}):\s+((?:[0-9a-f]{2} )+)")


def _tool(name: str) -> str:
    return require_tool(name, "direwolf")


def _frames() -> list[Ax25Frame]:
    """Bulletins and NWS messages for a flood warning, plus frames that test the corners:
    a repeated digipeater (H bit), and info octets that KISS must escape (FEND, FESC)."""
    alert = alert_from_description(
        {
            "sender": "alerts@met.example.gov",
            "status": "Actual",
            "info": [
                {
                    "category": ["Met"],
                    "event": "Flood Warning",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Observed",
                    "headline": "Flood warning for the Lower Valley",
                    "instruction": "Move to higher ground now. Do not drive through flood water.",
                    "expires": NOW + timedelta(hours=6),
                    "areas": [{"area_desc": "Lower Valley", "geocodes": {"SAME": "048439"}}],
                }
            ],
        },
        now=NOW,
        identifier="FLOOD-1",
    )
    frames = aprs_bulletins_for(alert, source=SOURCE, bulletin_id="WX")
    frames += aprs_nws_messages_for(alert, source=SOURCE)
    frames.append(parse_tnc2("N0CALL-10>APZTOC,WIDE1-1*,WIDE2-1::BLNA     :Net at 1900Z"))
    frames.append(
        Ax25Frame(Ax25Address("APZTOC"), SOURCE, (), b"{{binary \xc0\xdb\xdc\xdd\x00\xff end")
    )
    return frames


@dataclass(frozen=True)
class AtestResult:
    frames: list[bytes]  # each decoded frame's octets (no FCS), from the hex dump
    monitor: list[str]  # the "[0] SRC>DEST:info" lines
    output: str


def _atest(wav: Path) -> AtestResult:
    run = subprocess.run(
        [_tool("atest"), "-h", str(wav)], capture_output=True, timeout=120, check=False
    )
    output = _ANSI.sub(b"", run.stdout + run.stderr).decode("latin-1")
    frames: list[bytearray] = []
    monitor = []
    for line in output.splitlines():
        if line.startswith("[0] "):
            monitor.append(line[4:])
        match = _HEX_LINE.match(line)
        if match is None:
            continue
        if match[1] == "000":
            frames.append(bytearray())
        frames[-1] += bytes.fromhex(match[2])
    return AtestResult([bytes(f) for f in frames], monitor, output)


def _assert_decoded(result: AtestResult, frames: list[Ax25Frame]) -> None:
    assert result.frames == [encode_frame(f) for f in frames], result.output
    printable = [to_tnc2(f) for f in frames if all(0x20 <= b < 0x7F for b in f.info)]
    assert [line for line in result.monitor if line in printable] == printable, result.output


@pytest.mark.parametrize("rate", [44100, 48000])
def test_atest_decodes_our_afsk_audio(tmp_path: Path, rate: int) -> None:
    frames = _frames()
    wav = tmp_path / f"aprs-{rate}.wav"
    write_wav(wav, frames_audio(frames, rate=rate), rate)
    _assert_decoded(_atest(wav), frames)


def test_atest_decodes_separate_transmissions(tmp_path: Path) -> None:
    frames = _frames()[:3]
    silence = np.zeros(24000, np.float32)
    parts = [np.concatenate([frames_audio([f], rate=48000), silence]) for f in frames]
    wav = tmp_path / "separate.wav"
    write_wav(wav, np.concatenate(parts), 48000)
    _assert_decoded(_atest(wav), frames)


def test_atest_refuses_a_frame_with_a_wrong_fcs(tmp_path: Path) -> None:
    """The check can fail: the same layers with a wrong FCS decode to nothing."""
    octets = encode_frame(_frames()[0])
    bad_fcs = octets + b"\x00\x00"
    flag = np.unpackbits(np.array([0x7E], np.uint8), bitorder="little")
    body = stuff_bits(np.unpackbits(np.frombuffer(bad_fcs, np.uint8), bitorder="little"))
    bits = np.concatenate([np.tile(flag, 45), body, np.tile(flag, 4)])
    samples, _, _ = afsk_tones(
        nrzi_encode(bits),
        baud=BELL202_BAUD,
        mark_hz=BELL202_MARK_HZ,
        space_hz=BELL202_SPACE_HZ,
        rate=48000,
    )
    wav = tmp_path / "bad.wav"
    write_wav(wav, samples, 48000)
    result = _atest(wav)
    assert result.frames == [], result.output


# --- a live direwolf ---------------------------------------------------------------------


@dataclass
class Direwolf:
    """What the tests use of a running direwolf."""

    def __init__(self, tnc: LocalDirewolf) -> None:
        self.process = tnc.process
        self.kiss_port = tnc.kiss_port
        self.tx_raw = tnc.transmitted
        self.rate = tnc.rate
        self.log = tnc.log


@pytest.fixture
def direwolf(tmp_path: Path) -> Iterator[Direwolf]:
    """A real direwolf with a KISS TCP port whose transmissions go to a raw audio file (see
    gateways/radio/direwolf.py for the ALSA file-plugin set-up)."""
    _tool("direwolf")
    _tool("atest")
    try:
        tnc = LocalDirewolf(tmp_path).start()
    except DirewolfError as exc:
        pytest.fail(str(exc))
    try:
        yield Direwolf(tnc)
    finally:
        tnc.stop()


def _raw_to_wav(raw: bytes, wav: Path, rate: int) -> None:
    wav.write_bytes(pcm16_wav_bytes(raw, rate))


def test_direwolf_transmits_our_kiss_frames(direwolf: Direwolf, tmp_path: Path) -> None:
    frames = _frames()
    wav = tmp_path / "direwolf-tx.wav"
    with KissTcpTransport("127.0.0.1", direwolf.kiss_port) as link:
        link.send(frames)
        deadline = time.monotonic() + 60
        result = AtestResult([], [], "(nothing written)")
        last_size, stable_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            size = direwolf.tx_raw.stat().st_size if direwolf.tx_raw.exists() else 0
            if size != last_size:
                last_size, stable_since = size, time.monotonic()
            elif size > 0 and time.monotonic() - stable_since > 1.0:
                _raw_to_wav(direwolf.tx_raw.read_bytes(), wav, direwolf.rate)
                result = _atest(wav)
                if len(result.frames) >= len(frames):
                    break
                stable_since = time.monotonic()
            time.sleep(0.1)
    log = direwolf.log.read_text("latin-1")
    # Direwolf sends frames whose path shows a digipeater already used ("WIDE1-1*") from its
    # high-priority queue, ahead of the others: compare what went out, not the order.
    expected = sorted(encode_frame(f) for f in frames)
    assert sorted(result.frames) == expected, f"{result.output}\n{log}"
    printable = sorted(to_tnc2(f) for f in frames if all(0x20 <= b < 0x7F for b in f.info))
    assert sorted(line for line in result.monitor if line in printable) == printable


def test_direwolf_hears_our_audio_and_hands_it_back_over_kiss(direwolf: Direwolf) -> None:
    frames = _frames()
    audio = frames_audio(frames, rate=direwolf.rate)
    pcm = (np.concatenate([audio, np.zeros(direwolf.rate, np.float32)]) * 32767).astype("<i2")
    received: list[KissFrame] = []
    with KissTcpTransport("127.0.0.1", direwolf.kiss_port) as link:
        link.receive(0.2)  # connected before the audio starts
        assert direwolf.process.stdin is not None
        direwolf.process.stdin.write(pcm.tobytes())
        direwolf.process.stdin.flush()
        deadline = time.monotonic() + 30
        while len(received) < len(frames) and time.monotonic() < deadline:
            received += link.receive(0.5)
    log = direwolf.log.read_text("latin-1")
    assert [(f.port, f.command) for f in received] == [(0, 0)] * len(frames), log
    assert [f.data for f in received] == [encode_frame(f) for f in frames], log
