"""Moving KISS frames to a TNC: over TCP (direwolf's KISSPORT, any soft TNC) or a serial port
(a hardware TNC already in KISS mode).

The transports only move bytes; framing is :mod:`gateways.radio.kiss`. A link that broke (the
soft TNC restarted, the USB cable was pulled) is reopened once on the next send; if that fails,
:class:`KissTransportError` says which TNC, what failed and what to check. It is a
:class:`gateways.base.TransientGatewayError`, so dispatch retries the delivery later. A frame
resent after a reconnect may go on the air twice; APRS receivers drop duplicates.
"""

from __future__ import annotations

import errno
import select
import socket
from abc import ABC, abstractmethod
from collections.abc import Iterable
from types import TracebackType
from typing import Self

import serial

from gateways.base import TransientGatewayError
from gateways.radio.ax25 import Ax25Frame, encode_frame
from gateways.radio.kiss import KissCommand, KissDecoder, KissFrame, kiss_data, kiss_parameter


class KissTransportError(TransientGatewayError):
    """The TNC cannot be reached or the link broke; the message says which and why."""


def _kiss_bytes(frames: Iterable[Ax25Frame | bytes], kiss_port: int) -> bytes:
    return b"".join(
        kiss_data(encode_frame(f) if isinstance(f, Ax25Frame) else bytes(f), port=kiss_port)
        for f in frames
    )


class _KissLink(ABC):
    """What both transports share: reconnect-once sends, decoding what the TNC sends back."""

    def __init__(self, *, kiss_port: int) -> None:
        if not 0 <= kiss_port <= 15:
            raise ValueError(f"KISS port {kiss_port} is out of range: it must be 0 to 15")
        self.kiss_port = kiss_port
        self._decoder = KissDecoder()

    @property
    @abstractmethod
    def name(self) -> str:
        """Which TNC (for messages)."""

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether the link is open now."""

    @abstractmethod
    def open(self) -> None:
        """Connect to the TNC."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect (safe to call when closed)."""

    @abstractmethod
    def _write(self, data: bytes) -> None:
        """Write bytes to the TNC; OSError or SerialException if the link broke."""

    @abstractmethod
    def _read(self, timeout: float) -> bytes:
        """Bytes the TNC sent within ``timeout`` seconds."""

    def _link_gone(self) -> bool:
        return False

    def send(self, frames: Iterable[Ax25Frame | bytes]) -> None:
        """Send AX.25 frames (objects, or encoded without FCS) as KISS data frames."""
        self.send_raw(_kiss_bytes(frames, self.kiss_port))

    def send_raw(self, data: bytes) -> None:
        """Send already KISS-framed bytes, reopening the link once if it broke."""
        if self.is_open and self._link_gone():
            self.close()
        if not self.is_open:
            self.open()
        try:
            self._write(data)
        except (OSError, serial.SerialException):
            self.close()
            self.open()
            try:
                self._write(data)
            except (OSError, serial.SerialException) as exc:
                self.close()
                raise KissTransportError(
                    f"KISS TNC {self.name}: the link broke while sending and again after "
                    f"reconnecting ({exc}); check that the TNC is running and reachable"
                ) from exc

    def set_parameter(self, command: KissCommand, value: int) -> None:
        """Set a TNC parameter, e.g. ``KissCommand.TXDELAY`` in 10 ms units."""
        self.send_raw(kiss_parameter(command, value, port=self.kiss_port))

    def receive(self, timeout: float = 0.0) -> list[KissFrame]:
        """Frames the TNC sent (packets it heard) within ``timeout`` seconds."""
        if not self.is_open:
            self.open()
        try:
            data = self._read(timeout)
        except (OSError, serial.SerialException) as exc:
            self.close()
            raise KissTransportError(f"KISS TNC {self.name}: reading failed ({exc})") from exc
        return self._decoder.feed(data)

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class KissTcpTransport(_KissLink):
    """KISS over TCP, e.g. direwolf with ``KISSPORT 8001``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        kiss_port: int = 0,
        connect_timeout: float = 5.0,
        write_timeout: float = 10.0,
    ) -> None:
        super().__init__(kiss_port=kiss_port)
        if not 0 < port < 65536:
            raise ValueError(f"TCP port {port} of KISS TNC {host} is out of range (1-65535)")
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self._sock: socket.socket | None = None

    @property
    def name(self) -> str:
        return f"tcp:{self.host}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except ConnectionRefusedError as exc:
            raise KissTransportError(
                f"KISS TNC {self.name}: connection refused; is the soft TNC running with its "
                f"KISS TCP port set to {self.port} (direwolf: KISSPORT {self.port})?"
            ) from exc
        except TimeoutError as exc:
            raise KissTransportError(
                f"KISS TNC {self.name}: no answer within {self.connect_timeout:g} s; check the "
                "host name and any firewall between"
            ) from exc
        except OSError as exc:
            raise KissTransportError(f"KISS TNC {self.name}: cannot connect ({exc})") from exc
        sock.settimeout(self.write_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _link_gone(self) -> bool:
        """True if the TNC closed the connection (readable, but nothing to read)."""
        assert self._sock is not None
        readable, _, _ = select.select([self._sock], [], [], 0)
        if not readable:
            return False
        try:
            return self._sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _write(self, data: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(data)

    def _read(self, timeout: float) -> bytes:
        assert self._sock is not None
        readable, _, _ = select.select([self._sock], [], [], timeout)
        if not readable:
            return b""
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError(errno.ECONNRESET, "the TNC closed the connection")
        return data


class KissSerialTransport(_KissLink):
    """KISS over a serial port (8N1). The TNC must already be in KISS mode; ``init`` bytes are
    sent after each open for TNCs that need a command to enter it (e.g. ``b"KISS ON\\r"``).
    ``device`` may also be a pyserial URL such as ``loop://`` (tests)."""

    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        *,
        kiss_port: int = 0,
        write_timeout: float = 10.0,
        init: bytes = b"",
    ) -> None:
        super().__init__(kiss_port=kiss_port)
        self.device = device
        self.baudrate = baudrate
        self.write_timeout = write_timeout
        self.init = init
        self._port: serial.SerialBase | None = None

    @property
    def name(self) -> str:
        return self.device

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        if self._port is not None:
            return
        try:
            port = serial.serial_for_url(
                self.device,
                baudrate=self.baudrate,
                timeout=0,
                write_timeout=self.write_timeout,
            )
        except (OSError, serial.SerialException) as exc:
            raise KissTransportError(self._open_advice(exc)) from exc
        self._port = port
        if self.init:
            self._write(self.init)

    def _open_advice(self, exc: BaseException) -> str:
        err = getattr(exc, "errno", None)
        text = str(exc)
        where = f"KISS TNC {self.device}"
        if err == errno.EACCES or "Permission denied" in text:
            return (
                f"{where}: permission denied; add the user running tocsin to the group that "
                "owns the device (usually 'dialout') and log in again"
            )
        if err == errno.ENOENT or "No such file" in text:
            return (
                f"{where}: no such device; is the TNC plugged in? (check 'ls /dev/ttyUSB* "
                "/dev/ttyACM* /dev/serial/by-id/')"
            )
        if err in (errno.EBUSY, errno.EAGAIN) or "busy" in text.lower():
            return f"{where}: the port is in use by another program"
        return f"{where}: cannot open the serial port ({text})"

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None

    def _write(self, data: bytes) -> None:
        assert self._port is not None
        self._port.write(data)
        self._port.flush()

    def _read(self, timeout: float) -> bytes:
        assert self._port is not None
        self._port.timeout = timeout
        first = self._port.read(1)
        if not first:
            return b""
        self._port.timeout = 0
        return bytes(first) + bytes(self._port.read(65536))
