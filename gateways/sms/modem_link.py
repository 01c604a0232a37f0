"""One modem, driven in blocking calls: a transport, an :class:`AtModem` and a clock.

:class:`ModemLink` is what a worker thread holds: ``open()`` runs the initialisation dialogue,
``send(pdu)`` sends one SMS-SUBMIT and says how it ended, ``poll()`` reads what the modem says
on its own between sends (status reports, registration changes, the device vanishing). A link
is used by one thread at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from gateways.sms.at_modem import (
    AtModem,
    DeliveryReportReceived,
    InitFailed,
    LinkFailed,
    ModemEvent,
    ModemSettings,
    ModemState,
    Ready,
    Registration,
    SendFailed,
    SendOutcomeUnknown,
    Sent,
    SignalQuality,
    StatusChecked,
)
from gateways.sms.cms_errors import ErrorInfo
from gateways.sms.errors import SmsError
from gateways.sms.transport import Transport, TransportError

if TYPE_CHECKING:
    from gateways.sms.pdu import StatusReport

Clock = Callable[[], float]


class ModemLinkError(SmsError):
    """A modem cannot be used now. ``retryable``: whether reopening later can help."""

    retryable = True


class ModemUnavailableError(ModemLinkError):
    """The port cannot be opened, or the modem vanished or stopped answering."""


class ModemInitError(ModemLinkError):
    """The modem answered but cannot be made ready (PIN, SIM, no network, no PDU mode)."""


class PduToSend(Protocol):
    """What :meth:`ModemLink.send` needs from a PDU (``gateways.sms.pdu.SubmitPdu``)."""

    @property
    def tpdu_length(self) -> int: ...

    def hex(self) -> str: ...


class SendOutcome(StrEnum):
    SENT = "sent"  # +CMGS: the network took it
    FAILED = "failed"  # not sent; ``error`` says whether retrying can help, and where
    UNKNOWN = "unknown"  # the PDU was written but no answer came: it may have been sent


@dataclass(frozen=True, slots=True)
class SendResult:
    modem: str
    outcome: SendOutcome
    message_reference: int | None = None
    error: ErrorInfo | None = None
    reason: str = ""  # what happened, for logs and receipts
    started: float = 0.0  # monotonic
    pdu_written: float | None = None  # monotonic, when the PDU went to the transport


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A ``+CDS`` status report, decoded if possible (``problem`` says why not)."""

    modem: str
    received: float  # monotonic
    pdu: bytes
    report: StatusReport | None
    problem: str | None = None


def decode_report(pdu: bytes, tpdu_length: int) -> tuple[StatusReport | None, str | None]:
    """The status report in a +CDS PDU, or why it could not be decoded. The PDU should start
    with the SMSC address; a modem that leaves it out gives exactly ``tpdu_length`` octets."""
    try:
        from gateways.sms.pdu import decode_status_report

        return decode_status_report(pdu, with_smsc=len(pdu) != tpdu_length), None
    except (SmsError, ValueError, IndexError) as exc:
        return None, f"undecodable status report: {exc}"


class ModemLink:
    """A modem driven in blocking calls. ``min_interval``: seconds between two PDUs written."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        settings: ModemSettings | None = None,
        *,
        clock: Clock = time.monotonic,
        min_interval: float = 0.0,
        on_report: Callable[[DeliveryReport], None] | None = None,
        read_slice: float = 0.05,
    ) -> None:
        self.name = name
        self.transport = transport
        self.settings = settings or ModemSettings()
        self.clock = clock
        self.min_interval = min_interval
        self.on_report = on_report
        self.read_slice = read_slice
        self.cancel = threading.Event()  # set from another thread to end a wait early
        self.modem = AtModem(self.settings)
        self.info: Ready | None = None
        self._open = False
        self._last_pdu_written: float | None = None
        self._reports: list[DeliveryReport] = []
        self._lost: str | None = None  # why the link broke during the last call

    # --- state ------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self._open and self.modem.state is ModemState.READY

    @property
    def registered(self) -> bool:
        return self.modem.registered

    @property
    def lost_reason(self) -> str | None:
        """Why the link broke during the last call (None if it did not)."""
        return self._lost

    @property
    def registration(self) -> Registration | None:
        return self.modem.registration

    @property
    def signal(self) -> SignalQuality | None:
        return self.modem.signal

    @property
    def next_send_at(self) -> float:
        """The earliest time (monotonic) the next PDU may be written."""
        if self._last_pdu_written is None:
            return float("-inf")
        return self._last_pdu_written + self.min_interval

    def take_reports(self) -> list[DeliveryReport]:
        """The status reports received since the last call."""
        reports, self._reports = self._reports, []
        return reports

    # --- operations --------------------------------------------------------------------

    def open(self) -> Ready:
        """Open the transport and initialise the modem; raise ModemLinkError if it cannot."""
        self.close()
        try:
            self.transport.open()
        except TransportError as exc:
            raise ModemUnavailableError(f"modem {self.name}: {exc}") from None
        self._open = True
        self._lost = None
        try:  # answers left over from an earlier session would be taken for new ones
            for _ in range(64):
                if not self.transport.read(0.0):
                    break
        except TransportError as exc:
            self.close()
            raise ModemUnavailableError(f"modem {self.name}: {exc}") from None
        self.modem = AtModem(self.settings)
        self.modem.start(self.clock())
        outcome: list[Ready | InitFailed] = []

        def done(event: ModemEvent) -> bool:
            if isinstance(event, Ready | InitFailed):
                outcome.append(event)
                return True
            return False

        self._run(done, cancellable=True)
        if outcome and isinstance(outcome[0], Ready):
            self.info = outcome[0]
            return outcome[0]
        self.close()
        if outcome and isinstance(outcome[0], InitFailed):
            failure = outcome[0]
            error = ModemInitError(f"modem {self.name} ({self.transport.name}): {failure.reason}")
            if failure.error is not None:
                error.retryable = failure.error.retryable
            raise error
        raise ModemUnavailableError(
            f"modem {self.name} ({self.transport.name}): {self._lost or 'initialisation cancelled'}"
        )

    def send(self, pdu: PduToSend) -> SendResult:
        """Send one PDU. Waits for ``min_interval`` since the previous PDU first. Never raises
        for the modem's or network's answer: the result says how the send ended."""
        self._require_ready()
        self._wait_until(self.next_send_at)
        self._require_ready()
        started = self.clock()
        self.modem.send(pdu.hex(), pdu.tpdu_length, started)
        written: list[float] = []
        result: list[SendResult] = []

        def mark_written() -> None:
            if self.modem.pdu_handed_over and not written:
                written.append(self.clock())

        def done(event: ModemEvent) -> bool:
            when = written[0] if written else None
            if isinstance(event, Sent):
                result.append(
                    SendResult(
                        self.name,
                        SendOutcome.SENT,
                        message_reference=event.message_reference,
                        reason=f"sent by modem {self.name} (reference {event.message_reference})",
                        started=started,
                        pdu_written=when,
                    )
                )
            elif isinstance(event, SendFailed):
                result.append(
                    SendResult(
                        self.name,
                        SendOutcome.FAILED,
                        error=event.error,
                        reason=f"modem {self.name}: {event.error.describe()}",
                        started=started,
                        pdu_written=when,
                    )
                )
            elif isinstance(event, SendOutcomeUnknown):
                result.append(
                    SendResult(
                        self.name,
                        SendOutcome.UNKNOWN,
                        reason=f"modem {self.name}: {event.reason}",
                        started=started,
                        pdu_written=when,
                    )
                )
            return bool(result)

        self._run(done, on_write=mark_written)
        if written:
            self._last_pdu_written = written[0]
        if not result:  # cannot happen: the modem always ends a send; keep the promise anyway
            return SendResult(
                self.name,
                SendOutcome.UNKNOWN,
                reason=f"modem {self.name}: the send ended without a result",
                started=started,
            )
        return result[0]

    def poll(self, duration: float = 0.0) -> None:
        """Read what the modem says on its own for ``duration`` seconds (at least once)."""
        if not self._open:
            return
        end = self.clock() + max(0.0, duration)
        self._run(lambda _event: False, until=end, cancellable=True)

    def check(self) -> StatusChecked:
        """Signal and registration, asked again; raises ModemUnavailableError if the modem is
        gone or silent."""
        self._require_ready()
        self.modem.check(self.clock())
        result: list[StatusChecked] = []

        def done(event: ModemEvent) -> bool:
            if isinstance(event, StatusChecked):
                result.append(event)
            return bool(result)

        self._run(done)
        if not result:
            raise ModemUnavailableError(f"modem {self.name}: {self._lost or 'no status answer'}")
        return result[0]

    def close(self) -> None:
        if self._open:
            self._open = False
            self.transport.close()

    # --- the loop ------------------------------------------------------------------------

    def _require_ready(self) -> None:
        if not self._open:
            raise ModemUnavailableError(f"modem {self.name} is not open")
        if self.modem.state is not ModemState.READY:
            raise ModemUnavailableError(
                f"modem {self.name} is not ready ({self.modem.state.value}"
                + (f": {self._lost}" if self._lost else "")
                + ")"
            )

    def _wait_until(self, when: float) -> None:
        while self._open and self.clock() < when:
            self._run(lambda _event: False, until=when)

    def _run(
        self,
        done: Callable[[ModemEvent], bool],
        *,
        until: float | None = None,
        cancellable: bool = False,
        on_write: Callable[[], object] | None = None,
    ) -> None:
        """Write, read and feed the modem until ``done`` says so, ``until`` passes, the
        dialogue ends by itself or the link is lost."""
        first = True
        while self._open:
            if cancellable and self.cancel.is_set():
                return
            if not self._flush(done, on_write):
                return
            now = self.clock()
            if until is not None and now >= until and not first:
                return
            first = False
            wait = self.read_slice
            deadline = self.modem.deadline
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - now))
            if until is not None:
                wait = min(wait, max(0.0, until - now))
            try:
                data = self.transport.read(wait)
            except TransportError as exc:
                self._lost = str(exc)
                self._handle(self.modem.connection_lost(str(exc)), done)
                self.close()
                return
            now = self.clock()
            events = self.modem.receive(data, now) if data else self.modem.tick(now)
            if self._handle(events, done):
                self._flush(done, on_write)
                return
            if self.modem.state is ModemState.FAILED:
                self._flush(done, on_write)
                self.close()
                return

    def _flush(
        self, done: Callable[[ModemEvent], bool], on_write: Callable[[], object] | None
    ) -> bool:
        data = self.modem.data_to_send()
        if not data:
            return True
        try:
            self.transport.write(data)
        except TransportError as exc:
            self._lost = str(exc)
            self._handle(self.modem.connection_lost(str(exc)), done)
            self.close()
            return False
        if on_write is not None:
            on_write()
        return True

    def _handle(self, events: list[ModemEvent], done: Callable[[ModemEvent], bool]) -> bool:
        finished = False
        for event in events:
            if isinstance(event, DeliveryReportReceived):
                self._report(event)
            elif isinstance(event, LinkFailed | InitFailed):
                self._lost = event.reason
            if done(event):
                finished = True
        return finished

    def _report(self, event: DeliveryReportReceived) -> None:
        report, problem = decode_report(event.pdu, event.tpdu_length)
        delivery = DeliveryReport(self.name, self.clock(), event.pdu, report, problem)
        self._reports.append(delivery)
        if self.on_report is not None:
            self.on_report(delivery)
