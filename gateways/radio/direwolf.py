"""A local direwolf soft TNC for exercises and the demo: its KISS TCP port takes our frames, and
what it would transmit goes to a raw audio file instead of a radio.

direwolf 1.6 writes audio only to an ALSA device, so it is given its own ALSA configuration
(``ALSA_CONFIG_PATH``) in which the output device is ALSA's ``file`` plugin over a ``null``
device; nothing on the host's sound setup matters. It reads its receive audio from a pipe
(ALSA's null capture makes it spin).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from gateways.base import GatewayError
from gateways.radio.wav import pcm16_wav_bytes


class DirewolfError(GatewayError):
    """direwolf is missing or did not start (says why, with its last output)."""


class LocalDirewolf:
    """``with LocalDirewolf(folder) as tnc:`` direwolf on ``127.0.0.1:tnc.kiss_port``; its
    transmissions accumulate in ``tnc.transmitted`` (raw 16-bit mono at ``rate``)."""

    def __init__(self, folder: Path, *, callsign: str = "N0CALL-10", rate: int = 48000) -> None:
        self.folder = folder.absolute()  # direwolf runs in it and is given these paths
        self.callsign = callsign
        self.rate = rate
        self.transmitted = self.folder / "direwolf-tx.raw"
        self.log = self.folder / "direwolf.log"
        self.kiss_port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalDirewolf:
        binary = shutil.which("direwolf")
        if binary is None:
            raise DirewolfError("direwolf is not installed (Debian package 'direwolf')")
        self.folder.mkdir(parents=True, exist_ok=True)
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.kiss_port = int(probe.getsockname()[1])
        alsa = self.folder / "asoundrc"
        alsa.write_text(
            "pcm.tocsin_tx {\n    type file\n    slave.pcm { type null }\n"
            f'    file "{self.transmitted}"\n    format "raw"\n}}\n'
        )
        config = self.folder / "direwolf.conf"
        config.write_text(
            "ADEVICE stdin tocsin_tx\n"
            f"ARATE {self.rate}\nACHANNELS 1\nCHANNEL 0\nMYCALL {self.callsign}\nMODEM 1200\n"
            "TXDELAY 30\nDWAIT 0\nSLOTTIME 1\nPERSIST 255\n"
            f"KISSPORT {self.kiss_port}\nAGWPORT 0\n"
        )
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [binary, "-c", str(config), "-t", "0"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ALSA_CONFIG_PATH": str(alsa)},
                cwd=self.folder,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while b"Ready to accept KISS TCP" not in self.log.read_bytes():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text("latin-1").strip().splitlines()[-3:]
                self.stop()
                raise DirewolfError(f"direwolf did not open its KISS port: {' / '.join(tail)}")
            time.sleep(0.05)
        return self

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The running direwolf (its stdin is the receive audio: raw 16-bit mono at ``rate``)."""
        if self._process is None:
            raise DirewolfError("direwolf is not running: call start() first")
        return self._process

    def wait_quiet(self, seconds: float = 1.0, timeout: float = 30.0) -> None:
        """Until the transmit file has stopped growing for ``seconds``."""
        deadline = time.monotonic() + timeout
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_size = self.transmitted.stat().st_size if self.transmitted.exists() else 0
            if now_size != size:
                size, since = now_size, time.monotonic()
            elif now_size and time.monotonic() - since >= seconds:
                return
            time.sleep(0.1)

    def write_wav(self, path: Path) -> None:
        """What direwolf transmitted so far, as a WAV file."""
        raw = self.transmitted.read_bytes() if self.transmitted.exists() else b""
        path.write_bytes(pcm16_wav_bytes(raw, self.rate))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()

    def __enter__(self) -> LocalDirewolf:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
