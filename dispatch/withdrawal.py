"""Stopping an alert: on expiry, on an operator's ``tocsin withdraw``, never by deleting rows.

Pending deliveries stop; channels that carried the alert and can withdraw get a withdrawal;
the rest need nothing (the alert has expired) or, for an operator withdrawal, are told in the
result so that a Cancel can be issued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dispatch.audit import AuditEvent
from dispatch.delivery import DeliveryState
from dispatch.store import Outbox
from gateways.base import MessagePurpose


@dataclass(frozen=True, slots=True)
class Withdrawal:
    alert_id: int
    pending_stopped: int
    withdrawals: tuple[str, ...]  # channels asked to withdraw
    cannot_withdraw: tuple[str, ...]  # channels that carried it but cannot take it back


def stop_alert(
    outbox: Outbox,
    alert_id: int,
    now: datetime,
    *,
    actor: str,
    action: str,
    can_withdraw: Callable[[str], bool],
) -> Withdrawal:
    """Mark the alert stopped, stop its pending deliveries, queue withdrawals (one txn)."""
    queued: list[str] = []
    cannot: list[str] = []
    with outbox.transaction() as tx:
        stopped = tx.set_expired(
            alert_id,
            now,
            DeliveryState.SUPERSEDED if action == "expired" else DeliveryState.WITHDRAWN,
        )
        tx.audit(AuditEvent(now, actor, action, alert_id, None, {"pending_stopped": stopped}))
        for channel in tx.channels_reached(alert_id):
            if not can_withdraw(channel):
                cannot.append(channel)
                continue
            delivery_id = tx.insert_delivery(
                alert_id,
                channel,
                purpose=MessagePurpose.WITHDRAW.value,
                due_at=now.timestamp(),
                now=now,
            )
            if delivery_id is not None:
                queued.append(channel)
                tx.audit(
                    AuditEvent(
                        now,
                        actor,
                        "withdraw_requested",
                        alert_id,
                        channel,
                        {"delivery": delivery_id},
                    )
                )
    return Withdrawal(alert_id, stopped, tuple(queued), tuple(cannot))
