"""The CBSP TCP transports against a stand-in BSC on a local socket: requests and answers,
reconnection with RESET and re-sending, RESTART, server mode, unreachable and silent BSCs.

The stand-in answers the way osmo-bsc 1.9 does (RESTART on connection, cause 0x0d for a message
it already has, 0x02 for a KILL of a message it does not have); test_osmo_bsc.py checks the real
thing."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gateways.base import TransientGatewayError
from gateways.cell_broadcast.cbsp import (
    BroadcastType,
    Cause,
    CbsContent,
    CbspDecoder,
    CbspMessage,
    CellFailure,
    CellId,
    CellIdKind,
    CellList,
    Cgi,
    Kill,
    KillComplete,
    KillFailure,
    MessageStatusQuery,
    Page,
    Recovery,
    Reset,
    ResetComplete,
    Restart,
    WriteReplace,
    WriteReplaceComplete,
    WriteReplaceFailure,
    encode,
)
from gateways.cell_broadcast.cbsp_link import CbspLink, LinkEvent, Restarted
from gateways.cell_broadcast.cbsp_transport import (
    CbspClient,
    CbspServer,
    CbspTransportError,
    CbspUnavailableError,
)

CELL = Cgi("901", "70", 23, 1001)
CONTENT = CbsContent(pages=(Page(bytes(82), 0),), dcs=0x0F, repetition_period=5)
WRITE = WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT)


class StandInBsc:
    """A BSC that keeps a message table like osmo-bsc's and records what it receives."""

    def __init__(self, *, silent: bool = False) -> None:
        self.received: list[CbspMessage] = []
        self.table: set[tuple[int, int, CellId]] = set()  # message id, serial, cell
        self.silent = silent
        self.connections = 0
        self._conn: socket.socket | None = None
        self._lock = threading.Lock()

    def restart(self) -> None:
        """Forget every message, as a restarted osmo-bsc does."""
        self.table.clear()

    @staticmethod
    def cells_of(cells: CellList) -> tuple[CellId, ...]:
        """The cells a list names; "all in BSS" is the one cell this BSC has."""
        return (CELL,) if cells.kind == CellIdKind.ALL_IN_BSS else cells.cells

    def has(self, message_id: int, serial: int) -> bool:
        return any(entry[:2] == (message_id, serial) for entry in self.table)

    def answer(self, message: CbspMessage) -> CbspMessage | None:
        if self.silent:
            return None
        match message:
            case Reset():
                self.table.clear()
                return ResetComplete(CellList.all_in_bss())
            case WriteReplace():
                done, failed = [], []
                for cell in self.cells_of(message.cells):
                    if (message.message_id, message.new_serial, cell) in self.table:
                        failed.append(CellFailure(cell, Cause.MESSAGE_REFERENCE_ALREADY_USED))
                        continue
                    if message.old_serial is not None:
                        self.table.discard((message.message_id, message.old_serial, cell))
                    self.table.add((message.message_id, message.new_serial, cell))
                    done.append(cell)
                ok = CellList(CELL.kind if done == [CELL] else message.cells.kind, tuple(done))
                if failed:
                    return WriteReplaceFailure(
                        message.message_id, message.new_serial, tuple(failed), cells=ok
                    )
                return WriteReplaceComplete(
                    message.message_id, message.new_serial, message.old_serial, cells=ok
                )
            case Kill():
                done, failed = [], []
                for cell in self.cells_of(message.cells):
                    key = (message.message_id, message.old_serial, cell)
                    if key in self.table:
                        self.table.discard(key)
                        done.append(cell)
                    else:
                        failed.append(CellFailure(cell, Cause.MESSAGE_REFERENCE_NOT_IDENTIFIED))
                ok = CellList(CELL.kind if done == [CELL] else message.cells.kind, tuple(done))
                if failed:
                    return KillFailure(
                        message.message_id, message.old_serial, tuple(failed), cells=ok
                    )
                return KillComplete(message.message_id, message.old_serial, cells=ok)
        return None

    def serve(self, conn: socket.socket) -> None:
        self.connections += 1
        self._conn = conn
        decoder = CbspDecoder()
        conn.sendall(encode(Restart(CellList.all_in_bss(), BroadcastType.CBS, Recovery.DATA_LOST)))
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            for message in decoder.feed(data):
                with self._lock:
                    self.received.append(message)
                    reply = self.answer(message)
                if reply is not None:
                    with contextlib.suppress(OSError):
                        conn.sendall(encode(reply))

    def send(self, message: CbspMessage) -> None:
        assert self._conn is not None
        self._conn.sendall(encode(message))

    def drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.shutdown(socket.SHUT_RDWR)
            self._conn.close()

    def writes(self) -> list[WriteReplace]:
        with self._lock:
            return [m for m in self.received if isinstance(m, WriteReplace)]


class ListeningBsc(StandInBsc):
    """osmo-bsc 'cbc mode server': listens, the CBC connects."""

    def __init__(self, **options: bool) -> None:
        super().__init__(**options)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.server.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self.drop()
        self.server.close()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.fixture
def bsc() -> Iterator[ListeningBsc]:
    stand_in = ListeningBsc()
    yield stand_in
    stand_in.close()


def client(bsc: ListeningBsc, events: list[LinkEvent] | None = None, **link: float) -> CbspClient:
    return CbspClient(
        "127.0.0.1",
        bsc.port,
        link=CbspLink(**link),  # type: ignore[arg-type]
        reconnect_initial=0.05,
        reconnect_max=0.2,
        up_timeout=5.0,
        on_event=None if events is None else events.append,
    )


def test_write_kill_and_the_active_registry(bsc: ListeningBsc) -> None:
    with client(bsc) as transport:
        result = transport.write_replace(WRITE)
        assert result.ok and result.cells == (CELL,) and result.serial == 0x3010
        assert transport.active == (WRITE,)
        update = WriteReplace(4371, 0x3011, CellList.of([CELL]), CONTENT, old_serial=0x3010)
        assert transport.write_replace(update).ok
        assert transport.active == (WriteReplace(4371, 0x3011, CellList.of([CELL]), CONTENT),)
        killed = transport.kill(4371, 0x3011)
        assert killed.ok and killed.request.cells == CellList.of([CELL])
        assert not transport.active
        again = transport.kill(4371, 0x3011)  # gone already: that is what a kill wants
        assert again.ok and again.not_found == (CELL,)
        assert again.request.cells == CellList.all_in_bss()
    assert isinstance(bsc.received[0], Reset)


def test_reconnect_resets_and_resends_every_active_message(bsc: ListeningBsc) -> None:
    with client(bsc) as transport:
        transport.write_replace(WRITE)
        bsc.restart()
        bsc.drop()  # the BSC went away and came back empty
        wait_for(lambda: bsc.connections == 2 and len(bsc.writes()) == 2)
        assert bsc.writes()[1] == WRITE  # as a new message, to the same cells
        assert bsc.has(4371, 0x3010)
        assert transport.is_up


def test_restart_with_data_lost_makes_us_resend(bsc: ListeningBsc) -> None:
    events: list[LinkEvent] = []
    with client(bsc, events) as transport:
        transport.write_replace(WRITE)
        bsc.restart()
        bsc.send(Restart(CellList.all_in_bss(), BroadcastType.CBS, Recovery.DATA_LOST))
        wait_for(lambda: len(bsc.writes()) == 2)
        assert any(isinstance(e, Restarted) and e.resend for e in events)
        # data available: nothing to re-send
        bsc.send(Restart(CellList.all_in_bss(), BroadcastType.CBS, Recovery.DATA_AVAILABLE))
        time.sleep(0.3)
        assert len(bsc.writes()) == 2


def test_a_repeat_of_an_active_message_counts_as_on_air(bsc: ListeningBsc) -> None:
    with client(bsc) as transport:
        transport.write_replace(WRITE)
        repeat = transport.write_replace(WRITE)  # e.g. dispatch retried after a lost answer
        assert repeat.ok and repeat.already_on_air == (CELL,)
        text = CbsContent((Page(b"x" * 82, 1),), 1, 5)
        other = WriteReplace(4371, 0x3010, CellList.of([CELL]), text)
        clash = transport.write_replace(other)  # same id/serial, different text: a real failure
        assert not clash.ok
        assert clash.failures == (CellFailure(CELL, Cause.MESSAGE_REFERENCE_ALREADY_USED),)


def test_server_mode_waits_for_the_bsc_to_connect() -> None:
    with CbspServer("127.0.0.1", 0, up_timeout=5.0) as transport:
        host, port = transport.address
        assert port != 0
        stand_in = StandInBsc()
        conn = socket.create_connection((host, port))
        threading.Thread(target=stand_in.serve, args=(conn,), daemon=True).start()
        assert transport.write_replace(WRITE).ok
        second = socket.create_connection((host, port))  # a second BSC is refused
        second.settimeout(2)
        assert second.recv(10) == b""
        second.close()
        conn.close()


def test_unreachable_bsc_is_a_transient_error_saying_what_to_check() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with CbspClient("127.0.0.1", port, up_timeout=0.5, reconnect_initial=0.05) as transport:
        with pytest.raises(CbspUnavailableError, match="Connection refused") as info:
            transport.write_replace(WRITE)
        assert isinstance(info.value, TransientGatewayError)
        assert f"127.0.0.1:{port}" in str(info.value) and "'cbc' section" in str(info.value)


def test_silent_bsc_times_out_the_request() -> None:
    stand_in = ListeningBsc()
    stand_in.silent = False
    try:
        with client(stand_in, request_timeout=0.5) as transport:
            transport.wait_until_up()
            stand_in.silent = True
            with pytest.raises(CbspTransportError, match="did not answer WRITE-REPLACE 4371"):
                transport.write_replace(WRITE)
            with pytest.raises(CbspTransportError):
                transport.message_status(4371, 0x3010)
            assert any(isinstance(m, MessageStatusQuery) for m in stand_in.received)
    finally:
        stand_in.close()


def test_restore_resends_the_gateways_registry_on_connection(bsc: ListeningBsc) -> None:
    transport = client(bsc)
    transport.restore([WRITE])
    with transport:
        wait_for(lambda: len(bsc.writes()) == 1)
        assert bsc.writes()[0] == WRITE


def test_a_message_for_ten_thousand_cells_goes_in_parts(bsc: ListeningBsc) -> None:
    cells = CellList.of([Cgi("901", "70", 1 + i // 1000, i) for i in range(10_000)])
    big = WriteReplace(4371, 0x3010, cells, CONTENT)
    with client(bsc) as transport:
        result = transport.write_replace(big)
        assert result.ok and result.cells == cells.cells
        assert [len(w.cells) for w in bsc.writes()] == [9362, 638]
        assert transport.active == (big,)
        bsc.restart()
        bsc.drop()
        wait_for(lambda: len(bsc.writes()) == 4)  # re-sent in the same two parts
        assert len(bsc.table) == 10_000
        killed = transport.kill(4371, 0x3010)
        assert killed.ok and len(killed.cells) == 10_000
        assert sum(isinstance(m, Kill) for m in bsc.received) == 2
        assert not bsc.table
