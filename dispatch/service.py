"""The dispatch service: claims due deliveries from the outbox and drives the gateways.

One loop polls the outbox (new alerts are written by ``tocsin send`` and the HTTP intake,
possibly from other processes) and hands due deliveries to a worker pool, keeping each channel
within its concurrency and rate limits; a planner thread schedules new alerts' repeats and
expiry with the scheduler.
On start, deliveries left in flight by a crash go back to pending; on SIGTERM the loop stops
claiming, lets the deliveries in progress finish and closes the gateways. The loop also
collects late delivery reports from the gateways that have them (SMS status reports) and marks
a delivery confirmed once every message of it is.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cap.model import AlertIdentity
from cap.parsing import parse_alert
from dispatch.audit import AuditEvent
from dispatch.backoff import BackoffPolicy
from dispatch.config import ChannelConfig, DispatchConfig
from dispatch.delivery import AttemptOutcome, DeliveryState, after_attempt
from dispatch.ratelimit import TokenBucket
from dispatch.scheduling import Scheduling
from dispatch.store import DeliveryRow, Outbox, StoredAlert
from dispatch.withdrawal import stop_alert
from gateways.base import (
    AlertEnvelope,
    BatchGateway,
    ChannelMessage,
    Gateway,
    GatewayError,
    LateReceipt,
    MessagePurpose,
    ReceiptStatus,
    ReportingGateway,
)

log = logging.getLogger("tocsin.dispatch")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class DispatchService:
    """Delivery workers and timed jobs over one outbox."""

    def __init__(
        self,
        config: DispatchConfig,
        outbox: Outbox,
        gateways: Mapping[str, Gateway],
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        poll_interval: float = 0.005,
        on_event: Callable[[str, DeliveryRow, str], None] | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.gateways = dict(gateways)
        self.channels: dict[str, ChannelConfig] = {c.name: c for c in config.channels}
        self.clock = clock
        self.rng = rng or random.Random()
        self.poll_interval = poll_interval
        self.on_event = on_event
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._buckets: dict[str, TokenBucket] = {
            c.name: TokenBucket(c.rate_per_second, max(1, int(c.rate_per_second)))
            for c in config.channels
            if c.rate_per_second
        }
        workers = max(2, sum(c.concurrency for c in config.channels))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver")
        self._envelopes: OrderedDict[int, AlertEnvelope] = OrderedDict()
        self.scheduling = Scheduling(f"sqlite:///{outbox.path}", str(outbox.path.resolve()), self)
        self._loop_thread: threading.Thread | None = None
        self._planner_thread: threading.Thread | None = None
        self._reporting = {
            name: gateway
            for name, gateway in self.gateways.items()
            if isinstance(gateway, ReportingGateway)
        }
        # Reports for messages not recorded yet (the report beat the outcome's commit), retried
        # each turn until REPORT_PATIENCE has passed: (first seen, channel, report).
        self._early_reports: list[tuple[float, str, LateReceipt]] = []
        self._retry_reports_at = 0.0

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        now = self.clock()
        recovered = self.outbox.recover_in_flight(now)
        if recovered:
            log.warning("resumed %d deliveries interrupted by the last stop", recovered)
        self.scheduling.start()
        self._loop_thread = threading.Thread(target=self._loop, name="dispatch", daemon=True)
        self._loop_thread.start()
        self._planner_thread = threading.Thread(
            target=self._plan_loop, name="dispatch-planner", daemon=True
        )
        self._planner_thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming work, let deliveries in progress finish, close everything."""
        self._stop.set()
        for thread in (self._loop_thread, self._planner_thread):
            if thread is not None:
                thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        self.scheduling.stop()
        for gateway in self.gateways.values():
            try:
                gateway.close()
            except Exception:
                log.exception("closing the gateway of channel %s failed", gateway.channel)
        self.outbox.close()

    def request_stop(self) -> None:
        """Ask the service to stop (safe from a signal handler)."""
        self._stop.set()

    def wait(self) -> None:
        while not self._stop.wait(0.5):
            pass

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # --- the loop -----------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.tick()
            except Exception:
                log.exception("dispatch loop iteration failed; retrying")
                worked = False
            if not worked:
                self._stop.wait(self.poll_interval)

    def _plan_loop(self) -> None:
        """Repeats and expiry of new alerts, on a thread of their own: each costs the
        scheduler's commits, and must not hold up the first delivery of the next alert."""
        while not self._stop.is_set():
            try:
                planned = self.plan_new_alerts()
            except Exception:
                log.exception("planning new alerts failed; retrying")
                planned = 0
            if not planned:
                self._stop.wait(self.poll_interval)

    def tick(self) -> bool:
        """Start due deliveries and apply delivery reports; True if there was anything to do.
        (A new alert's deliveries are due the moment it is accepted; its repeats and expiry
        are planned by the planner thread.)"""
        now = self.clock()
        with self._lock:
            room = {
                name: channel.concurrency - self._in_flight.get(name, 0)
                for name, channel in self.channels.items()
            }
        busy = [name for name, free in room.items() if free <= 0]
        claimed = self.outbox.claim_due(now, exclude_channels=busy, capacity=room)
        for delivery in claimed:
            with self._lock:
                self._in_flight[delivery.channel] = self._in_flight.get(delivery.channel, 0) + 1
            self._pool.submit(self._run_delivery, delivery)
        reported = self.apply_reports()
        return bool(reported or claimed)

    def apply_reports(self) -> int:
        """Record the late delivery reports the gateways have received; returns how many."""
        waiting: list[tuple[float, str, LateReceipt]] = []
        if self._early_reports and time.monotonic() >= self._retry_reports_at:
            waiting, self._early_reports = self._early_reports, []
            self._retry_reports_at = time.monotonic() + REPORT_RETRY_INTERVAL
        fresh = [
            (time.monotonic(), name, report)
            for name, gateway in self._reporting.items()
            for report in self._take_reports(name, gateway)
        ]
        applied = 0
        for first_seen, channel, report in waiting + fresh:
            if self._apply_report(channel, report):
                applied += 1
            elif time.monotonic() - first_seen < REPORT_PATIENCE:
                self._early_reports.append((first_seen, channel, report))
            else:
                log.warning(
                    "channel %s: a delivery report for %s matches no message awaiting one "
                    "(sent before the outbox was reset, or reported twice); ignored",
                    channel,
                    report.reference,
                )
        return applied

    def _take_reports(self, channel: str, gateway: ReportingGateway) -> list[LateReceipt]:
        try:
            return gateway.take_reports()
        except Exception:
            log.exception("collecting delivery reports from channel %s failed", channel)
            return []

    def _apply_report(self, channel: str, report: LateReceipt) -> bool:
        now = self.clock()
        with self.outbox.transaction() as tx:
            found = tx.apply_late_receipt(
                channel, report.reference, delivered=report.delivered, now=now
            )
            if found is None:
                return False
            tx.audit(
                AuditEvent(
                    now,
                    "service",
                    "message_confirmed" if report.delivered else "message_undelivered",
                    found.alert_id,
                    channel,
                    {"key": found.key, "reference": report.reference, "detail": report.detail},
                )
            )
            if found.delivery_confirmed:
                tx.audit(
                    AuditEvent(
                        now,
                        "service",
                        "confirmed",
                        found.alert_id,
                        channel,
                        {"delivery": found.delivery_id, "reason": _ALL_REPORTED},
                    )
                )
        if found.delivery_confirmed and self.on_event is not None:
            row = self.outbox.delivery(found.delivery_id)
            if row is not None:
                self.on_event("confirmed", row, _ALL_REPORTED)
        return True

    def plan_new_alerts(self) -> int:
        """Schedule repeats and expiry for alerts accepted since the last look."""
        alerts = self.outbox.unplanned_alerts()
        for stored in alerts:
            self._plan(stored)
        return len(alerts)

    def _plan(self, stored: StoredAlert) -> None:
        """Jobs first (idempotent, in the scheduler's own transactions), then the mark: a
        crash in between only means the same jobs are written again on restart."""
        now = self.clock()
        channels = self.outbox.channels_of(stored.id)
        if stored.msg_type in ("Update", "Cancel"):
            envelope = self.envelope(stored.id)
            for ref in envelope.alert.references if envelope else ():
                if ref.sent is None:
                    continue
                earlier = self.outbox.find_alert(
                    AlertIdentity(ref.sender, ref.identifier, ref.sent)
                )
                if earlier is not None:
                    self.scheduling.cancel_jobs(earlier.id, list(self.channels))
        repeats: list[tuple[str, float]] = []
        if stored.expires_at is not None and stored.msg_type in ("Alert", "Update"):
            until = datetime.fromtimestamp(stored.expires_at, UTC)
            if until > now:
                self.scheduling.schedule_expire(stored.id, until)
                for name in channels:
                    channel = self.channels.get(name)
                    if (
                        channel is not None
                        and channel.repeat_every is not None
                        and self.scheduling.schedule_repeat(
                            stored.id, name, channel.repeat_every, until, now
                        )
                    ):
                        repeats.append((name, channel.repeat_every.total_seconds()))
        with self.outbox.transaction() as tx:
            for name, every in repeats:
                tx.audit(
                    AuditEvent(
                        now, "service", "repeat_scheduled", stored.id, name, {"every_s": every}
                    )
                )
            tx.set_planned(stored.id)

    # --- scheduled jobs -----------------------------------------------------------------

    def run_repeat(self, alert_id: int, channel: str) -> None:
        now = self.clock()
        stored = self.outbox.alert(alert_id)
        if stored is None or stored.superseded_by or stored.cancelled_by or stored.expired:
            self.scheduling.cancel_jobs(alert_id, [channel])
            return
        with self.outbox.transaction() as tx:
            round_ = tx.next_round(alert_id, channel)
            delivery_id = tx.insert_delivery(
                alert_id,
                channel,
                purpose=MessagePurpose.ALERT.value,
                due_at=now.timestamp(),
                now=now,
                round_=round_,
            )
            tx.audit(
                AuditEvent(
                    now,
                    "scheduler",
                    "repeat",
                    alert_id,
                    channel,
                    {"round": round_, "delivery": delivery_id},
                )
            )

    def run_expire(self, alert_id: int) -> None:
        now = self.clock()
        stored = self.outbox.alert(alert_id)
        if stored is None or stored.expired:
            return
        self.scheduling.cancel_jobs(alert_id, list(self.channels))
        if stored.cancelled_by:
            return  # already withdrawn by its Cancel
        stop_alert(
            self.outbox,
            alert_id,
            now,
            actor="scheduler",
            action="expired",
            can_withdraw=self.can_withdraw,
        )

    def can_withdraw(self, channel: str) -> bool:
        gateway = self.gateways.get(channel)
        return gateway is not None and gateway.can_withdraw

    # --- one delivery -------------------------------------------------------------------

    def envelope(self, alert_id: int) -> AlertEnvelope | None:
        """The alert as gateways see it, parsed once and kept for the next deliveries."""
        with self._lock:
            cached = self._envelopes.get(alert_id)
            if cached is not None:
                self._envelopes.move_to_end(alert_id)
                return cached
        stored = self.outbox.alert(alert_id)
        if stored is None:
            return None
        envelope = AlertEnvelope(
            stored.id, stored.identity, stored.data, parse_alert(stored.data).alert
        )
        with self._lock:
            self._envelopes[alert_id] = envelope
            while len(self._envelopes) > 256:
                self._envelopes.popitem(last=False)
        return envelope

    def _run_delivery(self, delivery: DeliveryRow) -> None:
        try:
            self._deliver(delivery)
        except Exception as exc:
            log.exception("delivery %d on %s failed unexpectedly", delivery.id, delivery.channel)
            self._finish(delivery, AttemptOutcome.retryable(f"internal error: {exc!r}"))
        finally:
            with self._lock:
                self._in_flight[delivery.channel] -= 1

    def _deliver(self, delivery: DeliveryRow) -> None:
        channel = self.channels.get(delivery.channel)
        gateway = self.gateways.get(delivery.channel)
        if channel is None or gateway is None:
            self._finish(
                delivery,
                AttemptOutcome.permanent(f"channel {delivery.channel!r} is no longer configured"),
            )
            return
        envelope = self.envelope(delivery.alert_id)
        if envelope is None:
            self._finish(delivery, AttemptOutcome.permanent("the alert is missing from the outbox"))
            return
        purpose = MessagePurpose(delivery.purpose)
        try:
            messages = gateway.prepare(envelope, purpose)
        except GatewayError as exc:
            self._finish(delivery, AttemptOutcome.from_error(exc))
            return
        done = self.outbox.delivered_keys(delivery.id)
        if isinstance(gateway, BatchGateway):
            self._deliver_batch(delivery, gateway, [m for m in messages if m.key not in done])
            return
        confirmed = True  # until a receipt says only "sent"
        bucket = self._buckets.get(delivery.channel)
        for message in messages:
            if message.key in done:
                continue
            if self._stop.is_set():
                self._release(delivery)
                return
            if bucket is not None:
                while (wait := bucket.take(time.monotonic())) > 0:
                    time.sleep(wait)
            try:
                receipt = gateway.deliver(message)
            except GatewayError as exc:
                self._finish(delivery, AttemptOutcome.from_error(exc))
                return
            now = self.clock()
            with self.outbox.transaction() as tx:
                tx.record_message(
                    delivery.id, message.key, receipt.status.value, receipt.reference, now
                )
            confirmed = confirmed and receipt.status is ReceiptStatus.CONFIRMED
        status = ReceiptStatus.CONFIRMED if confirmed else ReceiptStatus.SENT
        self._finish(delivery, AttemptOutcome.success(status))

    def _deliver_batch(
        self, delivery: DeliveryRow, gateway: BatchGateway, pending: list[ChannelMessage]
    ) -> None:
        """Every message still to go, handed over at once; each outcome recorded as it comes.

        A message that failed for good (a barred number) is recorded as failed and never tried
        again; one that failed for now makes the delivery retry later, with only the messages
        not yet recorded."""
        confirmed = True
        retry: list[str] = []
        failed: list[str] = []
        outcomes = gateway.deliver_batch(pending)
        try:
            for outcome in outcomes:
                now = self.clock()
                message, receipt, error = outcome.message, outcome.receipt, outcome.error
                if receipt is not None:
                    confirmed = confirmed and receipt.status is ReceiptStatus.CONFIRMED
                    with self.outbox.transaction() as tx:
                        tx.record_message(
                            delivery.id, message.key, receipt.status.value, receipt.reference, now
                        )
                        if receipt.detail:
                            tx.audit(
                                AuditEvent(
                                    now,
                                    "service",
                                    "message_note",
                                    delivery.alert_id,
                                    delivery.channel,
                                    {"key": message.key, "detail": receipt.detail},
                                )
                            )
                elif error is not None and not error.retryable:
                    failed.append(f"{message.key}: {error}")
                    with self.outbox.transaction() as tx:
                        tx.record_message(delivery.id, message.key, "failed", str(error), now)
                        tx.audit(
                            AuditEvent(
                                now,
                                "service",
                                "message_failed",
                                delivery.alert_id,
                                delivery.channel,
                                {"key": message.key, "reason": str(error)},
                            )
                        )
                else:
                    retry.append(f"{message.key}: {error}")
                if self._stop.is_set():
                    break
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()  # stops the batch: nothing more is handed to a transport
        if self._stop.is_set():
            self._release(delivery)
            return
        total = len(pending)
        if retry:
            self._finish(
                delivery,
                AttemptOutcome.retryable(
                    f"{len(retry)} of {total} messages could not go out yet; first: {retry[0]}"
                ),
            )
        elif failed and len(failed) == total:
            self._finish(
                delivery, AttemptOutcome.permanent(f"every message failed; first: {failed[0]}")
            )
        else:
            status = ReceiptStatus.CONFIRMED if confirmed else ReceiptStatus.SENT
            detail = (
                f"{len(failed)} of {total} messages failed; first: {failed[0]}" if failed else ""
            )
            self._finish(delivery, AttemptOutcome.success(status, detail))

    def _release(self, delivery: DeliveryRow) -> None:
        """Back to pending, untried: the service is stopping before all messages went out."""
        now = self.clock()
        with self.outbox.transaction() as tx:
            tx.release(delivery.id, now, "service stopped before all messages went out")
            tx.audit(
                AuditEvent(
                    now,
                    "service",
                    "released",
                    delivery.alert_id,
                    delivery.channel,
                    {"delivery": delivery.id},
                )
            )

    def _finish(self, delivery: DeliveryRow, outcome: AttemptOutcome) -> None:
        channel = self.channels.get(delivery.channel)
        now = self.clock()
        policy = (
            BackoffPolicy(channel.backoff_initial, channel.backoff_max)
            if channel
            else BackoffPolicy(timedelta(seconds=1), timedelta(minutes=5))
        )
        transition = after_attempt(
            DeliveryState.IN_FLIGHT,
            delivery.attempts,
            outcome,
            max_attempts=channel.max_attempts if channel else 1,
            now=now,
            backoff=policy,
            rng=self.rng,
        )
        due = transition.next_attempt_at.timestamp() if transition.next_attempt_at else None
        with self.outbox.transaction() as tx:
            if transition.new_state is DeliveryState.SENT and tx.all_messages_confirmed(
                delivery.id
            ):
                # Delivery reports came back while the batch was still going out.
                transition = replace(
                    transition, new_state=DeliveryState.CONFIRMED, reason=_ALL_REPORTED
                )
            tx.update_delivery(
                delivery.id,
                transition.new_state,
                now=now,
                due_at=due,
                error=None if transition.new_state in _OK else transition.reason,
            )
            action = {
                DeliveryState.SENT: "sent",
                DeliveryState.CONFIRMED: "confirmed",
                DeliveryState.FAILED: "failed",
                DeliveryState.PENDING: "retry_scheduled",
            }.get(transition.new_state, transition.new_state.value)
            if delivery.purpose == MessagePurpose.WITHDRAW.value and transition.new_state in _OK:
                action = "withdrawn"
            tx.audit(
                AuditEvent(
                    now,
                    "service",
                    action,
                    delivery.alert_id,
                    delivery.channel,
                    {
                        "delivery": delivery.id,
                        "attempt": delivery.attempts,
                        "reason": transition.reason,
                        "next_attempt_at": due,
                    },
                )
            )
        if self.on_event is not None:
            self.on_event(action, delivery, transition.reason)


_OK = frozenset({DeliveryState.SENT, DeliveryState.CONFIRMED})
_ALL_REPORTED = "delivered, and a delivery report confirmed every message"

REPORT_PATIENCE = 60.0
"""Seconds a delivery report may wait for its message to be recorded before it is dropped."""
REPORT_RETRY_INTERVAL = 0.2
"""Seconds between two looks for the messages of reports that came early."""
