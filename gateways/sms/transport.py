"""Moving bytes to and from a modem: a serial port (USB modems, ptys) or a TCP socket.

Transports know nothing of AT commands; :class:`gateways.sms.modem_link.ModemLink` feeds what
they read to the sans-IO :class:`gateways.sms.at_modem.AtModem`. A device that vanishes (USB
modem unplugged, emulator closed its pty, socket closed) raises
:class:`TransportClosedError`, so the caller can tell "no answer yet" (``b""``) from "gone".
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import termios
from typing import Protocol, runtime_checkable

import serial

from gateways.sms.errors import SmsError


class TransportError(SmsError):
    """The port or socket cannot be used (says which and why)."""


class TransportClosedError(TransportError):
    """The device vanished or the peer closed the connection."""


@runtime_checkable
class Transport(Protocol):
    """What a modem link needs from its byte pipe."""

    @property
    def name(self) -> str:
        """The device path or address, for messages."""
        ...

    def open(self) -> None: ...

    def read(self, timeout: float) -> bytes:
        """What arrived within ``timeout`` seconds (``b""`` if nothing); raises
        TransportClosedError if the device is gone."""
        ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


def _open_advice(port: str, exc: BaseException) -> str:
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err == errno.EACCES or "Permission denied" in text:
        return (
            f"cannot open {port}: permission denied; add the user running tocsin to the group "
            "that owns the device (usually 'dialout'), then log in again"
        )
    if err == errno.ENOENT or "No such file" in text:
        return (
            f"cannot open {port}: no such device (is the modem plugged in? "
            "check 'ls /dev/ttyUSB* /dev/ttyACM*')"
        )
    if err in (errno.EBUSY, errno.EAGAIN) or "busy" in text.lower() or "lock" in text.lower():
        return f"cannot open {port}: the port is in use by another program (ModemManager?)"
    return f"cannot open {port}: {text}"


class SerialTransport:
    """A serial port through pyserial (works on ptys). 8N1, no flow control unless asked."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        rtscts: bool = False,
        write_timeout: float = 5.0,
        exclusive: bool = True,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.rtscts = rtscts
        self.write_timeout = write_timeout
        self.exclusive = exclusive
        self._serial: serial.Serial | None = None

    @property
    def name(self) -> str:
        return self.port

    def open(self) -> None:
        self.close()
        try:
            self._serial = serial.Serial(
                self.port,
                self.baudrate,
                timeout=0,
                write_timeout=self.write_timeout,
                rtscts=self.rtscts,
                exclusive=self.exclusive,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            cause = (
                exc.__context__
                if isinstance(exc, serial.SerialException) and exc.__context__
                else exc
            )
            raise TransportError(_open_advice(self.port, cause)) from None

    def read(self, timeout: float) -> bytes:
        port = self._require()
        try:
            ready, _, _ = select.select([port.fileno()], [], [], max(0.0, timeout))
            if not ready:
                return b""
            return bytes(port.read(max(1, port.in_waiting)))
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            raise TransportClosedError(f"{self.port} vanished: {exc}") from None

    def write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
            port.flush()
        except serial.SerialTimeoutException:
            raise TransportError(
                f"writing to {self.port} timed out after {self.write_timeout:g} s "
                "(hardware flow control set but the modem never ready?)"
            ) from None
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            raise TransportClosedError(f"{self.port} vanished: {exc}") from None

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError, termios.error):
                port.close()  # an error here means it was already gone

    def _require(self) -> serial.Serial:
        if self._serial is None:
            raise TransportClosedError(f"{self.port} is not open")
        return self._serial


class TcpTransport:
    """A modem behind a TCP port (the emulator's ``--tcp``, serial-to-network adapters)."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None

    @property
    def name(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def open(self) -> None:
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise TransportError(
                f"cannot connect to {self.name}: {exc.strerror or exc} "
                "(is the modem server or emulator running on that port?)"
            ) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def read(self, timeout: float) -> bytes:
        sock = self._require()
        try:
            ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not ready:
                return b""
            data = sock.recv(4096)
        except OSError as exc:
            raise TransportClosedError(f"{self.name} failed: {exc}") from None
        if not data:
            raise TransportClosedError(f"{self.name} closed the connection")
        return data

    def write(self, data: bytes) -> None:
        sock = self._require()
        try:
            sock.settimeout(self.connect_timeout)
            sock.sendall(data)
        except OSError as exc:
            raise TransportClosedError(f"{self.name} failed: {exc}") from None

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise TransportClosedError(f"{self.name} is not connected")
        return self._sock


def transport_for(address: str, *, baudrate: int = 115200) -> SerialTransport | TcpTransport:
    """``tcp://host:port`` or a device path (``/dev/ttyUSB0``) as a transport."""
    if address.startswith("tcp://"):
        host, sep, port = address[len("tcp://") :].rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise TransportError(f"{address!r}: expected tcp://HOST:PORT")
        return TcpTransport(host.strip("[]"), int(port))
    if not address:
        raise TransportError("empty modem address: give a device path or tcp://HOST:PORT")
    return SerialTransport(address, baudrate=baudrate)
