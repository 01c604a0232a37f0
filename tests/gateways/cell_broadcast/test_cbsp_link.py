"""The CBC-side CBSP link, driven with byte strings and explicit times (no sockets, no clock).

The BSC's answers below are the ones osmo-bsc 1.9 really gives (see test_osmo_bsc.py): RESTART
(all cells, data lost) on connection, RESET COMPLETE for all cells, WRITE-REPLACE COMPLETE with
the CGI list, FAILURE with cause 0x00 for a cell it does not know."""

from __future__ import annotations

import pytest

from gateways.cell_broadcast.cbsp import (
    BroadcastsCompleted,
    BroadcastType,
    Cause,
    CbsContent,
    CbspDecoder,
    CbspMessage,
    CellFailure,
    CellList,
    Cgi,
    Channel,
    CompletedList,
    ErrorIndication,
    Failure,
    KeepAlive,
    KeepAliveComplete,
    Kill,
    KillComplete,
    LacCi,
    LoadQuery,
    MessageStatusQuery,
    MessageStatusQueryComplete,
    Page,
    Recovery,
    Reset,
    ResetComplete,
    ResetFailure,
    Restart,
    WriteReplace,
    WriteReplaceComplete,
    WriteReplaceFailure,
    decode,
    encode,
)
from gateways.cell_broadcast.cbsp_link import (
    CbspLink,
    CbspLinkError,
    CellsFailed,
    KillCompleted,
    LinkLost,
    LinkOutput,
    LinkState,
    LinkUp,
    PeerError,
    RequestAborted,
    RequestRefused,
    RequestTimedOut,
    ResetFailed,
    Restarted,
    StatusReported,
    UndecodableMessage,
    UnexpectedMessage,
    WriteCompleted,
    WriteFailed,
    failed_cells,
)

CELL = Cgi("901", "70", 23, 1001)
UNKNOWN = Cgi("901", "70", 99, 4242)
CONTENT = CbsContent(pages=(Page(bytes(82), 0),), dcs=0x0F, repetition_period=5)
WRITE = WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT)
COMPLETED = CompletedList(CELL.kind, (BroadcastsCompleted(CELL, 12),))
RESTART_LOST = encode(Restart(CellList.all_in_bss(), BroadcastType.CBS, Recovery.DATA_LOST))


def sent(output: LinkOutput | bytes) -> list[CbspMessage]:
    data = output.data if isinstance(output, LinkOutput) else output
    return CbspDecoder().feed(data)


def up_link(**options: float | None) -> CbspLink:
    link = CbspLink(**options)  # type: ignore[arg-type]
    link.connection_made(0.0)
    out = link.data_received(encode(ResetComplete(CellList.all_in_bss())), 0.1)
    assert out.events == (LinkUp(),)
    return link


def test_connection_sends_reset_and_is_up_after_reset_complete() -> None:
    link = CbspLink()
    out = link.connection_made(0.0)
    assert sent(out) == [Reset(CellList.all_in_bss())]
    assert out.events == ()
    assert link.state == LinkState.RESETTING
    with pytest.raises(CbspLinkError, match="link is resetting"):
        link.send(WRITE, 0.0)
    # osmo-bsc's RESTART crosses our RESET: no re-send now, LinkUp will ask for it
    out = link.data_received(RESTART_LOST, 0.01)
    assert out.events == (Restarted(decode(RESTART_LOST), resend=False),)  # type: ignore[arg-type]
    out = link.data_received(encode(ResetComplete(CellList.all_in_bss())), 0.02)
    assert out.events == (LinkUp(),)
    assert link.state.value == "up"


def test_reset_failure_still_brings_the_link_up_and_is_reported() -> None:
    link = CbspLink()
    link.connection_made(0.0)
    answer = ResetFailure((CellFailure(LacCi(1, 2), Cause.CELL_BROADCAST_NOT_OPERATIONAL),))
    out = link.data_received(encode(answer), 0.5)
    assert [type(e) for e in out.events] == [ResetFailed, LinkUp]


def test_without_reset_the_link_is_up_at_once_and_restart_asks_for_resend() -> None:
    link = CbspLink(reset_on_connect=False)
    out = link.connection_made(0.0)
    assert out.data == b"" and out.events == (LinkUp(),)
    out = link.data_received(RESTART_LOST, 0.1)
    assert out.events == (Restarted(decode(RESTART_LOST), resend=True),)  # type: ignore[arg-type]
    available = Restart(CellList.of([LacCi(23, 1001)]), BroadcastType.CBS, Recovery.DATA_AVAILABLE)
    assert link.data_received(encode(available), 0.2).events == (Restarted(available, False),)


def test_write_replace_complete_and_failure_are_matched_by_id_and_serial() -> None:
    link = up_link()
    data = link.send(WRITE, 1.0)
    assert sent(data) == [WRITE]
    other = WriteReplace(4372, 0x3020, CellList.of([UNKNOWN]), CONTENT)
    link.send(other, 1.0)
    assert set(link.outstanding) == {WRITE, other}
    # answers may come in any order
    failure = WriteReplaceFailure(
        4372, 0x3020, (CellFailure(UNKNOWN, Cause.PARAMETER_NOT_RECOGNISED),), channel=Channel.BASIC
    )
    complete = WriteReplaceComplete(4371, 0x3010, cells=CellList.of([CELL]), channel=Channel.BASIC)
    out = link.data_received(encode(failure) + encode(complete), 1.2)
    first, second = out.events
    assert isinstance(first, WriteFailed) and first.request == other
    assert first.failures == (CellFailure(UNKNOWN, 0),) and first.cells == ()
    assert isinstance(second, WriteCompleted) and second.request == WRITE
    assert (second.message_id, second.serial, second.cells) == (4371, 0x3010, (CELL,))
    assert link.outstanding == ()
    assert failed_cells(first.failures) == "901-70-99-4242: parameter-not-recognised"


def test_the_same_request_cannot_wait_twice() -> None:
    link = up_link()
    link.send(WRITE, 1.0)
    with pytest.raises(CbspLinkError, match="already waiting"):
        link.send(WRITE, 1.1)


def test_parts_of_one_message_are_answered_in_order() -> None:
    """A message whose cell list needs several IEs goes as several WRITE-REPLACEs with one
    identity; the BSC answers them in order."""
    link = up_link()
    first = WriteReplace(4371, 0x3010, CellList.of([CELL]), CONTENT)
    second = WriteReplace(4371, 0x3010, CellList.of([UNKNOWN]), CONTENT)
    link.send(first, 1.0)
    link.send(second, 1.0)
    out = link.data_received(
        encode(WriteReplaceComplete(4371, 0x3010, cells=CellList.of([CELL])))
        + encode(WriteReplaceFailure(4371, 0x3010, (CellFailure(UNKNOWN, 0),))),
        1.1,
    )
    assert [(type(e), getattr(e, "request", None)) for e in out.events] == [
        (WriteCompleted, first),
        (WriteFailed, second),
    ]


def test_kill_and_status_are_matched_by_old_serial() -> None:
    link = up_link()
    kill = Kill(4371, 0x3010, CellList.of([CELL]))
    status = MessageStatusQuery(4371, 0x3010, CellList.of([CELL]))
    link.send(kill, 2.0)
    link.send(status, 2.0)
    out = link.data_received(
        encode(KillComplete(4371, 0x3010, channel=Channel.BASIC))
        + encode(MessageStatusQueryComplete(4371, 0x3010, COMPLETED))
        + encode(KillComplete(4371, 0x3010)),  # a duplicate answer nobody waits for
        2.5,
    )
    assert [type(e) for e in out.events] == [KillCompleted, StatusReported, UnexpectedMessage]


def test_unanswered_request_times_out() -> None:
    """osmo-bsc 1.9 never answers LOAD QUERY ("Received Unimplemented CBSP Message Type")."""
    link = up_link(request_timeout=5.0, keepalive_interval=None)
    query = LoadQuery(CellList.all_in_bss())
    link.send(query, 10.0)
    assert link.next_deadline() == 15.0
    assert link.tick(14.9).events == ()
    out = link.tick(15.0)
    assert out.events == (RequestTimedOut(query, 5.0),)
    assert link.outstanding == () and link.next_deadline() is None


def test_keep_alive_is_sent_and_its_absence_drops_the_link() -> None:
    link = up_link(keepalive_interval=30, keepalive_timeout=10)
    assert link.next_deadline() == pytest.approx(30.1)
    assert link.tick(20.0).data == b""
    out = link.tick(30.1)
    assert sent(out) == [KeepAlive(30)]
    assert link.data_received(encode(KeepAliveComplete()), 31.0).events == ()
    assert sent(link.tick(60.1)) == [KeepAlive(30)]
    link.send(WRITE, 61.0)
    out = link.tick(70.2)  # no KEEP-ALIVE COMPLETE within 10 s
    assert link.state == LinkState.DOWN
    assert isinstance(out.events[0], RequestAborted) and out.events[0].request == WRITE
    assert isinstance(out.events[-1], LinkLost)
    assert "no KEEP-ALIVE COMPLETE within 10 s" in out.events[-1].reason


def test_unanswered_reset_drops_the_link() -> None:
    link = CbspLink(request_timeout=5.0)
    link.connection_made(0.0)
    out = link.tick(5.0)
    assert out.events == (LinkLost("the BSC did not answer RESET within 5 s"),)


def test_connection_lost_aborts_outstanding_requests_once() -> None:
    link = up_link()
    link.send(WRITE, 1.0)
    out = link.connection_lost(2.0, "the BSC closed the connection")
    assert out.events == (
        RequestAborted(WRITE, "the BSC closed the connection"),
        LinkLost("the BSC closed the connection"),
    )
    assert link.connection_lost(2.1, "again").events == ()
    assert link.data_received(RESTART_LOST, 2.2).events == ()  # ignored while down
    link.connection_made(3.0)
    assert link.state == LinkState.RESETTING


def test_error_indication_fails_the_request_it_names() -> None:
    link = up_link()
    link.send(WRITE, 1.0)
    error = ErrorIndication(Cause.MISSING_MANDATORY_ELEMENT, 4371, 0x3010)
    out = link.data_received(encode(error), 1.1)
    assert out.events == (RequestRefused(WRITE, error),)
    stray = ErrorIndication(Cause.UNRECOGNISED_MESSAGE)
    assert link.data_received(encode(stray), 1.2).events == (PeerError(stray),)


def test_failure_indication_and_peer_keep_alive() -> None:
    link = up_link()
    failure = Failure(
        (CellFailure(LacCi(23, 1001), Cause.CELL_BROADCAST_NOT_OPERATIONAL),), BroadcastType.CBS
    )
    out = link.data_received(encode(failure) + encode(KeepAlive(30)), 1.0)
    assert out.events == (CellsFailed(failure),)
    assert sent(out) == [KeepAliveComplete()]


def test_bad_bytes_are_reported_and_framing_loss_drops_the_link() -> None:
    link = up_link()
    out = link.data_received(bytes.fromhex("42000000") + encode(KeepAliveComplete()), 1.0)
    assert len(out.events) == 1 and isinstance(out.events[0], UndecodableMessage)
    assert "message type 0x42" in out.events[0].detail
    out = link.data_received(bytes.fromhex("01ffffff"), 1.1)
    assert isinstance(out.events[-1], LinkLost) and link.state == LinkState.DOWN


def test_requests_from_the_bsc_side_are_unexpected() -> None:
    link = up_link()
    out = link.data_received(encode(WRITE), 1.0)
    assert out.events == (UnexpectedMessage(WRITE),)


def test_answers_split_across_reads() -> None:
    link = up_link()
    link.send(WRITE, 1.0)
    answer = encode(WriteReplaceComplete(4371, 0x3010, cells=CellList.of([CELL])))
    events: list[object] = []
    for i, byte in enumerate(answer):
        events += link.data_received(bytes([byte]), 1.0 + i / 100).events
    assert [type(e) for e in events] == [WriteCompleted]


def test_keepalive_interval_must_be_codable() -> None:
    with pytest.raises(ValueError, match="1 to 120"):
        CbspLink(keepalive_interval=300)
    with pytest.raises(Exception, match="cannot be coded"):
        CbspLink(keepalive_interval=11)
