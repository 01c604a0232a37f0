"""The ``sms`` gateway: an alert as one SMS per recipient in the area, through a rack of modems.

``prepare`` (pure) picks the recipients in the alert's areas from the directory and gives each
the text of the info block in their language; the message key is the number, so a restart
never sends to a number already recorded. ``deliver_batch`` turns the texts into PDUs and hands
them to the :class:`~gateways.sms.pool.ModemPool`, which spreads them over the modems at each
modem's rate; each outcome is yielded as soon as it is known. SMS cannot be taken back: a
Cancel goes out as a message saying so. With ``status_report`` on, the modems' ``+CDS``
reports are matched to the messages they answer and handed to dispatch (``take_reports``),
which marks a delivery confirmed once every recipient's phone has the text.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, as_completed
from datetime import UTC, datetime, timedelta
from typing import Any

from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    ChannelMessage,
    GatewayError,
    LateReceipt,
    MessageOutcome,
    MessagePurpose,
    PermanentGatewayError,
    Receipt,
    ReceiptStatus,
    TransientGatewayError,
)
from gateways.sms.at_modem import ModemSettings
from gateways.sms.errors import SmsError
from gateways.sms.modem_link import DeliveryReport, ModemLink
from gateways.sms.options import ModemAddress, SmsOptions, parse_sms_options
from gateways.sms.pdu import RelativeValidity, SubmitPdu, encode_message
from gateways.sms.pool import ModemPool, PoolOutcome, PoolResult, PoolSettings
from gateways.sms.recipients import RecipientDirectory, load_directory
from gateways.sms.reports import StatusReportMatcher
from gateways.sms.text import SmsText, choose_info, compose, plan_for_language
from gateways.sms.transport import SerialTransport, TcpTransport, Transport

log = logging.getLogger("tocsin.gateways.sms")

Clock = Callable[[], datetime]

_MIN_VALIDITY = timedelta(minutes=5)

# Every recipient of one language gets the same text: plan its encoding and segments once.
_planned = functools.lru_cache(maxsize=256)(plan_for_language)


def message_key(number: str) -> str:
    return f"sms/{number}"


def concat_reference(envelope: AlertEnvelope, number: str) -> int:
    """The same 8-bit concatenation reference for the same alert and number, every time, so
    that a resent message joins up like the first."""
    identity = envelope.identity
    digest = hashlib.sha256(
        f"{identity.sender}\x00{identity.identifier}\x00{number}".encode()
    ).digest()
    return digest[0]


def open_transport(address: ModemAddress, baudrate: int) -> Transport:
    if address.device is not None:
        return SerialTransport(address.device, baudrate=baudrate)
    assert address.host is not None and address.port is not None
    return TcpTransport(address.host, address.port)


class SmsGateway:
    kind = "sms"
    can_withdraw = False

    def __init__(
        self,
        channel: str,
        options: Mapping[str, Any],
        *,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.channel = channel
        self.options: SmsOptions = parse_sms_options(channel, options)
        self.directory: RecipientDirectory = load_directory(self.options.recipients)
        for problem in self.directory.problems:
            log.warning("channel %s: recipient left out: %s", channel, problem)
        self.clock = clock
        self.possible_duplicates = 0
        self._reports = StatusReportMatcher()
        self._late: list[LateReceipt] = []
        self._lock = threading.Lock()
        self._pool: ModemPool | None = None

    # --- prepare (pure) ---------------------------------------------------------------------

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        if purpose is MessagePurpose.WITHDRAW:
            raise CannotCarryError("an SMS cannot be taken back; send a Cancel instead")
        alert = envelope.alert
        if not alert.infos:
            raise CannotCarryError("the alert has no info block, so there is nothing to text")
        in_info = [{r.number for r in self.directory.in_areas(info.areas)} for info in alert.infos]
        everyone = self.directory.in_areas([a for info in alert.infos for a in info.areas])
        if not everyone:
            areas = "; ".join(a.area_desc for info in alert.infos for a in info.areas) or "none"
            raise CannotCarryError(
                f"no recipient of {self.options.recipients} is in the alert's area ({areas})"
            )
        texts: dict[int, SmsText] = {}
        messages: list[ChannelMessage] = []
        for recipient in everyone:
            candidates = [n for n, numbers in enumerate(in_info) if recipient.number in numbers]
            candidates = candidates or list(range(len(alert.infos)))
            pick = choose_info(
                [alert.infos[n] for n in candidates],
                recipient.language,
                self.options.default_language,
            )
            index = candidates[pick or 0]
            text = texts.get(index)
            if text is None:
                text = compose(
                    alert, index, max_segments=self.options.max_segments, link=self.options.link
                )
                texts[index] = text
            info = alert.infos[index]
            attributes = {
                "number": recipient.number,
                "language": text.language,
                "segments": str(text.plan.count),
                "concat_reference": str(concat_reference(envelope, recipient.number)),
                "flash": "1" if self.options.flash_extreme and info.severity == "Extreme" else "",
            }
            expires = info.expires
            if expires is not None:
                attributes["expires"] = expires.astimezone(UTC).isoformat()
            messages.append(
                ChannelMessage(
                    self.channel,
                    message_key(recipient.number),
                    purpose,
                    text.text.encode("utf-8"),
                    "text/plain; charset=utf-8",
                    attributes,
                )
            )
        return messages

    def pdus_for(self, message: ChannelMessage, now: datetime) -> tuple[SubmitPdu, ...]:
        """The SMS-SUBMIT PDUs of one message; validity runs until the alert expires."""
        attributes = message.attributes
        validity = None
        if "expires" in attributes:
            left = datetime.fromisoformat(attributes["expires"]) - now
            if left <= timedelta(0):
                raise PermanentGatewayError(
                    f"{attributes['number']}: the alert expired at {attributes['expires']}; "
                    "not sent"
                )
            validity = RelativeValidity(max(left, _MIN_VALIDITY))
        plan = _planned(message.payload.decode("utf-8"), attributes["language"])
        return encode_message(
            attributes["number"],
            plan,
            concat_reference=int(attributes["concat_reference"]),
            validity=validity,
            status_report=self.options.status_report,
            flash=bool(attributes.get("flash")),
            smsc=self.options.smsc,
        )

    # --- deliver ----------------------------------------------------------------------------

    def deliver(self, message: ChannelMessage) -> Receipt:
        outcome = next(self.deliver_batch([message]))
        if outcome.error is not None:
            raise outcome.error
        assert outcome.receipt is not None
        return outcome.receipt

    def deliver_batch(self, messages: Sequence[ChannelMessage]) -> Iterator[MessageOutcome]:
        pool = self._started_pool()
        now = self.clock()
        pending: dict[Future[PoolResult], ChannelMessage] = {}
        try:
            for message in messages:
                try:
                    pdus = self.pdus_for(message, now)
                except GatewayError as exc:
                    yield MessageOutcome(message, error=exc)
                    continue
                except (SmsError, ValueError, KeyError) as exc:
                    yield MessageOutcome(
                        message,
                        error=PermanentGatewayError(f"{message.key}: cannot be encoded: {exc}"),
                    )
                    continue
                pending[pool.submit(pdus, label=message.key)] = message
            for future in as_completed(pending):
                message = pending.pop(future)
                yield self._outcome(message, future.result())
        finally:
            for future in pending:
                future.cancel()  # not yet handed to a modem: it stays unsent, and unrecorded

    def _outcome(self, message: ChannelMessage, result: PoolResult) -> MessageOutcome:
        number = message.attributes.get("number", message.key)
        if result.outcome is PoolOutcome.SENT:
            references = ",".join("?" if r is None else str(r) for r in result.message_references)
            detail = ""
            if result.possible_duplicates:
                with self._lock:
                    self.possible_duplicates += result.possible_duplicates
                detail = (
                    f"possible duplicate: {result.possible_duplicates} PDU(s) to {number} were "
                    "sent again after a modem vanished mid-send"
                )
                log.warning("channel %s: %s", self.channel, detail)
            reference = f"{result.modem}:mr={references}"
            if self.options.status_report and result.modem is not None:
                with self._lock:
                    self._late.extend(
                        self._reports.expect(
                            reference, result.modem, result.message_references, number
                        )
                    )
            return MessageOutcome(message, receipt=Receipt(ReceiptStatus.SENT, reference, detail))
        reason = f"{number}: {result.reason}"
        if result.outcome is PoolOutcome.FAILED:
            return MessageOutcome(message, error=PermanentGatewayError(reason))
        return MessageOutcome(message, error=TransientGatewayError(reason))

    def _started_pool(self) -> ModemPool:
        with self._lock:
            if self._pool is None:
                options = self.options
                settings = ModemSettings(
                    pin=options.pin,
                    registration_timeout=options.register_timeout,
                    send_timeout=options.send_timeout,
                    delivery_reports=options.status_report,
                )
                links = [
                    ModemLink(
                        f"modem{n}",
                        open_transport(address, options.baudrate),
                        settings,
                        min_interval=options.min_interval,
                    )
                    for n, address in enumerate(options.modems)
                ]
                self._pool = ModemPool(
                    links,
                    PoolSettings(min_interval=options.min_interval),
                    on_report=self._report,
                ).start()
                self._pool.wait_ready(timeout=min(10.0, options.register_timeout))
            return self._pool

    def _report(self, report: DeliveryReport) -> None:
        """Called from a modem's reader thread for every ``+CDS``."""
        if report.report is None:
            log.warning("channel %s: %s: %s", self.channel, report.modem, report.problem)
            return
        with self._lock:
            self._late.extend(self._reports.receive(report.modem, report.report))

    def take_reports(self) -> list[LateReceipt]:
        """Messages now known delivered (every segment) or undelivered, since the last call."""
        with self._lock:
            late, self._late = self._late, []
        return late

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
