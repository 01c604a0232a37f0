"""Our CBSP client against a real osmo-bsc (Debian's 1.9) in CBSP server mode.

Each test starts osmo-bsc from a generated configuration: network 901/70, BTS 0 (LAC 23, CI
1001) with a CBCH on timeslot 0, BTS 1 (LAC 23, CI 1002) without one, no BTS actually
connected, no MSC reachable. Everything it listens on (VTY, CTRL, Abis, MGCP, CBSP) is bound to
a private loopback address 127.x.y.z picked per test, so the fixed ports of osmo-bsc 1.9 (its
VTY and CTRL ports cannot be moved) never clash with another run. The process is stopped when
the test ends, failed or not.

What osmo-bsc 1.9 really answers, and the tests rely on:

* on every new CBSP connection it sends RESTART (all cells of the BSS, CBS, message data lost);
  our RESET is answered with RESET COMPLETE for all cells;
* WRITE-REPLACE to a configured cell with a CBCH gets WRITE-REPLACE COMPLETE listing the cell as
  a CGI, although its BTS is not connected (the message waits for the BTS);
* a cell that does not exist gets WRITE-REPLACE FAILURE with cause 0x00
  (parameter-not-recognised), echoing the cell as we sent it; a configured cell without a CBCH
  gets cause 0x09 (cell-broadcast-not-supported); a mixed list gets FAILURE with the failed
  cells and the cells that took the message;
* the same message identifier and serial again: FAILURE cause 0x0d (message-reference-already-
  used); KILL COMPLETE carries a completed list (0 broadcasts, the BTS is not up) and no cell
  list; KILL of a message it does not have: KILL FAILURE cause 0x02;
* KEEP-ALIVE gets KEEP-ALIVE COMPLETE; an ETWS WRITE-REPLACE is COMPLETE (it logs that the BTS
  cannot page it) and an ETWS KILL (no channel indicator) is KILL COMPLETE.

Integration test: skipped if osmo-bsc is missing, failed under CI.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateways.cell_broadcast.cbsp import (
    Cause,
    CbsContent,
    CellFailure,
    CellList,
    Cgi,
    EmergencyContent,
    LacCi,
    Page,
    WarningType,
    WriteReplace,
)
from gateways.cell_broadcast.cbsp_link import CbspLink, LinkEvent, LinkLost, LinkUp, Restarted
from gateways.cell_broadcast.cbsp_transport import CbspClient
from tests.conftest import require_tool

pytestmark = pytest.mark.integration

CBSP_PORT = 48049
CELL = Cgi("901", "70", 23, 1001)  # BTS 0, with CBCH
NO_CBCH = Cgi("901", "70", 23, 1002)  # BTS 1, without CBCH
UNKNOWN = Cgi("901", "70", 99, 4242)
CONTENT = CbsContent(
    pages=(Page(b"Flood warning: leave the riverbank".ljust(82, b"\r"), 34),),
    dcs=0x0F,
    repetition_period=5,
)

_BTS = """\
 bts {nr}
  type osmo-bts
  band GSM-1800
  cell_identity {ci}
  location_area_code 23
  ipa unit-id {unit} 0
  trx 0
   rf_locked 0
   arfcn {arfcn}
   nominal power 23
   timeslot 0
    phys_chan_config {ts0}
   timeslot 1
    phys_chan_config SDCCH8
   timeslot 2
    phys_chan_config TCH/F
"""
_CONFIG = """\
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging level set-all notice
 logging level cbs debug
line vty
 bind {ip}
ctrl
 bind {ip}
e1_input
 e1_line 0 driver ipa
 ipa bind {ip}
cs7 instance 0
 point-code 0.23.3
 asp asp-clnt-msc-0 2905 0 m3ua
  remote-ip {ip}
  local-ip {ip}
network
 network country code 901
 mobile network code 70
{bts0}{bts1}msc 0
 allow-emergency deny
 codec-list fr1
 mgw local-ip {ip}
 mgw remote-ip {ip}
cbc
 mode server
 server
  local-ip {ip}
  local-port {port}
"""


def _osmo_bsc() -> str:
    return require_tool("osmo-bsc")


def _listening(ip: str, port: int) -> bool:
    """Whether something listens on ip:port, read from /proc/net/tcp (no probe connection:
    osmo-bsc serves one CBC at a time)."""
    want = "".join(f"{int(part):02X}" for part in reversed(ip.split("."))) + f":{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(line.split()[1] == want and line.split()[3] == "0A" for line in lines)


class OsmoBsc:
    def __init__(self, binary: str, workdir: Path) -> None:
        rng = random.Random()
        self.ip = f"127.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(2, 254)}"
        self.port = CBSP_PORT
        self.binary = binary
        self.config = workdir / "osmo-bsc.cfg"
        self.log = workdir / "osmo-bsc.log"
        bts0 = _BTS.format(nr=0, ci=1001, unit=1800, arfcn=868, ts0="CCCH+SDCCH4+CBCH")
        bts1 = _BTS.format(nr=1, ci=1002, unit=1801, arfcn=870, ts0="CCCH+SDCCH4")
        self.config.write_text(_CONFIG.format(ip=self.ip, port=self.port, bts0=bts0, bts1=bts1))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 10
        while not _listening(self.ip, self.port):
            if self.process.poll() is not None:
                raise AssertionError(f"osmo-bsc exited at start:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"osmo-bsc does not listen:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def bsc(tmp_path: Path) -> Iterator[OsmoBsc]:
    server = OsmoBsc(_osmo_bsc(), tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def client(bsc: OsmoBsc, events: list[LinkEvent] | None = None, **link: bool | float) -> CbspClient:
    return CbspClient(
        bsc.ip,
        bsc.port,
        link=CbspLink(**link),  # type: ignore[arg-type]
        reconnect_initial=0.1,
        reconnect_max=0.5,
        up_timeout=10.0,
        on_event=None if events is None else events.append,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_write_replace_is_completed_for_the_cell(bsc: OsmoBsc) -> None:
    """WRITE-REPLACE COMPLETE, with the cell as a CGI, for a configured cell with a CBCH whose
    BTS is not connected."""
    with client(bsc) as transport:
        result = transport.write_replace(WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT))
        assert result.ok
        assert result.cells == (CELL,)
        # the same cell named by LAC and CI: osmo-bsc answers with the CGI
        by_lac_ci = WriteReplace(4372, 0x3010, CellList.of([LacCi(23, 1001)]), CONTENT)
        assert transport.write_replace(by_lac_ci).cells == (CELL,)
    assert "BASIC Added MsgId=0x1113/SerialNr=0x3010/Pages=1" in bsc.log_text()


def test_replace_status_and_kill(bsc: OsmoBsc) -> None:
    with client(bsc) as transport:
        transport.write_replace(WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT))
        update = WriteReplace(4371, 0x3011, CellList.of([CELL]), CONTENT, old_serial=0x3010)
        replaced = transport.write_replace(update)
        assert replaced.ok and replaced.cells == (CELL,)
        assert [c.cell for c in replaced.completed] == [CELL]  # counts of the old version
        status = transport.message_status(4371, 0x3011, cells=CellList.of([CELL]))
        assert [c.cell for c in status.completed] == [CELL] and not status.failures
        killed = transport.kill(4371, 0x3011)
        assert killed.ok and killed.cells == (CELL,)
        assert not transport.active
        again = transport.kill(4371, 0x3011, cells=CellList.of([CELL]))
        assert again.ok and again.not_found == (CELL,)  # KILL FAILURE cause 0x02
    log = bsc.log_text()
    assert "Replaced MsgId=0x1113/Serial=0x3011" in log
    assert "Deleting MsgId=0x1113/SerialNr=0x3011" in log and "(Reason: KILL)" in log


def test_wrong_cells_get_a_failure_list(bsc: OsmoBsc) -> None:
    """Unknown cell: cause 0x00; cell without CBCH: cause 0x09; the good cell still takes it."""
    with client(bsc) as transport:
        result = transport.write_replace(
            WriteReplace(4371, 0x3010, CellList.of([CELL, UNKNOWN, NO_CBCH]), CONTENT)
        )
        assert not result.ok
        assert result.cells == (CELL,)
        assert set(result.failures) == {
            CellFailure(UNKNOWN, Cause.PARAMETER_NOT_RECOGNISED),
            CellFailure(NO_CBCH, Cause.CELL_BROADCAST_NOT_SUPPORTED),
        }
        assert len(transport.active) == 1  # on air in one cell: kept for re-sending
        nowhere = transport.write_replace(
            WriteReplace(4380, 0x3010, CellList.of([UNKNOWN]), CONTENT)
        )
        assert nowhere.cells == () and nowhere.failures == (
            CellFailure(UNKNOWN, Cause.PARAMETER_NOT_RECOGNISED),
        )
        assert len(transport.active) == 1  # on air nowhere: not kept


def test_restarted_osmo_bsc_gets_every_active_message_again(bsc: OsmoBsc) -> None:
    """osmo-bsc restarted: we reconnect, RESET, and re-send; the new process has the message."""
    events: list[LinkEvent] = []
    with client(bsc, events) as transport:
        transport.write_replace(WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT))
        bsc.stop()
        wait_for(lambda: not transport.is_up)
        bsc.start()
        wait_for(lambda: transport.connections == 2 and transport.is_up)
        status = transport.message_status(4371, 0x3010, cells=CellList.of([CELL]))
        assert [c.cell for c in status.completed] == [CELL] and not status.failures
    kinds = [type(e) for e in events]
    assert kinds.count(LinkUp) == 2 and LinkLost in kinds
    # osmo-bsc's RESTART on each connection crossed our RESET: no extra re-send was asked
    assert [e.resend for e in events if isinstance(e, Restarted)] == [False, False]


def test_restart_from_osmo_bsc_makes_us_resend_without_reset(bsc: OsmoBsc) -> None:
    """Without RESET on connection it is osmo-bsc's RESTART ("data lost") that asks for the
    re-send; the copy that arrives twice (LinkUp and RESTART) is refused as already used."""
    events: list[LinkEvent] = []
    with client(bsc, events, reset_on_connect=False) as transport:
        transport.write_replace(WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT))
        bsc.stop()
        wait_for(lambda: not transport.is_up)
        bsc.start()
        wait_for(
            lambda: sum(isinstance(e, Restarted) and e.resend for e in events) == 2, timeout=15
        )
        status = transport.message_status(4371, 0x3010, cells=CellList.of([CELL]))
        assert [c.cell for c in status.completed] == [CELL]


def test_keep_alive_is_answered(bsc: OsmoBsc) -> None:
    events: list[LinkEvent] = []
    with client(bsc, events, keepalive_interval=1, keepalive_timeout=2) as transport:
        transport.wait_until_up()
        time.sleep(3.5)
        assert transport.is_up and not any(isinstance(e, LinkLost) for e in events)
    assert bsc.log_text().count("CBSP Rx KEEP_ALIVE") >= 2


def test_etws_write_and_kill(bsc: OsmoBsc) -> None:
    with client(bsc) as transport:
        etws = WriteReplace(
            4352,
            0x3000,
            CellList.of([CELL]),
            EmergencyContent(WarningType(0), warning_period=60),
        )
        assert transport.write_replace(etws).cells == (CELL,)
        killed = transport.kill(4352, 0x3000, channel=None)
        assert killed.ok and killed.cells == (CELL,)
    assert "CBSP Rx WRITE_REPLACE (EMERGENCY)" in bsc.log_text()
