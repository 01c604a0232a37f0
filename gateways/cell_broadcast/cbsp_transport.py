"""CBSP over TCP: connect to a BSC (or let one connect to us) and drive a :class:`CbspLink`.

:class:`CbspClient` connects to a BSC that listens for its CBC (osmo-bsc ``cbc`` / ``mode
server``) and reconnects with exponential backoff when the connection fails or drops;
:class:`CbspServer` listens for a BSC that connects to its CBC (osmo-bsc ``mode client``) and
serves one at a time, as osmo-bsc does. A background thread owns the socket and the link; the
gateway calls the blocking methods :meth:`CbspTransport.write_replace`, :meth:`~.kill` and
:meth:`~.message_status` from its own thread.

The transport keeps the **active messages**: every message a BSC accepted in at least one cell
and that was not killed since. After each (re)connection (:class:`LinkUp`, after the RESET) and
after a RESTART saying the BSC lost its messages, every active message is written again, as a
new message, to the cells it was meant for. A cell that still broadcasts it answers "message
reference already used"; for a message we re-send that is counted as broadcasting, not as a
failure. :attr:`CbspTransport.active` and :meth:`CbspTransport.restore` let the gateway keep the
registry across its own restarts. A request whose connection broke before the answer is kept
as active (it may be on air): delivery is at least once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import select
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeAlias, TypedDict, Unpack

from gateways.base import PermanentGatewayError, TransientGatewayError
from gateways.cell_broadcast.cbsp import (
    BroadcastsCompleted,
    BroadcastType,
    Cause,
    CbsContent,
    CbspError,
    CellFailure,
    CellId,
    CellList,
    Channel,
    Kill,
    MessageStatusQuery,
    WriteReplace,
    split_cells,
)
from gateways.cell_broadcast.cbsp_link import (
    CbspLink,
    CbspLinkError,
    KillCompleted,
    KillFailed,
    LinkEvent,
    LinkLost,
    LinkOutput,
    LinkState,
    LinkUp,
    Request,
    RequestAborted,
    RequestRefused,
    RequestTimedOut,
    Restarted,
    StatusFailed,
    StatusReported,
    WriteCompleted,
    WriteFailed,
    describe,
)

log = logging.getLogger(__name__)

ActiveKey: TypeAlias = tuple[int | None, int, int]  # channel (None: emergency), id, serial
_Answer: TypeAlias = WriteCompleted | WriteFailed | KillCompleted | KillFailed
_StatusAnswer: TypeAlias = StatusReported | StatusFailed


class CbspTransportError(CbspError, TransientGatewayError):
    """The BSC cannot be reached, did not answer, or the link broke: retry later."""


class CbspUnavailableError(CbspTransportError):
    """No CBSP link is up (the BSC is unreachable, or has not connected to us)."""


class CbspRefusedError(CbspError, PermanentGatewayError):
    """The BSC answered ERROR INDICATION: it cannot read what we sent; retrying cannot help."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The BSC's answer to a WRITE-REPLACE. ``cells``: broadcasting it now; ``failures``: cells
    that refused, with the cause; ``already_on_air``: cells that had this very message already
    (a re-send)."""

    request: WriteReplace
    cells: tuple[CellId, ...]
    failures: tuple[CellFailure, ...]
    completed: tuple[BroadcastsCompleted, ...] = ()
    already_on_air: tuple[CellId, ...] = ()

    @property
    def message_id(self) -> int:
        return self.request.message_id

    @property
    def serial(self) -> int:
        return self.request.new_serial

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True, slots=True)
class KillResult:
    """The BSC's answer to a KILL. ``not_found``: cells that did not have the message (already
    gone, e.g. after a BSC restart), which is what a kill wants."""

    request: Kill
    cells: tuple[CellId, ...]
    failures: tuple[CellFailure, ...]
    completed: tuple[BroadcastsCompleted, ...] = ()
    not_found: tuple[CellId, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True, slots=True)
class StatusResult:
    request: MessageStatusQuery
    completed: tuple[BroadcastsCompleted, ...]
    failures: tuple[CellFailure, ...] = ()


def active_key(request: WriteReplace, serial: int | None = None) -> ActiveKey:
    channel = request.content.channel if isinstance(request.content, CbsContent) else None
    return (channel, request.message_id, request.new_serial if serial is None else serial)


def _as_new(request: WriteReplace) -> WriteReplace:
    return dataclasses.replace(request, old_serial=None)


def _parts(request: WriteReplace | Kill | MessageStatusQuery) -> list[Request]:
    """One request per cell list part (see split_cells); usually just ``request``."""
    return [dataclasses.replace(request, cells=cells) for cells in split_cells(request.cells)]


class Backoff:
    """Reconnection delays: ``initial`` doubling up to ``maximum``, each spread by +-20 %."""

    def __init__(self, initial: float, maximum: float, rng: random.Random) -> None:
        self.initial = initial
        self.maximum = maximum
        self._rng = rng
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay * self._rng.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = self.initial


class TransportOptions(TypedDict, total=False):
    """The options :class:`CbspClient` and :class:`CbspServer` pass on to the transport."""

    link: CbspLink
    up_timeout: float
    reconnect_initial: float
    reconnect_max: float
    rng: random.Random
    on_event: Callable[[LinkEvent], None] | None
    clock: Callable[[], float]


class CbspTransport(ABC):
    """What :class:`CbspClient` and :class:`CbspServer` share: the IO thread, the link, the
    blocking requests and the active-message registry."""

    def __init__(
        self,
        *,
        link: CbspLink | None = None,
        up_timeout: float = 10.0,
        reconnect_initial: float = 0.5,
        reconnect_max: float = 30.0,
        rng: random.Random | None = None,
        on_event: Callable[[LinkEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link if link is not None else CbspLink()
        self.up_timeout = up_timeout
        self.on_event = on_event
        self._clock = clock
        self._backoff = Backoff(reconnect_initial, reconnect_max, rng or random.Random())
        self._lock = threading.RLock()
        self._up = threading.Event()
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._waiting: dict[Request, Future[LinkEvent]] = {}
        self._active: dict[ActiveKey, WriteReplace] = {}
        self.last_error = "not started"
        self.connections = 0  # connections made so far (tests and status pages read it)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    @abstractmethod
    def peer(self) -> str:
        """The other end, as ``host:port`` (for messages and the thread's name)."""

    @abstractmethod
    def _open(self) -> socket.socket | None:
        """A connected socket, or None (after recording why in ``last_error``)."""

    def _prepare(self) -> None:
        """Work that must happen before the thread starts (binding a listening socket);
        nothing for a client."""
        return None

    def start(self) -> Self:
        if self._thread is None:
            self._prepare()
            self._thread = threading.Thread(target=self._run, name=f"cbsp {self.peer}", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(10)
        self._release()
        with self._lock:
            waiting = list(self._waiting.values())
            self._waiting.clear()
        for future in waiting:
            if not future.done():
                future.set_exception(CbspTransportError(f"CBSP link to {self.peer} was closed"))

    def _release(self) -> None:
        """Free what _prepare took (the listening socket); nothing for a client."""
        return None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def wait_until_up(self, timeout: float | None = None) -> None:
        """Block until the link is up (connected, RESET answered), or raise."""
        if self._thread is None:
            self.start()
        if not self._up.wait(self.up_timeout if timeout is None else timeout):
            raise CbspUnavailableError(
                f"no CBSP link to {self.peer}: {self.last_error}. Check that the BSC runs, "
                "that its 'cbc' section points at this address and port, and that no firewall "
                "is in the way"
            )

    # -- active messages -----------------------------------------------------------------------

    @property
    def active(self) -> tuple[WriteReplace, ...]:
        """The messages to keep on air, as WRITE-REPLACEs for new messages."""
        with self._lock:
            return tuple(self._active.values())

    def restore(self, messages: Iterable[WriteReplace]) -> None:
        """Load the active messages kept by the gateway (sent at the next LinkUp)."""
        with self._lock:
            for message in messages:
                self._active[active_key(message)] = _as_new(message)

    def _record_write(self, request: WriteReplace, on_air: bool) -> None:
        with self._lock:
            if request.old_serial is not None and on_air:
                self._active.pop(active_key(request, request.old_serial), None)
            if on_air:
                self._active[active_key(request)] = _as_new(request)

    # -- requests ------------------------------------------------------------------------------

    def write_replace(self, request: WriteReplace, timeout: float | None = None) -> WriteResult:
        """Send a WRITE-REPLACE and wait for the BSC's answer. A cell list too long for one IE
        goes as several WRITE-REPLACEs (one per part) whose answers are merged."""
        with self._lock:
            repeat = self._active.get(active_key(request)) == _as_new(request)
        cells: list[CellId] = []
        failures: list[CellFailure] = []
        completed: list[BroadcastsCompleted] = []
        already: list[CellId] = []
        for event in self._request(_parts(request), timeout):
            assert isinstance(event, WriteCompleted | WriteFailed)
            cells += event.cells
            completed += event.completed
            if isinstance(event, WriteFailed):
                for failure in event.failures:
                    if repeat and failure.cause == Cause.MESSAGE_REFERENCE_ALREADY_USED:
                        already.append(failure.cell)
                    else:
                        failures.append(failure)
        self._record_write(request, on_air=bool(cells or already))
        return WriteResult(request, tuple(cells), tuple(failures), tuple(completed), tuple(already))

    def kill(
        self,
        message_id: int,
        serial: int,
        *,
        cells: CellList | None = None,
        channel: Channel | None = Channel.BASIC,
        timeout: float | None = None,
    ) -> KillResult:
        """KILL a message (by default in the cells it was written to, else in every cell of
        the BSS) and forget it, whatever the BSC answers: it must not be re-sent."""
        with self._lock:
            known = self._active.get((channel, message_id, serial))
        if cells is None:
            cells = known.cells if known is not None else CellList.all_in_bss()
        request = Kill(message_id, serial, cells, channel)
        try:
            events = self._request(_parts(request), timeout)
        finally:
            with self._lock:
                self._active.pop((channel, message_id, serial), None)
        killed: list[CellId] = []
        failures: list[CellFailure] = []
        completed: list[BroadcastsCompleted] = []
        gone: list[CellId] = []
        for event in events:
            assert isinstance(event, KillCompleted | KillFailed)
            killed += event.cells
            completed += event.completed
            if isinstance(event, KillFailed):
                for failure in event.failures:
                    if failure.cause == Cause.MESSAGE_REFERENCE_NOT_IDENTIFIED:
                        gone.append(failure.cell)
                    else:
                        failures.append(failure)
        return KillResult(request, tuple(killed), tuple(failures), tuple(completed), tuple(gone))

    def message_status(
        self,
        message_id: int,
        serial: int,
        *,
        cells: CellList | None = None,
        channel: Channel = Channel.BASIC,
        timeout: float | None = None,
    ) -> StatusResult:
        """How often each cell has broadcast the message so far."""
        request = MessageStatusQuery(message_id, serial, cells or CellList.all_in_bss(), channel)
        completed: list[BroadcastsCompleted] = []
        failures: list[CellFailure] = []
        for event in self._request(_parts(request), timeout):
            if isinstance(event, StatusReported):
                completed += event.response.completed.entries
            else:
                assert isinstance(event, StatusFailed)
                failures += event.response.failures
                if event.response.completed is not None:
                    completed += event.response.completed.entries
        return StatusResult(request, tuple(completed), tuple(failures))

    def _request(self, parts: list[Request], timeout: float | None) -> list[LinkEvent]:
        """Send every part (or wait on the same part already in flight, e.g. a re-send) and
        return their answers in order."""
        self.wait_until_up()
        futures: list[tuple[Request, Future[LinkEvent]]] = []
        with self._lock:
            in_flight = set(self.link.outstanding)
            for part in parts:
                future = self._waiting.get(part)
                if future is None:
                    future = Future()
                    if part not in in_flight:
                        try:
                            data = self.link.send(part, self._clock())
                        except CbspLinkError as exc:
                            raise CbspUnavailableError(f"CBSP link to {self.peer}: {exc}") from None
                        self._send(data)
                    self._waiting[part] = future
                futures.append((part, future))
        wait = (timeout if timeout is not None else self.link.request_timeout) + 2.0
        deadline = time.monotonic() + wait
        events = []
        for part, future in futures:
            try:
                events.append(future.result(max(deadline - time.monotonic(), 0.0)))
            except FutureTimeout:
                with self._lock:
                    for pending, _ in futures:
                        self._waiting.pop(pending, None)
                raise CbspTransportError(
                    f"the BSC at {self.peer} did not answer {describe(part)} within {wait:g} s"
                ) from None
        return events

    def _send(self, data: bytes) -> None:
        """Write to the socket (lock held); a failure is noticed by the IO thread."""
        if not data or self._sock is None:
            return
        try:
            self._sock.sendall(data)
        except OSError as exc:
            self.last_error = f"sending failed: {exc}"
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    # -- IO thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            sock = self._open()
            if sock is None:
                self._stop.wait(self._backoff.next_delay())
                continue
            self.connections += 1
            reason = self._serve(sock)
            self.last_error = reason
            level = logging.INFO if self._stop.is_set() else logging.WARNING
            log.log(level, "CBSP link to %s down: %s", self.peer, reason)
            if not self._stop.is_set():
                self._stop.wait(self._backoff.next_delay())

    def _serve(self, sock: socket.socket) -> str:
        reason = "closed by us"
        with self._lock:
            self._sock = sock
            self._apply(self.link.connection_made(self._clock()))
        try:
            while not self._stop.is_set():
                if self.link.state == LinkState.DOWN:
                    reason = self.last_error
                    break
                deadline = self.link.next_deadline()
                wait = 0.2 if deadline is None else min(max(deadline - self._clock(), 0.0), 0.2)
                readable, _, _ = select.select([sock], [], [], wait)
                if readable:
                    try:
                        data = sock.recv(65536)
                    except OSError as exc:
                        reason = f"receiving failed: {exc}"
                        break
                    if not data:
                        if not self._stop.is_set():
                            reason = "the BSC closed the connection"
                        break
                    with self._lock:
                        self._apply(self.link.data_received(data, self._clock()))
                with self._lock:
                    self._apply(self.link.tick(self._clock()))
        finally:
            with self._lock:
                self._apply(self.link.connection_lost(self._clock(), reason))
                self._sock = None
            with contextlib.suppress(OSError):
                sock.close()
        return reason

    def _apply(self, output: LinkOutput) -> None:
        """Send the link's bytes and act on its events (lock held)."""
        self._send(output.data)
        for event in output.events:
            self._handle(event)
            if self.on_event is not None:
                try:
                    self.on_event(event)
                except Exception:
                    log.exception("CBSP event handler failed on %s", type(event).__name__)

    def _handle(self, event: LinkEvent) -> None:
        match event:
            case LinkUp():
                log.info("CBSP link to %s up", self.peer)
                self._backoff.reset()
                self._up.set()
                self._resend("link up", emergency=None)
            case LinkLost(reason):
                self.last_error = reason
                self._up.clear()
            case Restarted(restart, resend) if resend:
                log.warning("BSC %s restarted and lost its messages (%s)", self.peer, restart)
                emergency = restart.broadcast_type == BroadcastType.EMERGENCY
                self._resend("BSC restart", emergency=emergency)
            case WriteCompleted() | WriteFailed():
                if event.request in self._waiting:
                    self._settle(event.request, event)
                else:
                    self._resend_answered(event)
            case KillCompleted() | KillFailed() | StatusReported() | StatusFailed():
                self._settle(event.request, event)
            case RequestTimedOut(request, waited):
                self._fail(
                    request,
                    CbspTransportError(
                        f"the BSC at {self.peer} did not answer {describe(request)} within "
                        f"{waited:.1f} s"
                    ),
                )
            case RequestAborted(request, reason):
                if isinstance(request, WriteReplace):
                    self._record_write(request, on_air=True)  # it may be on air: keep it
                self._fail(
                    request,
                    CbspTransportError(
                        f"the link to {self.peer} broke before the BSC answered "
                        f"{describe(request)} ({reason}); it will be sent again"
                    ),
                )
            case RequestRefused(request, error):
                self._fail(
                    request,
                    CbspRefusedError(
                        f"the BSC at {self.peer} refused {describe(request)} with ERROR "
                        f"INDICATION ({error.cause}): it could not read the message"
                    ),
                )
            case _:
                log.info("CBSP %s: %s", self.peer, event)

    def _settle(self, request: Request, event: LinkEvent) -> None:
        future = self._waiting.pop(request, None)
        if future is not None and not future.done():
            future.set_result(event)

    def _fail(self, request: Request, error: Exception) -> None:
        future = self._waiting.pop(request, None)
        if future is not None and not future.done():
            future.set_exception(error)
        else:
            log.warning("%s", error)

    def _resend(self, why: str, *, emergency: bool | None) -> None:
        """Write the active messages (CBS ones, emergency ones, or all if None) again, as new,
        to their cells (lock held)."""
        if self.link.state != LinkState.UP:
            return
        in_flight = set(self.link.outstanding)
        for message in list(self._active.values()):
            if emergency not in (None, not isinstance(message.content, CbsContent)):
                continue
            log.info("re-sending %s to %s after %s", describe(message), self.peer, why)
            for part in _parts(message):
                if part not in in_flight:
                    self._send(self.link.send(part, self._clock()))

    def _resend_answered(self, event: WriteCompleted | WriteFailed) -> None:
        """A re-sent message's answer (nobody waits for it): log what did not go out."""
        if isinstance(event, WriteFailed):
            lost = [f for f in event.failures if f.cause != Cause.MESSAGE_REFERENCE_ALREADY_USED]
            if lost:
                log.warning(
                    "re-sent %s refused by %s: %s",
                    describe(event.request),
                    self.peer,
                    "; ".join(str(f) for f in lost),
                )


class CbspClient(CbspTransport):
    """Connects to a BSC that listens for its CBC, and reconnects when the link drops."""

    def __init__(
        self,
        host: str,
        port: int = 48049,
        *,
        connect_timeout: float = 5.0,
        **options: Unpack[TransportOptions],
    ) -> None:
        super().__init__(**options)
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout

    @property
    def peer(self) -> str:
        return f"{self.host}:{self.port}"

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            self.last_error = f"cannot connect to {self.peer}: {exc.strerror or exc}"
            log.debug("%s", self.last_error)
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock


class CbspServer(CbspTransport):
    """Listens for a BSC that connects to its CBC; serves one BSC connection at a time."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 48049, **options: Unpack[TransportOptions]
    ) -> None:
        super().__init__(**options)
        self.host = host
        self.port = port
        self._listener: socket.socket | None = None
        self.last_error = f"waiting for a BSC to connect to {host}:{port}"

    @property
    def peer(self) -> str:
        return f"BSC connecting to {self.host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        """Where we listen (the real port when 0 was asked for)."""
        if self._listener is None:
            return (self.host, self.port)
        host, port = self._listener.getsockname()[:2]
        return (str(host), int(port))

    def _prepare(self) -> None:
        try:
            self._listener = socket.create_server((self.host, self.port), reuse_port=False)
        except OSError as exc:
            raise CbspUnavailableError(
                f"cannot listen for a BSC on {self.host}:{self.port}: {exc.strerror or exc}"
            ) from None
        self.port = self.address[1]

    def _release(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _open(self) -> socket.socket | None:
        listener = self._listener
        if listener is None:
            return None
        while not self._stop.is_set():
            readable, _, _ = select.select([listener], [], [], 0.2)
            if not readable:
                continue
            try:
                sock, address = listener.accept()
            except OSError as exc:
                self.last_error = f"accepting a BSC failed: {exc}"
                return None
            log.info("BSC connected from %s:%s", *address[:2])
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        return None

    def _serve(self, sock: socket.socket) -> str:
        # one BSC at a time: refuse others while this one is served (as osmo-bsc does)
        stop_refusing = threading.Event()

        def refuse() -> None:
            listener = self._listener
            while listener is not None and not stop_refusing.is_set():
                readable, _, _ = select.select([listener], [], [], 0.2)
                if readable:
                    with contextlib.suppress(OSError):
                        extra, address = listener.accept()
                        log.warning("refusing a second BSC from %s:%s", *address[:2])
                        extra.close()

        refuser = threading.Thread(target=refuse, daemon=True)
        refuser.start()
        try:
            return super()._serve(sock)
        finally:
            stop_refusing.set()
            refuser.join(1)
