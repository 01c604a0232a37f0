"""Accepting an alert into the outbox: validate, route, and commit in one transaction.

An alert is accepted only when this transaction has committed. A second submission of the same
identity ``(sender, identifier, sent)`` is recognised and reported, never stored twice.

Updates and cancels follow the CAP ``references`` chain: every referenced alert in the outbox
is marked updated or cancelled and its pending deliveries stop. A Cancel is turned into a
withdrawal on the channels that can withdraw and carried the earlier alert; on the others it is
delivered as a message. An Update or Cancel also goes to every channel that carried what it
references, even if its own content would not be routed there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cap.findings import Finding, Severity
from cap.model import Alert, AlertIdentity
from cap.timefmt import format_cap_datetime
from cap.validation import validate_document
from dispatch.audit import AuditEvent
from dispatch.config import ChannelConfig
from dispatch.errors import SubmissionError
from dispatch.routing import RoutingDecision, route_all
from dispatch.store import Outbox, Transaction
from gateways.base import MessagePurpose


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    alert_id: int
    channel: str
    purpose: MessagePurpose
    delivery_id: int | None


@dataclass(frozen=True, slots=True)
class Acceptance:
    """What ``send`` and the HTTP intake report back."""

    alert_id: int
    identity: AlertIdentity
    duplicate: bool
    decisions: tuple[RoutingDecision, ...]
    deliveries: tuple[PlannedDelivery, ...]
    superseded: tuple[int, ...]
    warnings: tuple[Finding, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "alert_id": self.alert_id,
            "sender": self.identity.sender,
            "identifier": self.identity.identifier,
            "sent": format_cap_datetime(self.identity.sent),
            "duplicate": self.duplicate,
            "routing": [
                {"channel": d.channel, "routed": d.routed, "reason": d.reason}
                for d in self.decisions
            ],
            "deliveries": [
                {"alert_id": p.alert_id, "channel": p.channel, "purpose": p.purpose.value}
                for p in self.deliveries
            ],
            "supersedes": list(self.superseded),
            "warnings": [f.as_json() for f in self.warnings],
        }


def validated_alert(data: bytes, source: str) -> tuple[Alert, tuple[Finding, ...]]:
    """The alert in ``data`` if it is one valid CAP alert; else :class:`SubmissionError`."""
    reports = validate_document(data, source=source)
    first = reports[0]
    if first.kind != "alert" or len(reports) != 1:
        what = "a feed or distribution" if first.kind != "document" else "not a CAP alert"
        if first.kind == "document":
            raise SubmissionError(f"{source}: refused: {first.findings[0].message}")
        raise SubmissionError(f"{source}: {what}; submit one CAP alert per document")
    errors = [f for f in first.findings if f.severity is Severity.ERROR]
    if errors:
        lines = "; ".join(
            f"line {f.line}: {f.message} ({f.code})" if f.line else f"{f.message} ({f.code})"
            for f in errors[:5]
        )
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise SubmissionError(f"{source}: invalid alert, not accepted: {lines}{more}")
    alert = first.alert
    if alert is None:
        raise SubmissionError(f"{source}: the alert could not be read")
    warnings = tuple(f for f in first.findings if f.severity is not Severity.ERROR)
    return alert, warnings


def _start_time(alert: Alert, now: datetime) -> float:
    """When the first broadcast is due: ``effective`` if it lies ahead, else now.

    ``onset`` is when the hazard is expected, not when people should be told, so it does not
    delay delivery."""
    starts = [i.effective for i in alert.infos if i.effective is not None]
    if starts and min(starts) > now:
        return min(starts).timestamp()
    return now.timestamp()


def _expires_at(alert: Alert) -> float | None:
    ends = [i.expires for i in alert.infos if i.expires is not None]
    return max(ends).timestamp() if ends else None


def accept_alert(
    outbox: Outbox,
    channels: Sequence[ChannelConfig],
    data: bytes,
    *,
    actor: str,
    now: datetime,
    can_withdraw: Callable[[str], bool],
    source: str = "-",
) -> Acceptance:
    """Validate, route and store one alert (one transaction). Raises SubmissionError."""
    alert, warnings = validated_alert(data, source)
    return record_acceptance(
        outbox, channels, alert, data, actor=actor, now=now, can_withdraw=can_withdraw,
        warnings=warnings,
    )  # fmt: skip


def record_acceptance(
    outbox: Outbox,
    channels: Sequence[ChannelConfig],
    alert: Alert,
    data: bytes,
    *,
    actor: str,
    now: datetime,
    can_withdraw: Callable[[str], bool],
    warnings: tuple[Finding, ...] = (),
) -> Acceptance:
    """Route and store an alert already validated from ``data`` (one transaction; acceptances
    submitted at the same moment from several threads share it, see Outbox.write_grouped)."""
    identity = alert.identity
    sent_text = format_cap_datetime(identity.sent)
    decisions = tuple(route_all(alert, channels))
    known = {c.name for c in channels}

    def store(tx: Transaction) -> Acceptance:
        alert_id = tx.insert_alert(
            identity,
            msg_type=alert.msg_type,
            status=alert.status,
            expires_at=_expires_at(alert),
            data=data,
            now=now,
            submitted_by=actor,
            sent_text=sent_text,
        )
        if alert_id is None:
            existing = tx.find_alert(identity)
            assert existing is not None  # the conflict was on this identity
            tx.audit(
                AuditEvent(
                    now, actor, "duplicate", existing.id, None, {"identifier": identity.identifier}
                )
            )
            return Acceptance(existing.id, identity, True, decisions, (), (), warnings)
        planned: list[PlannedDelivery] = []
        targets = {d.channel for d in decisions if d.routed}
        superseded: list[int] = []
        if alert.msg_type in ("Update", "Cancel"):
            cancel = alert.msg_type == "Cancel"
            for earlier_id in _referenced(tx, alert):
                stopped = tx.mark_superseded(earlier_id, alert_id, cancel=cancel, now=now)
                superseded.append(earlier_id)
                tx.audit(
                    AuditEvent(
                        now,
                        actor,
                        "cancelled" if cancel else "superseded",
                        earlier_id,
                        None,
                        {"by": alert_id, "pending_stopped": stopped},
                    )
                )
                carried = [c for c in tx.channels_of(earlier_id) if c in known]
                for channel in carried:
                    if cancel and can_withdraw(channel):
                        delivery_id = tx.insert_delivery(
                            earlier_id,
                            channel,
                            purpose=MessagePurpose.WITHDRAW.value,
                            due_at=now.timestamp(),
                            now=now,
                        )
                        planned.append(
                            PlannedDelivery(
                                earlier_id, channel, MessagePurpose.WITHDRAW, delivery_id
                            )
                        )
                        tx.audit(
                            AuditEvent(
                                now,
                                actor,
                                "withdraw_requested",
                                earlier_id,
                                channel,
                                {"by": alert_id},
                            )
                        )
                        targets.discard(channel)
                    else:
                        targets.add(channel)
        due = _start_time(alert, now)
        routed: dict[str, int | None] = {}
        for channel in sorted(targets):
            delivery_id = tx.insert_delivery(
                alert_id, channel, purpose=MessagePurpose.ALERT.value, due_at=due, now=now
            )
            planned.append(PlannedDelivery(alert_id, channel, MessagePurpose.ALERT, delivery_id))
            routed[channel] = delivery_id
        # One entry records the acceptance and its routing: they are one state change.
        tx.audit(
            AuditEvent(
                now,
                actor,
                "submitted",
                alert_id,
                None,
                {
                    "sender": identity.sender,
                    "identifier": identity.identifier,
                    "sent": sent_text,
                    "msg_type": alert.msg_type,
                    "status": alert.status,
                    "bytes": len(data),
                    "due_at": due,
                    "routed": routed,
                    "not_routed": {
                        d.channel: d.reason for d in decisions if d.channel not in targets
                    },
                },
            )
        )
        return Acceptance(
            alert_id, identity, False, decisions, tuple(planned), tuple(superseded), warnings
        )

    return outbox.write_grouped(store)


def _referenced(tx: Transaction, alert: Alert) -> list[int]:
    """Outbox ids of the alerts named in ``references`` (those we hold)."""
    ids: list[int] = []
    for ref in alert.references:
        if ref.sent is None:
            continue
        stored = tx.find_alert(AlertIdentity(ref.sender, ref.identifier, ref.sent))
        if stored is not None and stored.id not in ids:
            ids.append(stored.id)
    return ids
