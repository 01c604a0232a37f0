"""Keying a transmitter: push-to-talk held for the whole transmission, audio played in between.

A radio on a sound card is keyed by a serial port's RTS or DTR line (a common interface cable:
the line drives a transistor that grounds the radio's PTT pin). The line is raised, the
transmitter is given ``lead_in`` seconds to come up to power (audio sent earlier is lost), the
audio is played, and the line stays up for ``tail`` seconds more so the last tone is not cut.
Only one transmission at a time per radio, across threads and processes: the channel may be
repeating one alert while another arrives, and a field kit may run more than one program.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from gateways.base import GatewayConfigError, TransientGatewayError
from gateways.radio.wav import wav_bytes

Sleep = Callable[[float], None]


class PttLine(Protocol):
    """What keys the radio."""

    def key(self, on: bool) -> None: ...

    def close(self) -> None: ...


class AudioSink(Protocol):
    """Where the audio goes; ``play`` returns when the last sample has been played."""

    def play(self, samples: NDArray[np.float32], rate: int) -> None: ...


class SerialPortLike(Protocol):
    rts: bool
    dtr: bool

    def close(self) -> None: ...


class SerialPtt:
    """PTT on a serial port's RTS or DTR line (``invert`` for interfaces keyed by a low line).

    The port is opened at the first transmission, not before: a channel whose cable is
    unplugged when the service starts fails its deliveries (and retries them), not the start."""

    def __init__(
        self,
        device: str,
        *,
        line: str = "rts",
        invert: bool = False,
        port: SerialPortLike | None = None,
    ) -> None:
        if line not in ("rts", "dtr"):
            raise ValueError(f"PTT line {line!r}: use 'rts' or 'dtr'")
        self.device = device
        self.line = line
        self.invert = invert
        self.port: SerialPortLike | None = port
        if port is not None:
            self.key(False)

    def _open(self) -> SerialPortLike:
        import serial

        try:
            opened = serial.serial_for_url(self.device, do_not_open=True)
            # Both lines idle before the port opens: opening raises them on most drivers,
            # which would key the radio with nothing to say.
            opened.rts = self.invert
            opened.dtr = self.invert
            opened.open()
        except (serial.SerialException, OSError) as exc:
            raise TransientGatewayError(
                f"PTT port {self.device}: cannot be opened ({exc}); check the cable, that the "
                "device exists and that you may use it (group 'dialout')"
            ) from None
        return opened

    def key(self, on: bool) -> None:
        if self.port is None:
            self.port = self._open()
        level = on != self.invert
        if self.line == "rts":
            self.port.rts = level
        else:
            self.port.dtr = level

    def close(self) -> None:
        if self.port is None:
            return
        with contextlib.suppress(Exception):
            self.key(False)
        self.port.close()
        self.port = None


class CommandAudioSink:
    """Plays through a command that reads a WAV file on standard input, by default ALSA's
    ``aplay`` on a chosen device (``aplay -D plughw:1,0``)."""

    def __init__(self, command: Sequence[str] = ("aplay", "-q", "-t", "wav", "-")) -> None:
        if not command:
            raise ValueError("the audio command is empty")
        self.command = list(command)

    def play(self, samples: NDArray[np.float32], rate: int) -> None:
        try:
            proc = subprocess.run(
                self.command, input=wav_bytes(samples, rate), capture_output=True, check=False
            )
        except OSError as exc:
            raise TransientGatewayError(
                f"audio command {self.command[0]!r} cannot run ({exc.strerror}); install it "
                "(aplay is in Debian's alsa-utils) or set the channel's 'audio_command'"
            ) from None
        if proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace").strip().splitlines()
            raise TransientGatewayError(
                f"audio command {' '.join(self.command)} failed (exit {proc.returncode})"
                + (f": {detail[-1]}" if detail else "")
            )


class WavFolderSink:
    """Writes each transmission to a WAV file in a folder (exercises, the demo, archives)."""

    def __init__(self, folder: Path, prefix: str = "transmission") -> None:
        self.folder = folder
        self.prefix = prefix
        self.written: list[Path] = []

    def play(self, samples: NDArray[np.float32], rate: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.prefix}-{len(self.written) + 1:04d}.wav"
        temp = path.with_suffix(".tmp")
        temp.write_bytes(wav_bytes(samples, rate))
        temp.replace(path)
        self.written.append(path)


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _thread_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


@dataclass(frozen=True, slots=True)
class KeyingTimes:
    lead_in: float = 0.3  # seconds between keying and the first sample
    tail: float = 0.2  # seconds between the last sample and unkeying


class Transmitter:
    """One radio: its PTT line, its audio sink, and the lock that keeps it to one
    transmission at a time (``lock_dir`` holds the lock file shared with other processes)."""

    def __init__(
        self,
        name: str,
        sink: AudioSink,
        *,
        ptt: PttLine | None = None,
        times: KeyingTimes | None = None,
        lock_dir: Path | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.name = name
        self.sink = sink
        self.ptt = ptt
        self.times = times or KeyingTimes()
        self.sleep = sleep
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
        folder = lock_dir or Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
        self.lock_path = folder / f"tocsin-radio-{safe}.lock"
        self._lock = _thread_lock(str(self.lock_path))

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            with self.lock_path.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def transmit(self, samples: NDArray[np.float32], rate: int) -> None:
        """Key, wait ``lead_in``, play, wait ``tail``, unkey; unkeyed whatever happens."""
        with self._exclusive():
            if self.ptt is None:
                self.sink.play(samples, rate)
                return
            self.ptt.key(True)
            try:
                self.sleep(self.times.lead_in)
                self.sink.play(samples, rate)
                self.sleep(self.times.tail)
            finally:
                self.ptt.key(False)

    def close(self) -> None:
        if self.ptt is not None:
            self.ptt.close()


TRANSMITTER_OPTIONS = ("audio_command", "wav_folder", "ptt", "ptt_line", "lead_in", "tail")


def transmitter_from_options(name: str, options: Mapping[str, Any], where: str) -> Transmitter:
    """A channel's radio from its options: ``audio_command`` (e.g. ``["aplay", "-q", "-D",
    "plughw:1,0", "-t", "wav", "-"]``) or ``wav_folder``; ``ptt`` (a serial device) with
    ``ptt_line`` (``rts``/``dtr``), ``lead_in`` and ``tail`` in seconds."""
    sink: AudioSink
    if "wav_folder" in options:
        sink = WavFolderSink(Path(str(options["wav_folder"])), prefix=name)
    elif "audio_command" in options:
        command = options["audio_command"]
        if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
            raise GatewayConfigError(
                f"{where}: 'audio_command' must be a list of strings, e.g. "
                '["aplay", "-q", "-D", "plughw:1,0", "-t", "wav", "-"]'
            )
        sink = CommandAudioSink(command)
    else:
        raise GatewayConfigError(
            f'{where}: say where the audio goes: audio_command = ["aplay", "-q", "-t", '
            '"wav", "-"] for a sound card, or wav_folder = "..." to keep the files'
        )
    times = KeyingTimes()
    try:
        times = KeyingTimes(
            float(options.get("lead_in", times.lead_in)), float(options.get("tail", times.tail))
        )
    except (TypeError, ValueError):
        raise GatewayConfigError(f"{where}: 'lead_in' and 'tail' are seconds") from None
    ptt = None
    if "ptt" in options:
        line = str(options.get("ptt_line", "rts"))
        if line not in ("rts", "dtr"):
            raise GatewayConfigError(f'{where}: \'ptt_line\' is "rts" or "dtr", not {line!r}')
        ptt = SerialPtt(str(options["ptt"]), line=line)
    return Transmitter(name, sink, ptt=ptt, times=times)
