"""The CBC side of a CBSP link as a sans-IO state machine: bytes and time in, events and bytes out.

The transport tells the link when the TCP connection comes up or goes, hands it every byte
received and calls :meth:`CbspLink.tick` when :meth:`CbspLink.next_deadline` passes; each call
returns a :class:`LinkOutput` with events for the gateway and bytes to send. The link never
reads a clock: ``now`` (seconds, monotonic) is passed in.

Decisions, from TS 48.049 and what osmo-bsc 1.9 really does:

* **RESET on connection** (default on). After a (re)connection the CBC cannot know what the
  BSC still broadcasts (the BSC may have restarted, or may hold a version we replaced while the
  link was down), so the link first sends RESET for all cells of the BSS and emits
  :class:`LinkUp` only once RESET COMPLETE (or FAILURE) arrives; the transport then re-sends
  every active message, which makes the BSC's state exactly ours. Phones ignore a repeat with
  the same message identifier and serial number, so the re-send does not alert twice.
  osmo-cbc does the same on connection.
* **RESTART from the BSC**. osmo-bsc sends RESTART (all cells, "message data lost") on every new
  CBSP connection, and RESTART with "data available" for a cell whose BTS comes back. A RESTART
  that says the data was lost, received while the link is up, is a :class:`Restarted` event with
  ``resend`` set: re-send every active message. During the RESET at connection it needs nothing
  (the re-send after :class:`LinkUp` covers it), and "data available" needs nothing either.
* **Requests are matched to answers** by kind, message identifier and serial number (the new
  serial of a WRITE-REPLACE, the old one of KILL and MESSAGE STATUS QUERY); LOAD QUERY and RESET
  answers carry no identity. Requests with the same identity (the parts of a message whose
  cell list needs several IEs, see :func:`~gateways.cell_broadcast.cbsp.split_cells`) are
  answered first in, first out, as a BSC processes them in order. A request not answered within
  ``request_timeout`` ends with :class:`RequestTimedOut` (osmo-bsc 1.9 never answers LOAD QUERY).
* **KEEP-ALIVE** every ``keepalive_interval`` seconds while up; no KEEP-ALIVE COMPLETE within
  ``keepalive_timeout`` means the BSC is gone: :class:`LinkLost`, and the transport reconnects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from gateways.cell_broadcast.cbsp import (
    BroadcastsCompleted,
    CbspDecodeError,
    CbspDecoder,
    CbspError,
    CbspMessage,
    CellFailure,
    CellId,
    CellLoad,
    ErrorIndication,
    Failure,
    KeepAlive,
    KeepAliveComplete,
    Kill,
    KillComplete,
    KillFailure,
    LoadQuery,
    LoadQueryComplete,
    LoadQueryFailure,
    MessageStatusQuery,
    MessageStatusQueryComplete,
    MessageStatusQueryFailure,
    Recovery,
    Reset,
    ResetComplete,
    ResetFailure,
    Restart,
    WriteReplace,
    WriteReplaceComplete,
    WriteReplaceFailure,
    encode,
    period_code,
)

Request: TypeAlias = WriteReplace | Kill | MessageStatusQuery | LoadQuery | Reset
RequestKey: TypeAlias = tuple[str, int, int]


class CbspLinkError(CbspError):
    """The link was asked for something its state does not allow (says what to do instead)."""


class LinkState(StrEnum):
    DOWN = "down"  # no connection
    RESETTING = "resetting"  # connected, our RESET not answered yet
    UP = "up"  # requests may be sent


def request_key(request: Request) -> RequestKey:
    """What an answer to ``request`` is recognised by."""
    match request:
        case WriteReplace():
            return ("write", request.message_id, request.new_serial)
        case Kill():
            return ("kill", request.message_id, request.old_serial)
        case MessageStatusQuery():
            return ("status", request.message_id, request.old_serial)
        case LoadQuery():
            return ("load", -1, -1)
        case Reset():
            return ("reset", -1, -1)


def describe(request: Request) -> str:
    """A short name for a request in messages to a duty officer."""
    match request:
        case WriteReplace():
            kind = "WRITE-REPLACE" if request.old_serial is None else "WRITE-REPLACE (replace)"
            return f"{kind} {request.message_id}/0x{request.new_serial:04x}"
        case Kill():
            return f"KILL {request.message_id}/0x{request.old_serial:04x}"
        case MessageStatusQuery():
            return f"MESSAGE STATUS QUERY {request.message_id}/0x{request.old_serial:04x}"
        case LoadQuery():
            return "LOAD QUERY"
        case Reset():
            return "RESET"


# ---------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class LinkUp:
    """Requests may be sent now; re-send every active message (the BSC's state is unknown)."""


@dataclass(frozen=True, slots=True)
class LinkLost:
    """The link is down; the transport closes the connection and reconnects."""

    reason: str


class _WriteAnswer:
    """What a WRITE-REPLACE's answer tells, COMPLETE or FAILURE alike."""

    __slots__ = ()
    request: WriteReplace
    response: WriteReplaceComplete | WriteReplaceFailure

    @property
    def message_id(self) -> int:
        return self.request.message_id

    @property
    def serial(self) -> int:
        return self.request.new_serial

    @property
    def cells(self) -> tuple[CellId, ...]:
        return () if self.response.cells is None else self.response.cells.cells

    @property
    def completed(self) -> tuple[BroadcastsCompleted, ...]:
        return () if self.response.completed is None else self.response.completed.entries


@dataclass(frozen=True, slots=True)
class WriteCompleted(_WriteAnswer):
    request: WriteReplace
    response: WriteReplaceComplete


@dataclass(frozen=True, slots=True)
class WriteFailed(_WriteAnswer):
    """WRITE-REPLACE FAILURE: ``failures`` lists the cells that refused, ``cells`` the ones
    that took the message anyway."""

    request: WriteReplace
    response: WriteReplaceFailure

    @property
    def failures(self) -> tuple[CellFailure, ...]:
        return self.response.failures


@dataclass(frozen=True, slots=True)
class KillCompleted:
    request: Kill
    response: KillComplete

    @property
    def completed(self) -> tuple[BroadcastsCompleted, ...]:
        return () if self.response.completed is None else self.response.completed.entries

    @property
    def cells(self) -> tuple[CellId, ...]:
        if self.response.cells is not None:
            return self.response.cells.cells
        return tuple(entry.cell for entry in self.completed)


@dataclass(frozen=True, slots=True)
class KillFailed:
    request: Kill
    response: KillFailure

    @property
    def failures(self) -> tuple[CellFailure, ...]:
        return self.response.failures

    @property
    def completed(self) -> tuple[BroadcastsCompleted, ...]:
        return () if self.response.completed is None else self.response.completed.entries

    @property
    def cells(self) -> tuple[CellId, ...]:
        if self.response.cells is not None:
            return self.response.cells.cells
        return tuple(entry.cell for entry in self.completed)


@dataclass(frozen=True, slots=True)
class StatusReported:
    request: MessageStatusQuery
    response: MessageStatusQueryComplete


@dataclass(frozen=True, slots=True)
class StatusFailed:
    request: MessageStatusQuery
    response: MessageStatusQueryFailure


@dataclass(frozen=True, slots=True)
class LoadReported:
    request: LoadQuery
    response: LoadQueryComplete

    @property
    def loads(self) -> tuple[CellLoad, ...]:
        return self.response.loading.entries


@dataclass(frozen=True, slots=True)
class LoadFailed:
    request: LoadQuery
    response: LoadQueryFailure


@dataclass(frozen=True, slots=True)
class ResetCompleted:
    request: Reset
    response: ResetComplete


@dataclass(frozen=True, slots=True)
class ResetFailed:
    request: Reset
    response: ResetFailure


@dataclass(frozen=True, slots=True)
class RequestRefused:
    """The BSC answered a request with ERROR INDICATION (it could not read it)."""

    request: Request
    error: ErrorIndication


@dataclass(frozen=True, slots=True)
class RequestTimedOut:
    request: Request
    waited: float


@dataclass(frozen=True, slots=True)
class RequestAborted:
    """The link went down before the answer came: the BSC may or may not have acted on it."""

    request: Request
    reason: str


@dataclass(frozen=True, slots=True)
class Restarted:
    """RESTART from the BSC. ``resend``: re-send every active message to its cells now."""

    restart: Restart
    resend: bool


@dataclass(frozen=True, slots=True)
class CellsFailed:
    """FAILURE indication: broadcasting stopped in these cells (e.g. their BTS went away)."""

    failure: Failure

    @property
    def failures(self) -> tuple[CellFailure, ...]:
        return self.failure.failures


@dataclass(frozen=True, slots=True)
class PeerError:
    """ERROR INDICATION that matches no outstanding request."""

    error: ErrorIndication


@dataclass(frozen=True, slots=True)
class UnexpectedMessage:
    """A message a BSC should not send, or an answer nobody waits for (e.g. after a timeout)."""

    message: CbspMessage


@dataclass(frozen=True, slots=True)
class UndecodableMessage:
    """The BSC sent a message we cannot read; it was dropped."""

    detail: str


LinkEvent: TypeAlias = (
    LinkUp
    | LinkLost
    | WriteCompleted
    | WriteFailed
    | KillCompleted
    | KillFailed
    | StatusReported
    | StatusFailed
    | LoadReported
    | LoadFailed
    | ResetCompleted
    | ResetFailed
    | RequestRefused
    | RequestTimedOut
    | RequestAborted
    | Restarted
    | CellsFailed
    | PeerError
    | UnexpectedMessage
    | UndecodableMessage
)


@dataclass(frozen=True, slots=True)
class LinkOutput:
    """What one call produced: events for the gateway, bytes for the peer."""

    events: tuple[LinkEvent, ...] = ()
    data: bytes = b""


@dataclass(slots=True)
class _Outstanding:
    request: Request
    sent_at: float
    deadline: float
    internal: bool = False  # the link's own RESET at connection


@dataclass(slots=True)
class _Out:
    events: list[LinkEvent] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)

    def result(self) -> LinkOutput:
        return LinkOutput(tuple(self.events), bytes(self.data))


class CbspLink:
    """The CBC end of one CBSP connection (see the module docstring for its rules)."""

    def __init__(
        self,
        *,
        reset_on_connect: bool = True,
        keepalive_interval: float | None = 30.0,
        keepalive_timeout: float = 10.0,
        request_timeout: float = 10.0,
    ) -> None:
        if keepalive_interval is not None and not 1 <= keepalive_interval <= 120:
            raise ValueError(
                f"keepalive_interval {keepalive_interval} s must be 1 to 120 s (TS 48.049 "
                "8.2.18a), or None to send no KEEP-ALIVE"
            )
        if keepalive_interval is not None:
            period_code(int(keepalive_interval), "keepalive_interval")
            if keepalive_interval != int(keepalive_interval):
                raise ValueError(f"keepalive_interval {keepalive_interval} must be whole seconds")
        if keepalive_timeout <= 0 or request_timeout <= 0:
            raise ValueError("keepalive_timeout and request_timeout must be positive seconds")
        self.reset_on_connect = reset_on_connect
        self.keepalive_interval = keepalive_interval
        self.keepalive_timeout = keepalive_timeout
        self.request_timeout = request_timeout
        self._state = LinkState.DOWN
        self._decoder = CbspDecoder()
        self._outstanding: dict[RequestKey, list[_Outstanding]] = {}
        self._next_keepalive: float | None = None
        self._keepalive_deadline: float | None = None

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def outstanding(self) -> tuple[Request, ...]:
        """Requests sent and not answered yet (the link's own RESET included)."""
        return tuple(o.request for pending in self._outstanding.values() for o in pending)

    # -- connection ---------------------------------------------------------------------------

    def connection_made(self, now: float) -> LinkOutput:
        """The TCP connection is up: RESET the BSC, or be up at once."""
        if self._state != LinkState.DOWN:
            raise CbspLinkError("connection_made() while the link is already connected")
        self._decoder = CbspDecoder()
        out = _Out()
        if self.reset_on_connect:
            self._state = LinkState.RESETTING
            self._register(Reset(), now, out, internal=True)
        else:
            self._go_up(now, out)
        return out.result()

    def connection_lost(self, now: float, reason: str) -> LinkOutput:
        """The TCP connection is gone (closed by either side)."""
        out = _Out()
        self._go_down(reason, out)
        return out.result()

    # -- requests -----------------------------------------------------------------------------

    def send(self, request: Request, now: float) -> bytes:
        """The bytes of ``request``, remembered until its answer comes or it times out."""
        if self._state != LinkState.UP:
            raise CbspLinkError(
                f"cannot send {describe(request)}: the CBSP link is {self._state.value} "
                "(wait for LinkUp)"
            )
        key = request_key(request)
        if any(o.request == request for o in self._outstanding.get(key, [])):
            raise CbspLinkError(
                f"{describe(request)} is already waiting for the BSC's answer: wait for it "
                "instead of sending it twice"
            )
        out = _Out()
        self._register(request, now, out)
        return bytes(out.data)

    def _register(self, request: Request, now: float, out: _Out, *, internal: bool = False) -> None:
        data = encode(request)  # raises CbspEncodeError before anything is recorded
        pending = _Outstanding(request, now, now + self.request_timeout, internal)
        self._outstanding.setdefault(request_key(request), []).append(pending)
        out.data += data

    # -- time -----------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`tick` has something to do next (None: nothing is scheduled)."""
        times = [o.deadline for pending in self._outstanding.values() for o in pending]
        if self._next_keepalive is not None:
            times.append(self._next_keepalive)
        if self._keepalive_deadline is not None:
            times.append(self._keepalive_deadline)
        return min(times, default=None)

    def tick(self, now: float) -> LinkOutput:
        out = _Out()
        if self._state == LinkState.DOWN:
            return out.result()
        if self._keepalive_deadline is not None and now >= self._keepalive_deadline:
            self._go_down(
                f"no KEEP-ALIVE COMPLETE within {self.keepalive_timeout:g} s: the BSC stopped "
                "answering",
                out,
            )
            return out.result()
        for key in list(self._outstanding):
            for pending in list(self._outstanding.get(key, [])):
                if now < pending.deadline:
                    continue
                if pending.internal:
                    self._go_down(
                        f"the BSC did not answer RESET within {self.request_timeout:g} s", out
                    )
                    return out.result()
                self._forget(key, pending)
                out.events.append(RequestTimedOut(pending.request, now - pending.sent_at))
        if (
            self._state == LinkState.UP
            and self._next_keepalive is not None
            and self.keepalive_interval is not None
            and now >= self._next_keepalive
        ):
            out.data += encode(KeepAlive(int(self.keepalive_interval)))
            self._next_keepalive = now + self.keepalive_interval
            if self._keepalive_deadline is None:
                self._keepalive_deadline = now + self.keepalive_timeout
        return out.result()

    # -- received -------------------------------------------------------------------------------

    def data_received(self, data: bytes, now: float) -> LinkOutput:
        out = _Out()
        if self._state == LinkState.DOWN:
            return out.result()
        chunk = data
        while True:
            try:
                messages = self._decoder.feed(chunk)
            except CbspDecodeError as exc:
                if exc.fatal:
                    self._go_down(f"cannot frame what the BSC sends: {exc}", out)
                    return out.result()
                out.events.append(UndecodableMessage(str(exc)))
                chunk = b""
                continue
            for message in messages:
                self._handle(message, now, out)
                if self._is_down():
                    return out.result()
            if not messages or self._decoder.pending < 4:
                return out.result()
            chunk = b""

    def _is_down(self) -> bool:
        return self._state == LinkState.DOWN

    def _handle(self, message: CbspMessage, now: float, out: _Out) -> None:
        match message:
            case KeepAliveComplete():
                self._keepalive_deadline = None
            case KeepAlive():
                out.data += encode(KeepAliveComplete())
            case Restart():
                lost = message.recovery == Recovery.DATA_LOST
                out.events.append(Restarted(message, resend=lost and self._state == LinkState.UP))
            case Failure():
                out.events.append(CellsFailed(message))
            case ErrorIndication():
                self._error_indication(message, out)
            case WriteReplaceComplete() | WriteReplaceFailure():
                self._answer(("write", message.message_id, message.new_serial), message, now, out)
            case KillComplete() | KillFailure():
                self._answer(("kill", message.message_id, message.old_serial), message, now, out)
            case MessageStatusQueryComplete() | MessageStatusQueryFailure():
                self._answer(("status", message.message_id, message.old_serial), message, now, out)
            case LoadQueryComplete() | LoadQueryFailure():
                self._answer(("load", -1, -1), message, now, out)
            case ResetComplete() | ResetFailure():
                self._answer(("reset", -1, -1), message, now, out)
            case _:
                out.events.append(UnexpectedMessage(message))

    def _answer(self, key: RequestKey, message: CbspMessage, now: float, out: _Out) -> None:
        pending_list = self._outstanding.get(key)
        if not pending_list:
            out.events.append(UnexpectedMessage(message))
            return
        pending = pending_list[0]
        self._forget(key, pending)
        event = _answer_event(pending.request, message)
        if event is None:
            out.events.append(UnexpectedMessage(message))
            return
        if pending.internal:  # our own RESET at connection: the link is up now
            if isinstance(event, ResetFailed):
                out.events.append(event)
            self._go_up(now, out)
            return
        out.events.append(event)

    def _error_indication(self, error: ErrorIndication, out: _Out) -> None:
        candidates: list[RequestKey] = []
        if error.message_id is not None:
            if error.new_serial is not None:
                candidates.append(("write", error.message_id, error.new_serial))
            if error.old_serial is not None:
                candidates += [
                    ("kill", error.message_id, error.old_serial),
                    ("status", error.message_id, error.old_serial),
                ]
        for key in candidates:
            pending_list = self._outstanding.get(key)
            if pending_list:
                pending = pending_list[0]
                self._forget(key, pending)
                out.events.append(RequestRefused(pending.request, error))
                return
        out.events.append(PeerError(error))

    # -- state changes ------------------------------------------------------------------------

    def _forget(self, key: RequestKey, pending: _Outstanding) -> None:
        pending_list = self._outstanding[key]
        pending_list.remove(pending)
        if not pending_list:
            del self._outstanding[key]

    def _go_up(self, now: float, out: _Out) -> None:
        self._state = LinkState.UP
        self._keepalive_deadline = None
        self._next_keepalive = (
            None if self.keepalive_interval is None else now + self.keepalive_interval
        )
        out.events.append(LinkUp())

    def _go_down(self, reason: str, out: _Out) -> None:
        if self._state == LinkState.DOWN:
            return
        self._state = LinkState.DOWN
        self._next_keepalive = None
        self._keepalive_deadline = None
        aborted = [o for pending in self._outstanding.values() for o in pending]
        self._outstanding.clear()
        out.events.extend(RequestAborted(o.request, reason) for o in aborted if not o.internal)
        out.events.append(LinkLost(reason))


def _answer_event(request: Request, message: CbspMessage) -> LinkEvent | None:
    """The event for ``message`` answering ``request`` (None if they do not belong together)."""
    match request, message:
        case WriteReplace(), WriteReplaceComplete():
            return WriteCompleted(request, message)
        case WriteReplace(), WriteReplaceFailure():
            return WriteFailed(request, message)
        case Kill(), KillComplete():
            return KillCompleted(request, message)
        case Kill(), KillFailure():
            return KillFailed(request, message)
        case MessageStatusQuery(), MessageStatusQueryComplete():
            return StatusReported(request, message)
        case MessageStatusQuery(), MessageStatusQueryFailure():
            return StatusFailed(request, message)
        case LoadQuery(), LoadQueryComplete():
            return LoadReported(request, message)
        case LoadQuery(), LoadQueryFailure():
            return LoadFailed(request, message)
        case Reset(), ResetComplete():
            return ResetCompleted(request, message)
        case Reset(), ResetFailure():
            return ResetFailed(request, message)
    return None


def failed_cells(failures: Iterable[CellFailure]) -> str:
    """Failures as one line for a receipt or a log: ``cell: cause; cell: cause``."""
    return "; ".join(str(f) for f in failures)
