"""Transports: a serial port on a real pty, a TCP socket, and the modem link above them."""

from __future__ import annotations

import contextlib
import itertools
import os
import pty
import socket
import threading
import time
import tty
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateways.sms.emulator import (
    EmulatedModem,
    EmulatedTransport,
    EmulatorServer,
    EmulatorSettings,
)
from gateways.sms.gsm7 import GSM7_DEFAULT
from gateways.sms.modem_link import ModemLink, ModemUnavailableError, SendOutcome, decode_report
from gateways.sms.pdu import encode_status_report, encode_submit
from gateways.sms.transport import (
    SerialTransport,
    TcpTransport,
    TransportClosedError,
    TransportError,
    transport_for,
)


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = pty.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    os.close(slave)
    yield master, name
    with contextlib.suppress(OSError):
        os.close(master)  # unless the test closed it (unplugged)


@pytest.mark.integration
def test_serial_transport_moves_bytes_both_ways_on_a_pty(pty_pair: tuple[int, str]) -> None:
    master, name = pty_pair
    transport = SerialTransport(name)
    transport.open()
    assert transport.read(0.05) == b""
    started = time.monotonic()
    assert transport.read(0.2) == b""
    assert time.monotonic() - started >= 0.18
    transport.write(b"AT\r")
    assert os.read(master, 100) == b"AT\r"
    os.write(master, b"\r\nOK\r\n")
    assert transport.read(1.0) == b"\r\nOK\r\n"
    transport.close()
    transport.close()  # twice is harmless


@pytest.mark.integration
def test_a_vanished_pty_is_reported_as_closed(pty_pair: tuple[int, str]) -> None:
    master, name = pty_pair
    transport = SerialTransport(name)
    transport.open()
    os.close(master)
    with pytest.raises(TransportClosedError, match="vanished"):
        transport.read(0.5)
    with pytest.raises(TransportClosedError):
        transport.write(b"AT\r")
    transport.close()


@pytest.mark.integration
def test_opening_a_missing_device_says_what_to_check(tmp_path: Path) -> None:
    transport = SerialTransport(str(tmp_path / "ttyUSB9"))
    with pytest.raises(TransportError, match=r"no such device .*plugged in"):
        transport.open()
    with pytest.raises(TransportClosedError, match="not open"):
        transport.read(0.0)


@pytest.mark.integration
def test_a_port_in_use_is_refused(pty_pair: tuple[int, str]) -> None:
    _, name = pty_pair
    first = SerialTransport(name)
    first.open()
    try:
        with pytest.raises(TransportError, match="in use"):
            SerialTransport(name).open()
    finally:
        first.close()


@pytest.mark.integration
def test_tcp_transport_and_peer_close() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    transport = TcpTransport("127.0.0.1", port)
    transport.open()
    thread.join(5)
    peer = accepted[0]
    transport.write(b"AT\r")
    assert peer.recv(10) == b"AT\r"
    peer.sendall(b"\r\nOK\r\n")
    assert transport.read(1.0) == b"\r\nOK\r\n"
    assert transport.read(0.05) == b""
    peer.close()
    with pytest.raises(TransportClosedError, match="closed the connection"):
        transport.read(1.0)
    transport.close()
    server.close()
    with pytest.raises(TransportError, match="cannot connect"):
        TcpTransport("127.0.0.1", port, connect_timeout=1.0).open()


def test_addresses_choose_the_transport() -> None:
    serial_transport = transport_for("/dev/ttyUSB0")
    assert isinstance(serial_transport, SerialTransport) and serial_transport.name == "/dev/ttyUSB0"
    tcp = transport_for("tcp://127.0.0.1:7100")
    assert isinstance(tcp, TcpTransport) and (tcp.host, tcp.port) == ("127.0.0.1", 7100)
    for bad in ("tcp://nohost", "tcp://:12", ""):
        with pytest.raises(TransportError):
            transport_for(bad)


@pytest.mark.integration
def test_modem_link_over_tcp_to_the_emulator(tmp_path: Path) -> None:
    record = tmp_path / "pdus.jsonl"
    with EmulatorServer(
        [EmulatorSettings(delay=0.01)], tcp_host="127.0.0.1", record=record
    ) as server:
        [address] = server.addresses
        link = ModemLink("m0", transport_for(address))
        link.open()
        pdu = encode_submit("+15551234567", "hello over tcp", GSM7_DEFAULT)
        result = link.send(pdu)
        assert result.outcome is SendOutcome.SENT and result.message_reference == 0
        assert result.pdu_written is not None and result.pdu_written >= result.started
        server.unplug(0)
        link.poll(0.5)
        assert not link.is_ready
        with pytest.raises(ModemUnavailableError):
            link.send(pdu)
        with pytest.raises(ModemUnavailableError, match="cannot connect"):
            link.open()
    assert "+15551234567" in record.read_text()


def test_modem_link_keeps_its_own_minimum_interval_between_pdus() -> None:
    origin = (time.monotonic(), datetime.now(UTC))
    transport = EmulatedTransport(EmulatedModem(EmulatorSettings(delay=0.01), origin=origin))
    link = ModemLink("m0", transport, min_interval=0.1)
    link.open()
    pdu = encode_submit("+15551234567", "spaced out", GSM7_DEFAULT)
    results = [link.send(pdu) for _ in range(4)]
    assert all(r.outcome is SendOutcome.SENT for r in results)
    written = [r.pdu_written for r in results if r.pdu_written is not None]
    assert len(written) == 4
    assert min(b - a for a, b in itertools.pairwise(written)) >= 0.1
    received = [r.elapsed for r in transport.records]
    assert min(b - a for a, b in itertools.pairwise(received)) >= 0.1
    link.close()


def test_status_reports_decode_with_or_without_the_smsc_part() -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    full = encode_status_report(
        message_reference=12,
        recipient="+15551234567",
        service_centre_time=when,
        discharge_time=when,
    )
    tpdu = full[1 + full[0] :]
    for pdu in (full, tpdu):
        report, problem = decode_report(pdu, len(tpdu))
        assert problem is None and report is not None
        assert (report.message_reference, report.recipient) == (12, "+15551234567")
    report, problem = decode_report(b"\x00\x01", 1)
    assert report is None and problem is not None and problem.startswith("undecodable")
