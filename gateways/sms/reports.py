"""Matching ``+CDS`` status reports to the messages they answer (TS 23.040 9.2.2.3).

A status report names the modem it came in on, the message reference (TP-MR, 0-255, one per
segment, reused after 256 sends) and the recipient. A message is delivered when every one of
its segments has been reported delivered, and undelivered as soon as one is reported failed for
good. Reports that say the service centre is still trying are not an answer yet: a later
report follows. A report can arrive before the send is recorded (a fast network), so one that
matches nothing yet is kept for a while.

Pure: no threads, no clock; the gateway serialises calls.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from gateways.base import LateReceipt
from gateways.sms.pdu import DeliveryOutcome, StatusReport

SegmentKey = tuple[str, int, str]  # modem, message reference, recipient's digits


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


@dataclass(slots=True)
class _Awaited:
    reference: str
    number: str
    waiting: set[SegmentKey] = field(default_factory=set)


class StatusReportMatcher:
    """Turns status reports into :class:`LateReceipt` s for the messages they complete.

    ``capacity`` bounds the segments awaiting reports, ``early_capacity`` the reports awaiting
    their message; the oldest are forgotten first (a report that never comes, or one for a
    message sent before a restart, must not grow memory)."""

    def __init__(self, capacity: int = 100_000, early_capacity: int = 1_000) -> None:
        self.capacity = capacity
        self.early_capacity = early_capacity
        self._awaited: OrderedDict[SegmentKey, _Awaited] = OrderedDict()
        self._early: OrderedDict[SegmentKey, StatusReport] = OrderedDict()
        self.unmatched = 0  # reports for no known message (sent before a restart, or forgotten)

    def expect(
        self, reference: str, modem: str, segment_references: tuple[int | None, ...], number: str
    ) -> list[LateReceipt]:
        """Note a message that went out and asked for reports. Returns the receipts that
        reports received early already complete (usually none)."""
        if not segment_references or any(mr is None for mr in segment_references):
            return []  # a segment without a reference can never be matched: do not wait
        awaited = _Awaited(reference, number)
        digits = _digits(number)
        for mr in segment_references:
            assert mr is not None
            key = (modem, mr, digits)
            awaited.waiting.add(key)
            stale = self._awaited.pop(key, None)  # the reference came round again (256 sends)
            if stale is not None:
                self._forget(stale)
            self._awaited[key] = awaited
        while len(self._awaited) > self.capacity:
            self._forget(self._awaited.popitem(last=False)[1])
        done: list[LateReceipt] = []
        for key in sorted(awaited.waiting):
            early = self._early.pop(key, None)
            if early is not None:
                done.extend(self.receive(modem, early))
        return done

    def receive(self, modem: str, report: StatusReport) -> list[LateReceipt]:
        """The receipt this report completes, if any."""
        key = (modem, report.message_reference, _digits(report.recipient))
        awaited = self._awaited.get(key)
        if awaited is None:
            if report.outcome is not DeliveryOutcome.PENDING:
                self._early[key] = report
                while len(self._early) > self.early_capacity:
                    self._early.popitem(last=False)
                    self.unmatched += 1
            return []
        if report.outcome is DeliveryOutcome.PENDING:
            return []  # the service centre keeps trying; its final report follows
        if report.outcome is DeliveryOutcome.FAILED:
            self._forget(awaited)
            return [LateReceipt(awaited.reference, False, f"{awaited.number}: {report.reason}")]
        del self._awaited[key]
        awaited.waiting.discard(key)
        if awaited.waiting:
            return []
        return [LateReceipt(awaited.reference, True, f"{awaited.number}: {report.reason}")]

    @property
    def awaiting(self) -> int:
        """How many messages still wait for a report."""
        return len({id(a) for a in self._awaited.values()})

    def _forget(self, awaited: _Awaited) -> None:
        for key in awaited.waiting:
            if self._awaited.get(key) is awaited:
                del self._awaited[key]
        awaited.waiting.clear()
