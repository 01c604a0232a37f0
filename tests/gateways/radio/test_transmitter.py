from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import serial
from numpy.typing import NDArray

from gateways.base import TransientGatewayError
from gateways.radio.transmitter import (
    CommandAudioSink,
    KeyingTimes,
    SerialPtt,
    Transmitter,
    WavFolderSink,
)


class RecordingPort:
    """A serial port double that notes every change of its control lines, in order."""

    def __init__(self, events: list[tuple[float, str]]) -> None:
        self.events = events
        self._rts = False
        self._dtr = False

    @property
    def rts(self) -> bool:
        return self._rts

    @rts.setter
    def rts(self, value: bool) -> None:
        self._rts = value
        self.events.append((time.monotonic(), f"rts={int(value)}"))

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = value
        self.events.append((time.monotonic(), f"dtr={int(value)}"))

    def close(self) -> None:
        self.events.append((time.monotonic(), "closed"))


class RecordingSink:
    def __init__(self, events: list[tuple[float, str]], seconds: float = 0.05) -> None:
        self.events = events
        self.seconds = seconds

    def play(self, samples: NDArray[np.float32], rate: int) -> None:
        self.events.append((time.monotonic(), "first sample"))
        time.sleep(self.seconds)
        self.events.append((time.monotonic(), "last sample"))


def test_ptt_is_raised_before_the_first_sample_and_lowered_after_the_last(
    tmp_path: Path,
) -> None:
    events: list[tuple[float, str]] = []
    ptt = SerialPtt("test", line="rts", port=RecordingPort(events))
    radio = Transmitter(
        "r1", RecordingSink(events), ptt=ptt, times=KeyingTimes(0.05, 0.03), lock_dir=tmp_path
    )
    events.clear()
    radio.transmit(np.zeros(100, np.float32), 8000)
    names = [name for _, name in events]
    assert names == ["rts=1", "first sample", "last sample", "rts=0"]
    times = dict((name, at) for at, name in events)
    assert times["first sample"] - times["rts=1"] >= 0.05  # lead-in
    assert times["rts=0"] - times["last sample"] >= 0.03  # tail


def test_dtr_and_inverted_lines(tmp_path: Path) -> None:
    events: list[tuple[float, str]] = []
    ptt = SerialPtt("test", line="dtr", invert=True, port=RecordingPort(events))
    Transmitter("r2", RecordingSink(events, 0), ptt=ptt, times=KeyingTimes(0, 0),
                lock_dir=tmp_path).transmit(np.zeros(1, np.float32), 8000)  # fmt: skip
    assert [n for _, n in events] == ["dtr=1", "dtr=0", "first sample", "last sample", "dtr=1"]


def test_the_radio_is_unkeyed_when_playing_fails(tmp_path: Path) -> None:
    events: list[tuple[float, str]] = []

    class Broken:
        def play(self, samples: NDArray[np.float32], rate: int) -> None:
            raise TransientGatewayError("sound card gone")

    ptt = SerialPtt("test", port=RecordingPort(events))
    radio = Transmitter("r3", Broken(), ptt=ptt, times=KeyingTimes(0, 0), lock_dir=tmp_path)
    with pytest.raises(TransientGatewayError, match="sound card gone"):
        radio.transmit(np.zeros(1, np.float32), 8000)
    assert events[-1][1] == "rts=0"


def test_two_alerts_never_key_the_same_radio_at_once(tmp_path: Path) -> None:
    events: list[tuple[float, str]] = []
    lock = threading.Lock()

    class Sink:
        def play(self, samples: NDArray[np.float32], rate: int) -> None:
            with lock:
                events.append((time.monotonic(), "start"))
            time.sleep(0.05)
            with lock:
                events.append((time.monotonic(), "end"))

    radios = [
        Transmitter("shared", Sink(), times=KeyingTimes(0, 0), lock_dir=tmp_path) for _ in range(3)
    ]
    threads = [
        threading.Thread(target=r.transmit, args=(np.zeros(1, np.float32), 8000)) for r in radios
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [n for _, n in events] == ["start", "end"] * 3  # one after another, never overlapping


def test_pyserial_loop_port_carries_the_lines(tmp_path: Path) -> None:
    port = serial.serial_for_url("loop://", do_not_open=True)
    port.open()
    ptt = SerialPtt("loop://", port=port)
    ptt.key(True)
    assert port.rts is True
    ptt.key(False)
    assert port.rts is False
    ptt.close()


def test_wav_folder_and_command_sinks(tmp_path: Path) -> None:
    tone = (0.5 * np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000)).astype(np.float32)
    folder = WavFolderSink(tmp_path / "out")
    folder.play(tone, 8000)
    with wave.open(str(folder.written[0])) as wav:
        assert (wav.getframerate(), wav.getnframes(), wav.getsampwidth()) == (8000, 8000, 2)
    target = tmp_path / "copy.wav"
    CommandAudioSink(["sh", "-c", f"cat > {target}"]).play(tone, 8000)
    assert target.read_bytes() == folder.written[0].read_bytes()
    with pytest.raises(TransientGatewayError, match="cannot run"):
        CommandAudioSink(["/nonexistent/player"]).play(tone, 8000)
    with pytest.raises(TransientGatewayError, match="failed \\(exit 3\\)"):
        CommandAudioSink(["sh", "-c", "cat >/dev/null; echo no device >&2; exit 3"]).play(
            tone, 8000
        )


def test_an_unplugged_ptt_cable_fails_the_transmission_not_the_start(tmp_path: Path) -> None:
    ptt = SerialPtt(str(tmp_path / "no-such-tty"))  # nothing opened yet
    radio = Transmitter("r4", WavFolderSink(tmp_path / "out"), ptt=ptt, lock_dir=tmp_path)
    with pytest.raises(TransientGatewayError, match=r"PTT port .* cannot be opened"):
        radio.transmit(np.zeros(10, np.float32), 8000)
    assert not (tmp_path / "out").exists()  # nothing played unkeyed


def test_the_readme_radio_channels_are_a_working_configuration(tmp_path: Path) -> None:
    import tomllib

    from dispatch.config import parse_dispatch_config
    from gateways.registry import create_gateway

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    example = next(b for b in readme.split("```toml")[1:] if 'gateway = "same"' in b)
    config = parse_dispatch_config(
        tomllib.loads(example.split("```", 1)[0]), base_dir=tmp_path, data_dir=tmp_path
    )
    assert [c.gateway for c in config.channels] == ["same", "aprs"]
    for channel in config.channels:
        create_gateway(channel.gateway, channel.name, channel.options).close()
