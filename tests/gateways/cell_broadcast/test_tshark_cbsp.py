"""Wireshark's ``cbsp`` dissector reads the CBSP bytes our transport sends.

The bytes are captured where they leave us: :class:`CbspClient` talks to a stand-in BSC that
records the TCP stream and answers. The test cuts the stream at the message boundaries (the
3-octet length after the type octet, read here, not with our decoder), puts each message in
one TCP segment of a classic pcap (Ethernet/IPv4/TCP to port 48049: Wireshark 4.0's ``cbsp``
does not reassemble a message split over segments of a synthesised capture), and compares what
``tshark -d tcp.port==48049,cbsp`` shows with what we meant to send: message types, message
identifier, serial numbers, cell lists (discriminator, MCC/MNC, LAC, CI), category, repetition
period, number of broadcasts, number of pages, user information length, the text of each page
(GSM 7-bit, DCS 0x0F), the keep-alive repetition period and the ETWS warning period.

The repetition period is 300 (0x12C): Wireshark 4.0.17 reads it with the layout of TS 48.049
8.2.8 (8 high bits, then the low 4 bits of the next octet) and shows 300, as we mean it; a
big-endian 16-bit reading would show 4620.

Integration test: skipped if tshark is missing, failed under CI.
"""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gateways.cell_broadcast.cbsp import (
    Category,
    CbsContent,
    CbspDecoder,
    CellList,
    Cgi,
    EmergencyContent,
    KeepAlive,
    KeepAliveComplete,
    Kill,
    KillComplete,
    LacCi,
    Page,
    Reset,
    ResetComplete,
    WarningType,
    WriteReplace,
    WriteReplaceComplete,
    encode,
)
from gateways.cell_broadcast.cbsp_link import CbspLink
from gateways.cell_broadcast.cbsp_transport import CbspClient
from gateways.sms.gsm7 import encode_gsm7, pack_septets
from tests.conftest import require_tool

pytestmark = pytest.mark.integration

TEXTS = ("Flood warning: leave the riverbank now", "Go to high ground. Do not cross bridges")
CELLS = (Cgi("901", "70", 23, 1001), Cgi("901", "70", 23, 1002))


def _tshark() -> str:
    return require_tool("tshark")


def _page(text: str) -> Page:
    """A GSM 7-bit page: the text padded with CR to 93 septets, packed into 82 octets."""
    septets = encode_gsm7(text).ljust(93, b"\r")
    return Page(pack_septets(septets)[:82], (len(text) * 7 + 7) // 8)


def _capture(send: list[WriteReplace | Kill], keepalive: bool) -> bytes:
    """What CbspClient writes to a BSC, recorded by a one-connection stand-in that answers."""
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(10)
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            decoder = CbspDecoder()
            with conn:
                while data := conn.recv(65536):
                    received.extend(data)
                    for message in decoder.feed(data):
                        match message:
                            case Reset():
                                answer = encode(ResetComplete(CellList.all_in_bss()))
                            case WriteReplace():
                                answer = encode(
                                    WriteReplaceComplete(
                                        message.message_id, message.new_serial, message.old_serial
                                    )
                                )
                            case Kill():
                                answer = encode(
                                    KillComplete(message.message_id, message.old_serial)
                                )
                            case KeepAlive():
                                answer = encode(KeepAliveComplete())
                            case _:
                                continue
                        conn.sendall(answer)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        link = CbspLink(keepalive_interval=1 if keepalive else None)
        with CbspClient("127.0.0.1", port, link=link) as transport:
            for request in send[:2]:
                if isinstance(request, WriteReplace):
                    transport.write_replace(request)
                else:
                    transport.kill(request.message_id, request.old_serial, cells=request.cells)
            if keepalive:
                time.sleep(1.3)
            for request in send[2:]:
                assert isinstance(request, WriteReplace)
                transport.write_replace(request)
        thread.join(10)
    return bytes(received)


def _messages(stream: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(stream):
        end = pos + 4 + int.from_bytes(stream[pos + 1 : pos + 4], "big")
        out.append(stream[pos:end])
        pos = end
    return out


def _pcap(payloads: list[bytes]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    seq = 1000
    for n, payload in enumerate(payloads):
        tcp = struct.pack(">HHIIBBHHH", 40000, 48049, seq, 1, 5 << 4, 0x18, 65535, 0, 0)
        seq += len(payload)
        ip = struct.pack(
            ">BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(tcp) + len(payload),
            n,
            0,
            64,
            6,
            0,
            bytes([127, 0, 0, 1]),
            bytes([127, 0, 0, 2]),
        )
        frame = bytes(12) + b"\x08\x00" + ip + tcp + payload
        out.append(struct.pack("<IIII", 1_773_480_600 + n, 0, len(frame), len(frame)) + frame)
    return b"".join(out)


FIELDS = (
    "cbsp.msg_type",
    "cbsp.message_id",
    "cbsp.new_serial_nr",
    "cbsp.old_serial_nr",
    "cbsp.cell_id_disc",
    "e212.mcc",
    "e212.mnc",
    "cbsp.lac",
    "cbsp.ci",
    "cbsp.category",
    "cbsp.rep_period",
    "cbsp.num_bcast_req",
    "cbsp.num_of_pages",
    "cbsp.user_info_len",
    "cbsp.cb_page_content",
    "cbsp.keepalive_rep_period",
    "cbsp.warning_period",
    "_ws.malformed",
)


def _dissect(tshark: str, pcap: Path) -> list[dict[str, list[str]]]:
    command = [tshark, "-r", str(pcap), "-d", "tcp.port==48049,cbsp", "-T", "fields"]
    command += ["-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=\t"]
    for name in FIELDS:
        command += ["-e", name]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    rows = []
    for line in result.stdout.splitlines():
        values = line.split("\t")
        pairs = zip(FIELDS, values, strict=True)
        rows.append({name: value.split("|") if value else [] for name, value in pairs})
    return rows


def test_tshark_decodes_what_the_transport_sends(tmp_path: Path) -> None:
    tshark = _tshark()
    pages = tuple(_page(t) for t in TEXTS)
    update = WriteReplace(
        4371,
        0x3011,
        CellList.of(CELLS),
        CbsContent(
            pages,
            0x0F,
            repetition_period=300,
            broadcasts_requested=42,
            category=Category.HIGH_PRIORITY,
        ),
        old_serial=0x3010,
    )
    kill = Kill(4372, 0x3020, CellList.of([LacCi(23, 1001)]))
    etws = WriteReplace(
        4352, 0x3000, CellList.all_in_bss(), EmergencyContent(WarningType(1), warning_period=60)
    )
    stream = _capture([update, kill, etws], keepalive=True)
    messages = _messages(stream)
    pcap = tmp_path / "cbsp.pcap"
    pcap.write_bytes(_pcap(messages))
    rows = _dissect(tshark, pcap)

    assert len(rows) == len(messages) == 5
    assert [r["cbsp.msg_type"] for r in rows] == [["16"], ["1"], ["4"], ["22"], ["1"]]
    assert not any(r["_ws.malformed"] for r in rows)
    reset, written, killed, keepalive, emergency = rows

    assert reset["cbsp.cell_id_disc"] == ["6"]  # RESET for all cells of the BSS

    assert written["cbsp.message_id"] == ["0x1113"]
    assert written["cbsp.new_serial_nr"] == ["0x3011"]
    assert written["cbsp.old_serial_nr"] == ["0x3010"]
    assert written["cbsp.cell_id_disc"] == ["0"]
    assert written["e212.mcc"] == ["901", "901"] and written["e212.mnc"] == ["70", "70"]
    assert written["cbsp.lac"] == ["0x0017", "0x0017"]
    assert written["cbsp.ci"] == ["0x03e9", "0x03ea"]
    assert written["cbsp.category"] == ["0x00"]  # high priority
    assert written["cbsp.rep_period"] == ["300"]
    assert written["cbsp.num_bcast_req"] == ["42"]
    assert written["cbsp.num_of_pages"] == ["2"]
    assert written["cbsp.user_info_len"] == [str(p.user_info_length) for p in pages]
    # tshark -T fields writes the CR padding as the two characters backslash and r
    shown = [re.sub(r"(\\r)+$", "", text) for text in written["cbsp.cb_page_content"]]
    assert shown == list(TEXTS)

    assert killed["cbsp.message_id"] == ["0x1114"]
    assert killed["cbsp.old_serial_nr"] == ["0x3020"]
    assert killed["cbsp.cell_id_disc"] == ["1"]
    assert (killed["cbsp.lac"], killed["cbsp.ci"]) == (["0x0017"], ["0x03e9"])

    assert keepalive["cbsp.keepalive_rep_period"] == ["1"]

    assert emergency["cbsp.message_id"] == ["0x1100"]
    assert emergency["cbsp.warning_period"] == ["60"]
