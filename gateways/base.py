"""The gateway interface: how dispatch hands an accepted alert to a channel.

``prepare`` is pure: it turns the alert into the channel's messages (or refuses, saying why),
and is deterministic, so that after a crash the same messages, with the same keys, come out
again and the ones already delivered can be skipped. ``deliver`` moves one message over the
channel's transport and returns a receipt, or raises a :class:`GatewayError` saying whether a
retry can help. ``withdraw`` takes an alert back where the channel can (cell broadcast kill,
MQTT retained message cleared); channels that cannot get a Cancel message instead. A channel
that learns later whether a message arrived (SMS status reports) hands those reports over with
``take_reports``; dispatch then marks the delivery confirmed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from cap.model import Alert, AlertIdentity


class MessagePurpose(StrEnum):
    ALERT = "alert"  # the alert itself (including an Update or a Cancel sent as a message)
    WITHDRAW = "withdraw"  # take an earlier alert back


@dataclass(frozen=True, slots=True)
class AlertEnvelope:
    """An accepted alert as a gateway sees it: the original bytes (what was signed is what is
    forwarded), the parsed model, and its outbox id."""

    alert_id: int
    identity: AlertIdentity
    data: bytes
    alert: Alert


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """One unit a transport moves. ``key`` is stable for the same alert and channel (it names
    the message within the delivery, e.g. ``cap`` or ``sms/+254700000001/2``) so that a message
    already delivered is never sent again after a restart."""

    channel: str
    key: str
    purpose: MessagePurpose
    payload: bytes
    content_type: str = "application/cap+xml"
    attributes: Mapping[str, str] = field(default_factory=dict)


class ReceiptStatus(StrEnum):
    SENT = "sent"  # handed to the transport
    CONFIRMED = "confirmed"  # the far end acknowledged it (delivery report, broker ack, fsync)


@dataclass(frozen=True, slots=True)
class Receipt:
    status: ReceiptStatus
    reference: str | None = None  # the transport's own id: file path, modem reference, mid
    detail: str = ""


class GatewayError(Exception):
    """Delivery failed. ``retryable`` says whether trying again later can help."""

    retryable: bool = True

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class TransientGatewayError(GatewayError):
    """The channel is down or busy now (broker unreachable, modem unplugged): retry later."""

    retryable = True


class PermanentGatewayError(GatewayError):
    """This message can never go through this channel (rejected, malformed): do not retry."""

    retryable = False


class CannotCarryError(GatewayError):
    """``prepare`` refuses the alert: the channel cannot carry it (no SAME code, too long...)."""

    retryable = False


class GatewayConfigError(Exception):
    """A channel's gateway options are wrong; the message says which option and why."""


@runtime_checkable
class Gateway(Protocol):
    """What every gateway implements. One instance serves one configured channel."""

    kind: str
    channel: str
    can_withdraw: bool

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        """The messages for this alert (pure, deterministic); raise CannotCarryError if none."""
        ...

    def deliver(self, message: ChannelMessage) -> Receipt:
        """Move one message; raise GatewayError on failure."""
        ...

    def close(self) -> None:
        """Release the transport (ports, sockets)."""
        ...


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """One message of a batch: its receipt, or the error that stopped it."""

    message: ChannelMessage
    receipt: Receipt | None = None
    error: GatewayError | None = None


@runtime_checkable
class BatchGateway(Protocol):
    """A gateway that moves many messages at once over several transports (a rack of modems).

    Dispatch hands it every message of a delivery that has not gone out yet and records each
    outcome as it is yielded, so a crash mid-batch loses nothing and resends nothing already
    recorded. An error on one message (a recipient's number is barred) does not stop the others;
    closing the iterator stops the batch (service shutdown) without losing a message in flight."""

    def deliver_batch(self, messages: Sequence[ChannelMessage]) -> Iterator[MessageOutcome]:
        """Yield one outcome per message, in any order, as each becomes known."""
        ...


@dataclass(frozen=True, slots=True)
class LateReceipt:
    """What a channel learned after a message went out: whether it reached the far end.

    ``reference`` is the :attr:`Receipt.reference` the message was sent with, which is how
    dispatch finds the message again (possibly after the delivery finished long ago)."""

    reference: str
    delivered: bool  # False: the network gave up on it (``detail`` says why)
    detail: str = ""


@runtime_checkable
class ReportingGateway(Protocol):
    """A gateway whose transport reports delivery later (a +CDS status report for an SMS)."""

    def take_reports(self) -> list[LateReceipt]:
        """The reports received since the last call (each is handed over once)."""
        ...
