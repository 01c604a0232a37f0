"""The dispatch service in-process: accept, deliver, retry with backoff, update, cancel, expire."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cap.authoring import alert_from_description, cancel_alert, update_alert
from cap.model import Alert
from cap.serialize import serialize_alert
from dispatch import audit
from dispatch.accept import accept_alert
from dispatch.config import DispatchConfig, parse_dispatch_config
from dispatch.delivery import DeliveryState
from dispatch.errors import SubmissionError
from dispatch.service import DispatchService
from dispatch.store import Outbox
from gateways.base import Gateway
from gateways.registry import create_gateway
from tests.dispatch.recording_gateway import BatchRecordingGateway, ReportingBatchGateway

POLYGON = "53.96,-1.08 53.93,-1.02 53.80,-1.05 53.96,-1.08"


def make_alert(now: datetime, *, status: str = "Actual", hours: float = 6) -> Alert:
    return alert_from_description(
        {
            "sender": "alerts@met.example.gov",
            "status": status,
            "info": [
                {
                    "category": "Met",
                    "event": "Flood",
                    "urgency": "Expected",
                    "severity": "Severe",
                    "certainty": "Likely",
                    "expires": now + timedelta(hours=hours),
                    "headline": "Flood warning",
                    "areas": [{"area_desc": "Vale", "polygons": [POLYGON]}],
                }
            ],
        },
        now=now,
    )


def config_for(tmp_path: Path, channels: dict[str, dict[str, Any]]) -> DispatchConfig:
    raw = {"store": {"path": str(tmp_path / "outbox.db")}, "channels": channels}
    return parse_dispatch_config(raw, base_dir=tmp_path, data_dir=tmp_path)


class Harness:
    def __init__(self, tmp_path: Path, channels: dict[str, dict[str, Any]]) -> None:
        self.tmp_path = tmp_path
        self.config = config_for(tmp_path, channels)
        self.outbox = Outbox(self.config.store.sqlite_path)
        self.gateways: dict[str, Gateway] = {
            c.name: create_gateway(c.gateway, c.name, c.options) for c in self.config.channels
        }
        self.service = DispatchService(
            self.config, Outbox(self.config.store.sqlite_path), self.gateways,
            rng=random.Random(7),
        )  # fmt: skip

    def submit(self, alert: Alert, now: datetime | None = None) -> int:
        acceptance = accept_alert(
            self.outbox,
            self.config.channels,
            serialize_alert(alert),
            actor="test",
            now=now or datetime.now(UTC),
            can_withdraw=lambda c: self.gateways[c].can_withdraw,
        )
        return acceptance.alert_id

    def wait_for(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise AssertionError("condition not met in time")

    def states(self, alert_id: int) -> dict[tuple[str, str, int], DeliveryState]:
        return {(d.channel, d.purpose, d.round): d.state for d in self.outbox.deliveries(alert_id)}


@pytest.fixture
def harness_factory(tmp_path: Path) -> Iterator[Callable[[dict[str, dict[str, Any]]], Harness]]:
    made: list[Harness] = []

    def make(channels: dict[str, dict[str, Any]]) -> Harness:
        h = Harness(tmp_path, channels)
        made.append(h)
        return h

    yield make
    for h in made:
        if not h.service.stopping:
            h.service.stop()


GATEWAY = "tests.dispatch.recording_gateway"


def recording(tmp_path: Path, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "gateway": f"{GATEWAY}:RecordingGateway",
        "path": str(tmp_path / f"{name}.log"),
        **extra,
    }


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_accepted_alert_reaches_every_routed_channel(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory(
        {
            "a": recording(tmp_path, "a"),
            "b": recording(tmp_path, "b", messages=3),
            "tests_only": recording(tmp_path, "t", statuses=["Test"]),
        }
    )
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: all(s is DeliveryState.CONFIRMED for s in h.states(alert_id).values()))
    assert set(h.states(alert_id)) == {("a", "alert", 0), ("b", "alert", 0)}
    assert len(lines(tmp_path / "a.log")) == 1
    assert len(lines(tmp_path / "b.log")) == 3
    assert not (tmp_path / "t.log").exists()
    assert audit.verify(h.outbox.connection()).ok


def test_duplicate_submission_is_stored_once(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory({"a": recording(tmp_path, "a")})
    alert = make_alert(datetime.now(UTC))
    first = accept_alert(
        h.outbox, h.config.channels, serialize_alert(alert), actor="t", now=datetime.now(UTC),
        can_withdraw=lambda c: True,
    )  # fmt: skip
    second = accept_alert(
        h.outbox, h.config.channels, serialize_alert(alert), actor="t", now=datetime.now(UTC),
        can_withdraw=lambda c: True,
    )  # fmt: skip
    assert not first.duplicate and second.duplicate
    assert first.alert_id == second.alert_id
    assert len(h.outbox.recent_alerts()) == 1
    assert len(h.outbox.deliveries(first.alert_id)) == 1


def test_invalid_alert_is_refused_and_nothing_stored(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory({"a": recording(tmp_path, "a")})
    bad = serialize_alert(make_alert(datetime.now(UTC))).replace(
        b"<urgency>Expected", b"<urgency>Soon"
    )
    with pytest.raises(SubmissionError, match="invalid alert, not accepted"):
        accept_alert(h.outbox, h.config.channels, bad, actor="t", now=datetime.now(UTC),
                     can_withdraw=lambda c: True)  # fmt: skip
    with pytest.raises(SubmissionError, match="refused"):
        accept_alert(h.outbox, h.config.channels, b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>",
                     actor="t", now=datetime.now(UTC), can_withdraw=lambda c: True)  # fmt: skip
    assert h.outbox.recent_alerts() == []


def test_channel_down_for_a_while_gets_its_messages_with_backoff(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory(
        {
            "flaky": {
                "gateway": f"{GATEWAY}:FlakyGateway",
                "path": str(tmp_path / "flaky.log"),
                "counter": str(tmp_path / "flaky.count"),
                "failures": 3,
                "backoff_initial": "0.2s",
                "backoff_max": "2s",
                "max_attempts": 6,
            }
        }
    )
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("flaky", "alert", 0)] is DeliveryState.CONFIRMED)
    assert len(lines(tmp_path / "flaky.log")) == 1
    (delivery,) = h.outbox.deliveries(alert_id)
    assert delivery.attempts == 4
    conn = h.outbox.connection()
    rows = conn.execute(
        "SELECT at, action, detail FROM audit WHERE alert_id = ? AND action IN "
        "('attempt', 'retry_scheduled') ORDER BY seq",
        (alert_id,),
    ).fetchall()
    attempts = [datetime.fromisoformat(r["at"]) for r in rows if r["action"] == "attempt"]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert len(gaps) == 3
    # Jittered exponential backoff: each wait at least half its nominal 0.2 * 2**n seconds.
    for n, gap in enumerate(gaps):
        assert gap >= 0.5 * 0.2 * 2**n - 0.01, gaps


def test_a_batch_gateway_gets_every_message_at_once_and_failures_are_per_message(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory(
        {
            "sms": {
                "gateway": f"{GATEWAY}:BatchRecordingGateway",
                "path": str(tmp_path / "sms.log"),
                "counter": str(tmp_path / "sms.tried"),
                "messages": 6,
                "refuse": [2],
                "flaky": [4, 5],
                "backoff_initial": "0.1s",
                "backoff_max": "0.5s",
            }
        }
    )
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.CONFIRMED)
    gateway = h.gateways["sms"]
    assert isinstance(gateway, BatchRecordingGateway)
    assert gateway.batches == [6, 2]  # the retry carries only the two that failed for now
    delivered = sorted(line.split()[-1] for line in lines(tmp_path / "sms.log"))
    assert delivered == ["0", "1", "3", "4", "5"]  # each once; number 2 never again
    (delivery,) = h.outbox.deliveries(alert_id)
    assert delivery.attempts == 2
    failed = [e for e in audit.read_entries(h.outbox.connection()) if e.action == "message_failed"]
    assert [json.loads(e.detail)["key"] for e in failed] == ["alert/2"]
    assert "number 2 barred" in json.loads(failed[0].detail)["reason"]


def test_update_supersedes_and_cancel_withdraws(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory(
        {
            "withdrawable": recording(tmp_path, "w"),
            "archive": {"gateway": "file", "directory": str(tmp_path / "archive")},
        }
    )
    now = datetime.now(UTC)
    first = make_alert(now)
    first_id = h.submit(first)
    h.service.start()
    h.wait_for(lambda: all(s is DeliveryState.CONFIRMED for s in h.states(first_id).values()))
    update = update_alert(
        first, {"info_changes": {"severity": "Extreme"}}, now=now + timedelta(seconds=1)
    )
    update_id = h.submit(update)
    h.wait_for(lambda: all(s is DeliveryState.CONFIRMED for s in h.states(update_id).values()))
    assert h.outbox.alert(first_id).superseded_by == update_id  # type: ignore[union-attr]
    cancel = cancel_alert(update, now=now + timedelta(seconds=2))
    cancel_id = h.submit(cancel)
    # The withdrawable channel gets withdrawals of both earlier alerts; the archive (file
    # gateway, cannot withdraw) gets the Cancel message itself.
    h.wait_for(
        lambda: h.states(update_id).get(("withdrawable", "withdraw", 0)) is DeliveryState.CONFIRMED
    )
    h.wait_for(lambda: h.states(cancel_id).get(("archive", "alert", 0)) is DeliveryState.CONFIRMED)
    assert ("withdrawable", "alert", 0) not in h.states(cancel_id)
    withdrawn = [line for line in lines(tmp_path / "w.log") if " withdraw " in line]
    assert any(line.startswith(f"{update_id} ") for line in withdrawn)
    archived = sorted(p.name for p in (tmp_path / "archive").iterdir())
    assert len(archived) == 3  # alert, update, cancel


def test_repeats_until_expiry_then_withdraw(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory({"radio": recording(tmp_path, "radio", repeat_every="1s")})
    now = datetime.now(UTC)
    alert_id = h.submit(make_alert(now, hours=3.5 / 3600))  # expires in 3.5 s
    h.service.start()
    h.wait_for(lambda: h.outbox.alert(alert_id).expired, timeout=20)  # type: ignore[union-attr]
    h.wait_for(lambda: h.states(alert_id).get(("radio", "withdraw", 0)) is DeliveryState.CONFIRMED)
    rounds = sorted(r for (c, p, r) in h.states(alert_id) if p == "alert")
    assert rounds[0] == 0 and 2 <= len(rounds) <= 5, rounds
    sent = [line for line in lines(tmp_path / "radio.log") if " alert " in line]
    assert len(sent) == len(rounds)


def test_future_effective_waits(tmp_path: Path, harness_factory: Callable[..., Harness]) -> None:
    h = harness_factory({"a": recording(tmp_path, "a")})
    now = datetime.now(UTC)
    alert = make_alert(now)
    info = alert.infos[0]
    from dataclasses import replace

    alert = replace(alert, infos=(replace(info, effective=now + timedelta(seconds=1.5)),))
    alert_id = h.submit(alert, now)
    h.service.start()
    time.sleep(0.8)
    assert h.states(alert_id)[("a", "alert", 0)] is DeliveryState.PENDING
    h.wait_for(lambda: h.states(alert_id)[("a", "alert", 0)] is DeliveryState.CONFIRMED)


def test_schedules_survive_a_restart(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    channels = {"radio": recording(tmp_path, "radio", repeat_every="1h")}
    h = harness_factory(channels)
    alert_id = h.submit(make_alert(datetime.now(UTC), hours=5))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("radio", "alert", 0)] is DeliveryState.CONFIRMED)
    h.wait_for(lambda: len(h.service.scheduling.jobs()) == 2)
    h.service.stop()
    again = harness_factory(channels)
    again.service.scheduling.start()
    try:
        jobs = {job_id for job_id, _ in again.service.scheduling.jobs()}
    finally:
        again.service.scheduling.stop()
    assert jobs == {f"repeat:{alert_id}:radio", f"expire:{alert_id}"}


def test_every_status_against_every_channel_in_the_service(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    statuses = ["Actual", "Exercise", "System", "Test", "Draft"]
    h = harness_factory(
        {
            "public": recording(tmp_path, "public"),
            "drills": recording(tmp_path, "drills", statuses=["Exercise", "Test"]),
            "everything": recording(tmp_path, "everything", statuses=statuses),
        }
    )
    now = datetime.now(UTC)
    ids = {status: h.submit(make_alert(now, status=status)) for status in statuses}
    allowed = {
        "public": {"Actual"},
        "drills": {"Exercise", "Test"},
        "everything": set(statuses),
    }
    for status, alert_id in ids.items():
        channels = {c for (c, _p, _r) in h.states(alert_id)}
        assert channels == {c for c, ok in allowed.items() if status in ok}, status


def _max_overlap(calls: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in calls] + [(e, -1) for _, e in calls])
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


@pytest.mark.parametrize("concurrency", [1, 3])
def test_per_channel_concurrency_limit(
    tmp_path: Path, harness_factory: Callable[..., Harness], concurrency: int
) -> None:
    from tests.dispatch.recording_gateway import SlowGateway

    h = harness_factory(
        {
            "slow": {
                "gateway": f"{GATEWAY}:SlowGateway",
                "path": str(tmp_path / "slow.log"),
                "delay": 0.15,
                "concurrency": concurrency,
            }
        }
    )
    now = datetime.now(UTC)
    ids = [h.submit(make_alert(now + timedelta(seconds=n))) for n in range(6)]
    h.service.start()
    h.wait_for(
        lambda: all(h.states(i)[("slow", "alert", 0)] is DeliveryState.CONFIRMED for i in ids)
    )
    peak = _max_overlap(SlowGateway.calls["slow"])
    assert peak == concurrency, SlowGateway.calls["slow"]


def test_per_channel_rate_limit(tmp_path: Path, harness_factory: Callable[..., Harness]) -> None:
    from tests.dispatch.recording_gateway import SlowGateway

    h = harness_factory(
        {
            "sms": {
                "gateway": f"{GATEWAY}:SlowGateway",
                "path": str(tmp_path / "sms.log"),
                "delay": 0.0,
                "messages": 12,
                "rate_per_second": 10.0,
            }
        }
    )
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.CONFIRMED)
    starts = sorted(s for s, _ in SlowGateway.calls["sms"])
    assert len(starts) == 12
    # A bucket of 10 tokens refilled at 10/s: 12 messages need at least 0.2 s.
    assert starts[-1] - starts[0] >= 0.19
    for i in range(len(starts)):
        window = [t for t in starts if starts[i] <= t < starts[i] + 0.5]
        assert len(window) <= 10 + 5 + 1


def reporting(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "gateway": f"{GATEWAY}:ReportingBatchGateway",
        "path": str(tmp_path / "sms.log"),
        "messages": 4,
        **extra,
    }


def message_statuses(h: Harness, alert_id: int) -> list[str]:
    (delivery,) = h.outbox.deliveries(alert_id)
    rows = h.outbox.connection().execute(
        "SELECT receipt_status FROM delivered_messages WHERE delivery_id = ? ORDER BY message_key",
        (delivery.id,),
    )
    return [r["receipt_status"] for r in rows]


def test_delivery_reports_turn_a_sent_delivery_into_confirmed(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory({"sms": reporting(tmp_path)})
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.SENT)
    assert message_statuses(h, alert_id) == ["sent"] * 4  # no report yet
    gateway = h.gateways["sms"]
    assert isinstance(gateway, ReportingBatchGateway)
    gateway.release_reports()
    h.wait_for(lambda: h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.CONFIRMED)
    assert message_statuses(h, alert_id) == ["confirmed"] * 4
    entries = list(audit.read_entries(h.outbox.connection()))
    confirmed = [json.loads(e.detail)["key"] for e in entries if e.action == "message_confirmed"]
    assert sorted(confirmed) == ["alert/0", "alert/1", "alert/2", "alert/3"]
    assert [e.action for e in entries][-1] == "confirmed"
    assert audit.verify(h.outbox.connection()).ok


def test_an_undelivered_report_keeps_the_delivery_sent_and_says_why(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory({"sms": reporting(tmp_path, undelivered=[2])})
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.SENT)
    gateway = h.gateways["sms"]
    assert isinstance(gateway, ReportingBatchGateway)
    gateway.release_reports()
    h.wait_for(lambda: "sent" not in message_statuses(h, alert_id))
    assert message_statuses(h, alert_id) == ["confirmed", "confirmed", "undelivered", "confirmed"]
    assert h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.SENT
    entries = list(audit.read_entries(h.outbox.connection()))
    (undelivered,) = [json.loads(e.detail) for e in entries if e.action == "message_undelivered"]
    assert undelivered["key"] == "alert/2" and undelivered["detail"] == "message 2"


def test_reports_that_arrive_before_the_outcomes_still_confirm(
    tmp_path: Path, harness_factory: Callable[..., Harness]
) -> None:
    h = harness_factory({"sms": reporting(tmp_path, reports_first=True)})
    alert_id = h.submit(make_alert(datetime.now(UTC)))
    h.service.start()
    h.wait_for(lambda: h.states(alert_id)[("sms", "alert", 0)] is DeliveryState.CONFIRMED)
    assert message_statuses(h, alert_id) == ["confirmed"] * 4
