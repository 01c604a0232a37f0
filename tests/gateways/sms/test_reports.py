"""Status reports matched to the messages they answer: every segment, failures, early reports."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateways.base import LateReceipt
from gateways.sms.pdu import StatusReport, decode_status_report, encode_status_report
from gateways.sms.reports import StatusReportMatcher

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DELIVERED, STILL_TRYING, EXPIRED = 0x00, 0x21, 0x46


def report(mr: int, number: str = "+254700000001", status: int = DELIVERED) -> StatusReport:
    """A report as a modem hands it over: encoded, then decoded by our own reader."""
    pdu = encode_status_report(
        message_reference=mr,
        recipient=number,
        service_centre_time=WHEN,
        discharge_time=WHEN,
        status=status,
    )
    return decode_status_report(pdu)


def test_a_message_is_delivered_when_every_segment_is() -> None:
    matcher = StatusReportMatcher()
    assert matcher.expect("m0:mr=7,8,9", "m0", (7, 8, 9), "+254700000001") == []
    assert matcher.receive("m0", report(7)) == []
    assert matcher.receive("m0", report(9)) == []
    (done,) = matcher.receive("m0", report(8))
    assert done.reference == "m0:mr=7,8,9" and done.delivered
    assert matcher.awaiting == 0


def test_one_failed_segment_makes_the_message_undelivered_at_once() -> None:
    matcher = StatusReportMatcher()
    matcher.expect("m0:mr=1,2", "m0", (1, 2), "+254700000001")
    (done,) = matcher.receive("m0", report(1, status=EXPIRED))
    assert not done.delivered
    assert "+254700000001" in done.detail and "validity period expired" in done.detail
    assert matcher.receive("m0", report(2)) == []  # the other segment changes nothing
    assert matcher.awaiting == 0


def test_still_trying_is_not_an_answer() -> None:
    matcher = StatusReportMatcher()
    matcher.expect("m0:mr=5", "m0", (5,), "+254700000001")
    assert matcher.receive("m0", report(5, status=STILL_TRYING)) == []
    assert matcher.awaiting == 1
    (done,) = matcher.receive("m0", report(5))
    assert done == LateReceipt("m0:mr=5", True, done.detail) and done.delivered
    assert matcher.awaiting == 0


def test_a_report_before_its_message_is_recorded_is_kept() -> None:
    matcher = StatusReportMatcher()
    assert matcher.receive("m1", report(3)) == []
    (done,) = matcher.expect("m1:mr=3", "m1", (3,), "+254700000001")
    assert done.delivered and done.reference == "m1:mr=3"


def test_reports_are_told_apart_by_modem_and_recipient() -> None:
    matcher = StatusReportMatcher()
    matcher.expect("m0:mr=4", "m0", (4,), "+254700000001")
    matcher.expect("m1:mr=4", "m1", (4,), "+254700000002")
    assert matcher.receive("m0", report(4, "+254700000002")) == []  # right MR, other phone
    (done,) = matcher.receive("m1", report(4, "+254700000002"))
    assert done.reference == "m1:mr=4"
    (done,) = matcher.receive("m0", report(4))
    assert done.reference == "m0:mr=4"


def test_a_reused_message_reference_belongs_to_the_newest_message() -> None:
    matcher = StatusReportMatcher()
    matcher.expect("old", "m0", (9,), "+254700000001")
    matcher.expect("new", "m0", (9,), "+254700000001")  # 256 sends later, same phone
    (done,) = matcher.receive("m0", report(9))
    assert done.reference == "new"
    assert matcher.awaiting == 0


def test_a_segment_without_a_reference_is_not_awaited() -> None:
    matcher = StatusReportMatcher()
    assert matcher.expect("m0:mr=?", "m0", (None,), "+254700000001") == []
    assert matcher.awaiting == 0


def test_memory_is_bounded_when_reports_never_come() -> None:
    matcher = StatusReportMatcher(capacity=10, early_capacity=5)
    for mr in range(40):
        matcher.expect(f"m0:mr={mr}", "m0", (mr,), "+254700000001")
        matcher.receive("m9", report(mr))  # for a modem we never sent on
    assert matcher.awaiting == 10
    assert matcher.unmatched == 35
    (done,) = matcher.receive("m0", report(39))
    assert done.reference == "m0:mr=39"


@given(
    segments=st.lists(st.integers(0, 255), min_size=1, max_size=6, unique=True),
    order=st.randoms(use_true_random=False),
)
def test_any_order_of_segment_reports_delivers_exactly_once(
    segments: list[int], order: random.Random
) -> None:
    matcher = StatusReportMatcher()
    matcher.expect("ref", "m0", tuple(segments), "+15551230001")
    shuffled = list(segments)
    order.shuffle(shuffled)
    done = [r for mr in shuffled for r in matcher.receive("m0", report(mr, "+15551230001"))]
    assert [r.reference for r in done] == ["ref"] and done[0].delivered
