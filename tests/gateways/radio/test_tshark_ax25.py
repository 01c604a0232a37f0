"""Wireshark's ``ax25_kiss``, ``ax25`` and ``aprs`` dissectors read the KISS bytes we send.

The bytes are captured where they leave us: :class:`KissTcpTransport` talks to a stand-in TNC
that records the TCP stream. Wireshark 4.0 cannot dissect that stream directly: ``ax25_kiss``
is not offered for ``-d tcp.port==...`` and, registered for the capture link type
LINKTYPE_AX25_KISS (202), it expects one KISS frame per packet with the FEND delimiters
removed and the escapes undone. So the test splits the stream at FEND and unescapes it with a
few lines of its own (not our decoder), writes a classic pcap with link type 202, and compares
tshark's PDML with what we meant to send. ``ax25_nol3.showaprs`` makes tshark decode the
information field as APRS.

Integration test: skipped if tshark is missing, failed under CI.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from cap.authoring import alert_from_description
from gateways.radio.aprs import AprsMessage, aprs_bulletins_for, aprs_nws_messages_for
from gateways.radio.ax25 import Ax25Address, Ax25Frame, parse_path
from gateways.radio.kiss import KissCommand
from gateways.radio.kiss_transport import KissTcpTransport
from tests.conftest import require_tool

pytestmark = pytest.mark.integration

LINKTYPE_AX25_KISS = 202
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SOURCE = Ax25Address("N0CALL", 10)


def _tshark() -> str:
    return require_tool("tshark")


def _capture(send: list[Ax25Frame], txdelay: int) -> bytes:
    """What KissTcpTransport writes to a TNC, recorded by a one-connection TCP server."""
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(10)
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                while data := conn.recv(4096):
                    received.extend(data)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with KissTcpTransport("127.0.0.1", port) as link:
            link.set_parameter(KissCommand.TXDELAY, txdelay)
            link.send(send)
        thread.join(10)
    return bytes(received)


def _split_kiss(stream: bytes) -> list[bytes]:
    """FEND-delimited frames, unescaped (FESC TFEND -> FEND, FESC TFESC -> FESC)."""
    frames = []
    for chunk in stream.split(b"\xc0"):
        if chunk:
            out, i = bytearray(), 0
            while i < len(chunk):
                if chunk[i] == 0xDB:
                    out.append({0xDC: 0xC0, 0xDD: 0xDB}[chunk[i + 1]])
                    i += 2
                else:
                    out.append(chunk[i])
                    i += 1
            frames.append(bytes(out))
    return frames


def _pcap(packets: list[bytes]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_AX25_KISS)]
    for n, packet in enumerate(packets):
        out.append(struct.pack("<IIII", 1_773_480_600 + n, 0, len(packet), len(packet)))
        out.append(packet)
    return b"".join(out)


def _alert_frames() -> list[Ax25Frame]:
    alert = alert_from_description(
        {
            "sender": "alerts@met.example.gov",
            "status": "Actual",
            "info": [
                {
                    "category": ["Met"],
                    "event": "Flash Flood Warning",
                    "urgency": "Immediate",
                    "severity": "Extreme",
                    "certainty": "Observed",
                    "headline": "Flash flood warning: Río Bravo crossing closed",
                    "instruction": "Leave the riverbank | do not cross {any} bridge ~ now.",
                    "expires": NOW + timedelta(hours=3),
                    "areas": [
                        {"area_desc": "Maverick", "geocodes": {"UGC": "TXC323"}},
                        {"area_desc": "Webb", "geocodes": {"UGC": "TXC479"}},
                    ],
                }
            ],
        },
        now=NOW,
        identifier="FFW-7",
    )
    path = parse_path("WIDE1-1*,WIDE2-1")
    frames = aprs_bulletins_for(alert, source=SOURCE, bulletin_id="WX", path=path)
    frames += aprs_nws_messages_for(alert, source=SOURCE)
    frames.append(Ax25Frame(Ax25Address("APZTOC"), SOURCE, (), b":BLN9     :\xc0\xdb escapes"))
    return frames


def _fields(packet: etree._Element) -> dict[str, etree._Element]:
    return {str(f.get("name")): f for f in packet.iter("field")}


def test_tshark_dissects_our_kiss_stream(tmp_path: Path) -> None:
    tshark = _tshark()
    frames = _alert_frames()
    stream = _capture(frames, txdelay=30)
    capture = tmp_path / "kiss.pcap"
    capture.write_bytes(_pcap(_split_kiss(stream)))
    run = subprocess.run(
        [tshark, "-r", str(capture), "-o", "ax25_nol3.showaprs:TRUE", "-T", "pdml"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    packets = etree.fromstring(run.stdout).findall("packet")
    assert len(packets) == 1 + len(frames)

    first = _fields(packets[0])
    assert first["ax25_kiss.cmd"].get("show") == "1"
    assert first["ax25_kiss.txdelay"].get("show") == "30"

    for packet, frame in zip(packets[1:], frames, strict=True):
        fields = _fields(packet)
        assert fields["ax25_kiss.cmd"].get("show") == "0"
        assert fields["ax25_kiss.port"].get("show") == "0"
        assert fields["ax25.dst"].get("showname") == f"Destination: {frame.destination}"
        assert fields["ax25.src"].get("showname") == f"Source: {frame.source}"
        for n, digi in enumerate(frame.path, start=1):
            via = fields[f"ax25.via{n}"]
            assert via.get("showname") == f"Via {n}: {digi.without_repeated()}"
            h_bit = bool(int(str(via.get("value"))[-2:], 16) & 0x80)
            assert h_bit == digi.repeated
        assert f"ax25.via{len(frame.path) + 1}" not in fields
        assert fields["ax25.ctl"].get("show") == "0x03"
        assert fields["ax25.pid"].get("show") == "0xf0"
        assert fields["aprs.dti"].get("show") == ":"
        message = fields["aprs.message"]
        assert bytes.fromhex(str(message.get("value"))) == frame.info[1:]
        if frame.info.isascii():
            parsed = AprsMessage.parse(frame.info)
            assert message.get("show") == frame.info[1:].decode()
            assert str(message.get("show")).startswith(parsed.addressee.ljust(9) + ":")
