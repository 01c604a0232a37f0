"""The life of one delivery (one alert on one channel), as a pure state machine.

::

    pending ──► in_flight ──► sent ──► confirmed
       │  ▲         │  │        └────► failed
       │  └─────────┘  ├─────────────► confirmed      (the transport confirmed at once)
       │   (retry,     └─────────────► failed         (permanent, or attempts exhausted)
       │    restart)
       ├──► superseded   (a later Update made it moot before it went out)
       ├──► withdrawn    (a Cancel or a withdraw request came before it went out)
       └──► failed       (expired before it could go out, channel removed)

``confirmed``, ``failed``, ``superseded`` and ``withdrawn`` are final. ``sent`` is not: a
delivery report may still confirm it or say it failed. ``in_flight`` goes back to ``pending``
when a retryable attempt fails and when the service restarts after a crash mid-attempt (delivery
is at-least-once; gateways skip messages already delivered by their stable keys). Taking back an
alert that already went out is a separate withdraw message, not a change of this delivery.

Nothing here reads the clock or a random source: ``now`` and ``rng`` are passed in.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from dispatch.backoff import BackoffPolicy
from dispatch.errors import InvalidTransition, PolicyError
from gateways.base import GatewayError, Receipt, ReceiptStatus


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its time (effective/onset, or the next retry)
    IN_FLIGHT = "in_flight"  # an attempt is under way
    SENT = "sent"  # handed to the transport; no confirmation yet
    CONFIRMED = "confirmed"  # the far end acknowledged it
    FAILED = "failed"  # given up: permanent failure, attempts exhausted, or expired
    SUPERSEDED = "superseded"  # not sent: a later Update replaced it
    WITHDRAWN = "withdrawn"  # not sent: cancelled or withdrawn first


TERMINAL: frozenset[DeliveryState] = frozenset(
    {
        DeliveryState.CONFIRMED,
        DeliveryState.FAILED,
        DeliveryState.SUPERSEDED,
        DeliveryState.WITHDRAWN,
    }
)

ALLOWED: Mapping[DeliveryState, frozenset[DeliveryState]] = MappingProxyType(
    {
        DeliveryState.PENDING: frozenset(
            {
                DeliveryState.IN_FLIGHT,
                DeliveryState.SUPERSEDED,
                DeliveryState.WITHDRAWN,
                DeliveryState.FAILED,
            }
        ),
        DeliveryState.IN_FLIGHT: frozenset(
            {
                DeliveryState.SENT,
                DeliveryState.CONFIRMED,
                DeliveryState.PENDING,
                DeliveryState.FAILED,
            }
        ),
        DeliveryState.SENT: frozenset({DeliveryState.CONFIRMED, DeliveryState.FAILED}),
        DeliveryState.CONFIRMED: frozenset(),
        DeliveryState.FAILED: frozenset(),
        DeliveryState.SUPERSEDED: frozenset(),
        DeliveryState.WITHDRAWN: frozenset(),
    }
)


def _names(states: frozenset[DeliveryState]) -> str:
    return ", ".join(sorted(s.value for s in states))


def check_transition(
    current: DeliveryState, new: DeliveryState, *, subject: str = "delivery"
) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> new`` is in :data:`ALLOWED`.

    Staying in the same state is not a transition and is refused too. ``subject`` names the
    delivery in the message, e.g. ``"delivery 12 (alert 5 on sms-responders)"``.
    """
    if new in ALLOWED[current]:
        return
    if current in TERMINAL:
        why = f"'{current}' is final"
    elif new == current:
        why = f"it is already '{current}'"
    else:
        why = f"from '{current}' it can only go to: {_names(ALLOWED[current])}"
    raise InvalidTransition(
        f"{subject} cannot go from '{current}' to '{new}': {why}. "
        "This is a bug in the caller or a concurrent change to the outbox; "
        "check the audit log for this delivery"
    )


class OutcomeKind(StrEnum):
    SUCCESS = "success"
    RETRYABLE = "retryable"  # the channel is down or busy now; trying later may help
    PERMANENT = "permanent"  # this can never go through this channel


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one gateway attempt produced. Build it with :meth:`success`, :meth:`retryable`,
    :meth:`permanent`, :meth:`from_receipt` or :meth:`from_error`."""

    kind: OutcomeKind
    receipt_status: ReceiptStatus | None = None  # set exactly when kind is SUCCESS
    reason: str = ""  # why it failed (required for failures), or the receipt's detail

    def __post_init__(self) -> None:
        if (self.kind is OutcomeKind.SUCCESS) != (self.receipt_status is not None):
            raise ValueError("an attempt outcome has a receipt status exactly when it succeeded")
        if self.kind is not OutcomeKind.SUCCESS and not self.reason.strip():
            raise ValueError("a failed attempt outcome needs a reason")

    @classmethod
    def success(cls, status: ReceiptStatus, detail: str = "") -> AttemptOutcome:
        return cls(OutcomeKind.SUCCESS, status, detail)

    @classmethod
    def retryable(cls, reason: str) -> AttemptOutcome:
        return cls(OutcomeKind.RETRYABLE, None, reason)

    @classmethod
    def permanent(cls, reason: str) -> AttemptOutcome:
        return cls(OutcomeKind.PERMANENT, None, reason)

    @classmethod
    def from_receipt(cls, receipt: Receipt) -> AttemptOutcome:
        return cls.success(receipt.status, receipt.detail)

    @classmethod
    def from_error(cls, error: GatewayError) -> AttemptOutcome:
        reason = str(error).strip() or type(error).__name__
        return cls.retryable(reason) if error.retryable else cls.permanent(reason)


@dataclass(frozen=True, slots=True)
class Transition:
    """Where a delivery goes next. ``next_attempt_at`` is set exactly when it goes back to
    ``pending`` for a retry. ``reason`` is a sentence for the audit log and ``tocsin status``."""

    new_state: DeliveryState
    next_attempt_at: datetime | None
    reason: str


def after_attempt(
    state: DeliveryState,
    attempts: int,
    outcome: AttemptOutcome,
    *,
    max_attempts: int,
    now: datetime,
    backoff: BackoffPolicy,
    rng: random.Random,
) -> Transition:
    """Decide what follows an attempt.

    ``state`` is the delivery's state during the attempt (must be ``in_flight``); ``attempts``
    counts the attempts made so far, this one included (from 1); ``now`` (aware) is when the
    attempt ended. A success becomes ``sent`` or ``confirmed`` per the receipt; a retryable
    failure with ``attempts < max_attempts`` goes back to ``pending`` with ``next_attempt_at =
    now + backoff.delay(attempts, rng)``; otherwise the delivery ``failed``.
    """
    if max_attempts < 1:
        raise PolicyError(
            f"retry policy: max_attempts must be at least 1, got {max_attempts}; "
            "it counts the first attempt too"
        )
    if attempts < 1:
        raise ValueError(f"attempts counts the attempts made, this one included; got {attempts}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if state is not DeliveryState.IN_FLIGHT:
        raise InvalidTransition(
            f"an attempt's outcome applies to an in_flight delivery, but this one is '{state}'; "
            "mark the delivery in_flight (and commit) before attempting it"
        )

    if outcome.kind is OutcomeKind.SUCCESS:
        if outcome.receipt_status is ReceiptStatus.CONFIRMED:
            new, reason = DeliveryState.CONFIRMED, "delivered and confirmed by the far end"
        else:
            new, reason = DeliveryState.SENT, "handed to the transport, awaiting confirmation"
        if outcome.reason:
            reason = f"{reason} ({outcome.reason})"
        transition = Transition(new, None, reason)
    elif outcome.kind is OutcomeKind.RETRYABLE and attempts < max_attempts:
        at = now + backoff.delay(attempts, rng)
        transition = Transition(
            DeliveryState.PENDING,
            at,
            f"attempt {attempts} of {max_attempts} failed: {outcome.reason}; "
            f"retrying at {at.isoformat(timespec='seconds')}",
        )
    elif outcome.kind is OutcomeKind.RETRYABLE:
        plural = "attempt" if attempts == 1 else "attempts"
        transition = Transition(
            DeliveryState.FAILED, None, f"gave up after {attempts} {plural}: {outcome.reason}"
        )
    else:
        transition = Transition(
            DeliveryState.FAILED,
            None,
            f"failed permanently on attempt {attempts}, not retried: {outcome.reason}",
        )
    return transition
