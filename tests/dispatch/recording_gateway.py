"""Test gateways loaded by ``tocsin serve`` as ``tests.dispatch.recording_gateway:...``.

``RecordingGateway`` appends one line per delivered message to a file (flushed and fsynced
before it returns, like a real transport's acknowledgement) so that tests can count what
arrived, duplicates included. ``FlakyGateway`` fails the first ``failures`` attempts, to play a
channel that is down for a while.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from gateways.base import (
    AlertEnvelope,
    ChannelMessage,
    LateReceipt,
    MessageOutcome,
    MessagePurpose,
    PermanentGatewayError,
    Receipt,
    ReceiptStatus,
    TransientGatewayError,
)


class RecordingGateway:
    kind = "recording"
    can_withdraw = True

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        self.channel = channel
        self.path = Path(str(options["path"]))
        self.messages = int(options.get("messages", 1))

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        return [
            ChannelMessage(
                self.channel,
                f"{purpose.value}/{n}",
                purpose,
                f"{envelope.alert_id} {envelope.identity.identifier} {purpose.value} {n}".encode(),
                "text/plain",
            )
            for n in range(self.messages)
        ]

    def deliver(self, message: ChannelMessage) -> Receipt:
        with self.path.open("ab") as fh:
            fh.write(message.payload + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        return Receipt(ReceiptStatus.CONFIRMED, str(self.path))

    def close(self) -> None:
        return None


class FlakyGateway(RecordingGateway):
    """Fails ``failures`` times (counted in a file, so across restarts too), then records."""

    kind = "flaky"

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        super().__init__(channel, options)
        self.failures = int(options.get("failures", 3))
        self.counter = Path(str(options["counter"]))

    def deliver(self, message: ChannelMessage) -> Receipt:
        failed = int(self.counter.read_text()) if self.counter.exists() else 0
        if failed < self.failures:
            self.counter.write_text(str(failed + 1))
            raise TransientGatewayError(f"channel down (simulated failure {failed + 1})")
        return super().deliver(message)


class SlowGateway(RecordingGateway):
    """Takes ``delay`` seconds per message and remembers when each call started and ended, to
    check concurrency and rate limits."""

    kind = "slow"
    calls: ClassVar[dict[str, list[tuple[float, float]]]] = {}

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        super().__init__(channel, options)
        self.delay = float(options.get("delay", 0.1))
        SlowGateway.calls[channel] = []

    def deliver(self, message: ChannelMessage) -> Receipt:
        start = time.monotonic()
        time.sleep(self.delay)
        receipt = super().deliver(message)
        SlowGateway.calls[self.channel].append((start, time.monotonic()))
        return receipt


class BatchRecordingGateway(RecordingGateway):
    """Delivers a whole batch at once. Message ``n`` listed in ``refuse`` fails for good;
    message ``n`` listed in ``flaky`` fails for now on its first attempt (counted in a file)."""

    kind = "batch"

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        super().__init__(channel, options)
        self.refuse = {int(n) for n in options.get("refuse", [])}
        self.flaky = {int(n) for n in options.get("flaky", [])}
        self.counter = Path(str(options["counter"]))
        self.batches: list[int] = []

    def deliver_batch(self, messages: Sequence[ChannelMessage]) -> Iterator[MessageOutcome]:
        self.batches.append(len(messages))
        tried = set(self.counter.read_text().split()) if self.counter.exists() else set()
        for message in messages:
            n = int(message.key.rsplit("/", 1)[1])
            if n in self.refuse:
                yield MessageOutcome(message, error=PermanentGatewayError(f"number {n} barred"))
            elif n in self.flaky and message.key not in tried:
                with self.counter.open("a") as fh:
                    fh.write(message.key + "\n")
                yield MessageOutcome(message, error=TransientGatewayError("modem busy"))
            else:
                yield MessageOutcome(message, receipt=self.deliver(message))


class ReportingBatchGateway(RecordingGateway):
    """Like a rack of SMS modems with status reports: each message goes out as ``sent`` with a
    reference, and its delivery report comes later through ``take_reports``. Message ``n``
    listed in ``undelivered`` is reported undelivered. With ``reports_first`` the reports are
    handed over before the outcomes (a network faster than our bookkeeping)."""

    kind = "reporting"

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        super().__init__(channel, options)
        self.undelivered = {int(n) for n in options.get("undelivered", [])}
        self.reports_first = bool(options.get("reports_first", False))
        self.reports: list[LateReceipt] = []
        self.held: list[LateReceipt] = []  # reports released by release_reports()
        self.lock = threading.Lock()

    def deliver_batch(self, messages: Sequence[ChannelMessage]) -> Iterator[MessageOutcome]:
        outcomes = []
        for message in messages:
            super().deliver(message)
            n = int(message.key.rsplit("/", 1)[1])
            reference = f"{self.channel}:{message.key}"
            late = LateReceipt(reference, n not in self.undelivered, f"message {n}")
            with self.lock:
                (self.reports if self.reports_first else self.held).append(late)
            outcomes.append(MessageOutcome(message, receipt=Receipt(ReceiptStatus.SENT, reference)))
        if self.reports_first:
            time.sleep(0.2)  # the service collects the reports before any outcome is recorded
        yield from outcomes

    def release_reports(self) -> None:
        with self.lock:
            self.reports.extend(self.held)
            self.held.clear()

    def take_reports(self) -> list[LateReceipt]:
        with self.lock:
            taken, self.reports = self.reports, []
        return taken
