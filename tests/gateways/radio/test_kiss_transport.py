"""KISS transports: TCP to a local stand-in TNC (reconnect, errors) and serial via loop://."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from gateways.base import TransientGatewayError
from gateways.radio.ax25 import decode_frame, encode_frame, parse_tnc2
from gateways.radio.kiss import KissCommand, KissDecoder, KissFrame, kiss_data
from gateways.radio.kiss_transport import (
    KissSerialTransport,
    KissTcpTransport,
    KissTransportError,
)

FRAME = parse_tnc2("N0CALL-1>APZTOC,WIDE2-2::BLN1     :Flood warning")


class StandInTnc:
    """A TCP server that records every byte per connection and can drop connections."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[bytearray] = []
        self._sockets: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            received = bytearray()
            self.connections.append(received)
            self._sockets.append(conn)
            threading.Thread(target=self._read, args=(conn, received), daemon=True).start()

    def _read(self, conn: socket.socket, received: bytearray) -> None:
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            received.extend(data)

    def drop_all(self) -> None:
        for conn in self._sockets:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._sockets.clear()

    def say(self, data: bytes) -> None:
        self._sockets[-1].sendall(data)

    def wait_for(self, count: int, size: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.connections) >= count and len(self.connections[count - 1]) >= size:
                return
            time.sleep(0.01)
        raise AssertionError(f"stand-in TNC did not get {size} bytes on connection {count}")

    def close(self) -> None:
        self._stop = True
        self.drop_all()
        self.server.close()
        self._thread.join(2)


@pytest.fixture
def tnc() -> Iterator[StandInTnc]:
    server = StandInTnc()
    yield server
    server.close()


def test_tcp_sends_kiss_data_frames(tnc: StandInTnc) -> None:
    expected = kiss_data(encode_frame(FRAME)) + kiss_data(b"raw", port=1)
    with KissTcpTransport("127.0.0.1", tnc.port) as link:
        link.send([FRAME])
        link.send_raw(kiss_data(b"raw", port=1))
        tnc.wait_for(1, len(expected))
    assert bytes(tnc.connections[0]) == expected
    (first, _) = KissDecoder().feed(bytes(tnc.connections[0]))
    assert decode_frame(first.data) == FRAME


def test_tcp_reconnects_after_the_tnc_dropped_the_link(tnc: StandInTnc) -> None:
    with KissTcpTransport("127.0.0.1", tnc.port) as link:
        link.send([FRAME])
        size = len(kiss_data(encode_frame(FRAME)))
        tnc.wait_for(1, size)
        tnc.drop_all()
        time.sleep(0.1)
        link.send([FRAME])
        tnc.wait_for(2, size)
    assert bytes(tnc.connections[1]) == kiss_data(encode_frame(FRAME))


def test_tcp_receives_frames_the_tnc_heard(tnc: StandInTnc) -> None:
    with KissTcpTransport("127.0.0.1", tnc.port) as link:
        link.set_parameter(KissCommand.TXDELAY, 30)
        tnc.wait_for(1, 4)
        heard = kiss_data(encode_frame(FRAME))
        tnc.say(heard[:5])
        tnc.say(heard[5:])
        frames: list[KissFrame] = []
        deadline = time.monotonic() + 5
        while not frames and time.monotonic() < deadline:
            frames = link.receive(0.2)
    assert [decode_frame(f.data) for f in frames] == [FRAME]
    assert bytes(tnc.connections[0]) == b"\xc0\x01\x1e\xc0"


def test_tcp_refused_says_what_to_check() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    link = KissTcpTransport("127.0.0.1", port)
    with pytest.raises(KissTransportError, match=f"KISSPORT {port}") as caught:
        link.send([FRAME])
    assert isinstance(caught.value, TransientGatewayError)
    assert caught.value.retryable


def test_serial_loopback_round_trip() -> None:
    with KissSerialTransport("loop://", 9600) as link:
        link.send([FRAME, FRAME])
        frames: list[KissFrame] = []
        deadline = time.monotonic() + 5
        while len(frames) < 2 and time.monotonic() < deadline:
            frames += link.receive(0.1)
    assert [decode_frame(f.data) for f in frames] == [FRAME, FRAME]


def test_serial_init_bytes_go_first() -> None:
    with KissSerialTransport("loop://", init=b"KISS ON\r") as link:
        link.send([FRAME])
        time.sleep(0.05)
        assert link._read(0.2).startswith(b"KISS ON\r\xc0\x00")


def test_serial_missing_device_says_so() -> None:
    with pytest.raises(KissTransportError, match="no such device"):
        KissSerialTransport("/dev/tocsin-no-such-tnc").open()
