"""What ``tocsin status`` and ``GET /alerts/<id>`` report: each alert's state per channel."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.delivery import TERMINAL, DeliveryState
from dispatch.store import DeliveryRow, Outbox, StoredAlert


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def delivery_json(d: DeliveryRow) -> dict[str, object]:
    return {
        "delivery": d.id,
        "channel": d.channel,
        "purpose": d.purpose,
        "round": d.round,
        "state": d.state.value,
        "attempts": d.attempts,
        "due_at": _when(d.due_at),
        "last_error": d.last_error,
        "updated_at": d.updated_at,
    }


def alert_status_json(outbox: Outbox, stored: StoredAlert) -> dict[str, object]:
    deliveries = outbox.deliveries(stored.id)
    return {
        "alert_id": stored.id,
        "sender": stored.identity.sender,
        "identifier": stored.identity.identifier,
        "sent": stored.sent_text,
        "msg_type": stored.msg_type,
        "status": stored.status,
        "accepted_at": stored.accepted_at,
        "submitted_by": stored.submitted_by,
        "superseded_by": stored.superseded_by,
        "cancelled_by": stored.cancelled_by,
        "stopped": stored.expired,
        "settled": all(d.state in TERMINAL or d.state is DeliveryState.SENT for d in deliveries),
        "deliveries": [delivery_json(d) for d in deliveries],
    }


def format_alert_status(outbox: Outbox, stored: StoredAlert) -> str:
    lines = [
        f"alert {stored.id}: {stored.msg_type} {stored.status} {stored.identity.identifier} "
        f"from {stored.identity.sender}, sent {stored.sent_text}"
    ]
    notes = []
    if stored.superseded_by:
        notes.append(f"updated by alert {stored.superseded_by}")
    if stored.cancelled_by:
        notes.append(f"cancelled by alert {stored.cancelled_by}")
    if stored.expired:
        notes.append("stopped (expired or withdrawn)")
    if notes:
        lines.append("  " + "; ".join(notes))
    deliveries = outbox.deliveries(stored.id)
    if not deliveries:
        lines.append("  no deliveries (routed to no channel)")
    for d in deliveries:
        what = d.purpose if d.round == 0 else f"{d.purpose} (repeat {d.round})"
        extra = f"  {d.last_error}" if d.last_error else ""
        lines.append(
            f"  {d.channel:<16} {what:<18} {d.state.value:<10} attempts {d.attempts}{extra}"
        )
    return "\n".join(lines) + "\n"
