"""The modem pool: spreading, per-modem rate, error classes, unplugged modems, nothing lost."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateways.sms.at_modem import ModemSettings
from gateways.sms.emulator import (
    EmulatedModem,
    EmulatedTransport,
    EmulatorServer,
    EmulatorSettings,
    FailureRule,
    PduRecord,
)
from gateways.sms.gsm7 import GSM7_DEFAULT, plan_segments
from gateways.sms.modem_link import ModemLink, SendOutcome
from gateways.sms.pdu import SubmitPdu, decode_submit, encode_message, encode_submit
from gateways.sms.pool import ModemHealth, ModemPool, PoolOutcome, PoolResult, PoolSettings
from gateways.sms.transport import SerialTransport

FAST_MODEM = ModemSettings(
    command_timeout=1.0,
    registration_timeout=1.0,
    poll_interval=0.05,
    prompt_timeout=1.0,
    send_timeout=2.0,
)
FAST_POOL = PoolSettings(reopen_interval=0.2, retry_delay=0.05, wait_timeout=10.0, idle_poll=0.02)


def message(number: str, text: str = "Evacuate the lower valley now") -> list[SubmitPdu]:
    return [encode_submit(number, text, GSM7_DEFAULT)]


def numbers(count: int) -> list[str]:
    return [f"+1555200{i:04d}" for i in range(count)]


# --- in-process modems (no pty) --------------------------------------------------------------


@contextmanager
def emulated_pool(
    modems: Sequence[EmulatorSettings], settings: PoolSettings = FAST_POOL
) -> Iterator[tuple[ModemPool, list[EmulatedTransport]]]:
    origin = (time.monotonic(), datetime.now(UTC))
    transports = [EmulatedTransport(EmulatedModem(s, origin=origin)) for s in modems]
    links = [ModemLink(s.name, t, FAST_MODEM) for s, t in zip(modems, transports, strict=True)]
    pool = ModemPool(links, settings)
    try:
        yield pool, transports
    finally:
        pool.close()


def test_a_permanent_error_fails_the_recipient_with_the_reason() -> None:
    rules = (FailureRule("+15559*", 1),)
    with emulated_pool([EmulatorSettings("m0", rules=rules)]) as (pool, transports):
        pool.start()
        result = pool.send(message("+15559000000"), label="sms/+15559000000/1", timeout=20)
    assert result.outcome is PoolOutcome.FAILED and not result.retryable
    assert result.error is not None and result.error.code == 1
    assert "unassigned" in result.reason and "permanent" in result.reason
    assert result.label == "sms/+15559000000/1"
    assert len(transports[0].records) == 1  # not retried


def test_a_temporary_error_is_retried_and_then_succeeds() -> None:
    rules = (FailureRule("+15558*", 42, attempts=2),)
    with emulated_pool([EmulatorSettings("m0", rules=rules)]) as (pool, transports):
        pool.start()
        result = pool.send(message("+15558000000"), timeout=20)
    assert result.outcome is PoolOutcome.SENT
    assert [a.outcome for a in result.attempts] == [
        SendOutcome.FAILED,
        SendOutcome.FAILED,
        SendOutcome.SENT,
    ]
    assert [r.result for r in transports[0].records] == [
        "+CMS ERROR: 42",
        "+CMS ERROR: 42",
        "accepted",
    ]


def test_a_temporary_error_that_persists_ends_as_retry_later() -> None:
    rules = (FailureRule("*", 41),)
    settings = PoolSettings(retry_delay=0.01, temporary_retries=2, idle_poll=0.02)
    with emulated_pool([EmulatorSettings("m0", rules=rules)], settings) as (pool, transports):
        pool.start()
        result = pool.send(message("+15551110000"), timeout=20)
    assert result.outcome is PoolOutcome.RETRY_LATER and result.retryable
    assert result.error is not None and result.error.code == 41
    assert len(result.attempts) == 3 and len(transports[0].records) == 3


def test_all_segments_of_a_message_go_through_one_modem_in_order() -> None:
    plan = plan_segments("Flood warning for the Lower Valley. " * 12)
    pdus = encode_message("+15551112222", plan, concat_reference=77)
    assert len(pdus) > 2
    modems = [EmulatorSettings(f"m{i}") for i in range(3)]
    with emulated_pool(modems) as (pool, transports):
        pool.start()
        result = pool.send(pdus, timeout=20)
    assert result.outcome is PoolOutcome.SENT
    carriers = [t for t in transports if t.records]
    assert len(carriers) == 1 and carriers[0].modem.settings.name == result.modem
    sequences = [decode_submit(bytes.fromhex(r.pdu)).concat for r in carriers[0].records]
    assert [c.sequence for c in sequences if c] == list(range(1, len(pdus) + 1))
    assert result.message_references == tuple(range(len(pdus)))


def test_a_modem_vanishing_mid_message_resends_the_whole_message_and_counts_duplicates() -> None:
    plan = plan_segments("Tsunami warning: move to high ground immediately. " * 8)
    pdus = encode_message("+15553334444", plan, concat_reference=9)
    assert len(pdus) == 3
    modems = [EmulatorSettings("m0", vanish_after=2), EmulatorSettings("m1")]
    with emulated_pool(modems) as (pool, transports):
        transports[1].unplug()  # m1 comes back only once m0 has vanished

        def on_record(record: PduRecord) -> None:
            if record.result == "vanished":
                transports[1].replug()

        transports[0].on_record = on_record
        pool.start()
        result = pool.send(pdus, timeout=20)
    assert result.outcome is PoolOutcome.SENT and result.modem == "m1"
    assert [r.result for r in transports[0].records] == ["accepted", "vanished"]
    assert len(transports[1].records) == 3
    # segment 1 went out twice for sure, segment 2 perhaps: both counted
    assert result.possible_duplicates == 2
    outcomes = [(a.modem, a.outcome) for a in result.attempts]
    assert outcomes[:2] == [("m0", SendOutcome.SENT), ("m0", SendOutcome.UNKNOWN)]


def test_an_unknown_outcome_can_be_left_to_the_caller() -> None:
    settings = PoolSettings(resend_unknown=False, idle_poll=0.02)
    with emulated_pool([EmulatorSettings("m0", vanish_after=1)], settings) as (pool, _):
        pool.start()
        result = pool.send(message("+15551230000"), timeout=20)
    assert result.outcome is PoolOutcome.UNKNOWN and result.retryable
    assert "after the PDU was written" in result.reason


def test_a_modem_without_network_is_avoided() -> None:
    modems = [EmulatorSettings("m0"), EmulatorSettings("m1")]
    with emulated_pool(modems) as (pool, transports):
        transports[0].modem.set_network(False, time.monotonic())
        pool.start()
        results = [pool.submit(message(n)) for n in numbers(6)]
        assert all(f.result(20).outcome is PoolOutcome.SENT for f in results)
        assert not transports[0].records and len(transports[1].records) == 6
        health = {s.name: s.health for s in pool.status()}
    assert health["m0"] in (ModemHealth.DOWN, ModemHealth.OPENING, ModemHealth.NO_NETWORK)


def test_network_lost_while_running_moves_the_messages_to_another_modem() -> None:
    modems = [EmulatorSettings("m0"), EmulatorSettings("m1")]
    with emulated_pool(modems) as (pool, transports):
        pool.start()
        assert pool.wait_ready(5, count=2) == 2
        transports[0].modem.set_network(False, time.monotonic())  # +CREG: 2 or +CMS ERROR: 331
        results = [pool.submit(message(n)).result(20) for n in numbers(4)]
    assert all(r.outcome is PoolOutcome.SENT and r.modem == "m1" for r in results)


def test_with_every_modem_gone_a_message_waits_then_says_retry_later() -> None:
    settings = PoolSettings(wait_timeout=0.5, reopen_interval=0.1, idle_poll=0.02)
    with emulated_pool([EmulatorSettings("m0"), EmulatorSettings("m1")], settings) as (
        pool,
        transports,
    ):
        for transport in transports:
            transport.unplug()
        pool.start()
        started = time.monotonic()
        result = pool.send(message("+15551230000"), timeout=20)
    assert 0.45 <= time.monotonic() - started < 5
    assert result.outcome is PoolOutcome.RETRY_LATER
    assert "no modem could take the message within 0.5 s" in result.reason
    assert "m0: down" in result.reason and "unplugged" in result.reason


def test_closing_the_pool_answers_every_waiting_message() -> None:
    with emulated_pool([EmulatorSettings("m0")]) as (pool, transports):
        transports[0].unplug()
        pool.start()
        futures = [pool.submit(message(n)) for n in numbers(3)]
        pool.close()
        results = [f.result(5) for f in futures]
        late = pool.submit(message("+15550000000")).result(1)
    assert all(r.outcome is PoolOutcome.RETRY_LATER and "closed" in r.reason for r in results)
    assert late.outcome is PoolOutcome.RETRY_LATER


def test_a_message_cancelled_before_a_modem_took_it_is_never_sent() -> None:
    with emulated_pool([EmulatorSettings("m0")]) as (pool, transports):
        transports[0].unplug()
        pool.start()
        futures = [pool.submit(message(n)) for n in numbers(3)]
        assert futures[0].cancel() and futures[2].cancel()
        transports[0].replug()
        assert futures[1].result(20).outcome is PoolOutcome.SENT
        assert not futures[1].cancel()  # once taken, it is the pool's to finish
    assert [r.destination for r in transports[0].records] == [numbers(3)[1]]


def test_pool_refuses_bad_setups() -> None:
    with pytest.raises(ValueError, match="at least one modem"):
        ModemPool([])
    origin = (0.0, datetime.now(UTC))
    link = ModemLink("x", EmulatedTransport(EmulatedModem(EmulatorSettings(), origin=origin)))
    twin = ModemLink("x", EmulatedTransport(EmulatedModem(EmulatorSettings(), origin=origin)))
    with pytest.raises(ValueError, match="names must differ"):
        ModemPool([link, twin])
    with pytest.raises(ValueError, match="at least one PDU"):
        ModemPool([link]).submit([])


# --- through real ptys -----------------------------------------------------------------------


@contextmanager
def pty_pool(
    tmp_path: Path, modems: Sequence[EmulatorSettings], settings: PoolSettings
) -> Iterator[tuple[ModemPool, EmulatorServer, Path]]:
    record = tmp_path / "pdus.jsonl"
    server = EmulatorServer(modems, pty_dir=tmp_path / "dev", record=record).start()
    links = [
        ModemLink(s.name, SerialTransport(str(tmp_path / "dev" / s.name)), FAST_MODEM)
        for s in modems
    ]
    pool = ModemPool(links, settings)
    try:
        yield pool, server, record
    finally:
        pool.close()
        server.close()


def read_record(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.integration
def test_per_modem_interval_is_respected_and_work_is_spread(tmp_path: Path) -> None:
    interval = 0.1
    modems = [EmulatorSettings(f"modem{i}", delay=0.02) for i in range(3)]
    settings = PoolSettings(min_interval=interval, idle_poll=0.02, reopen_interval=0.2)
    with pty_pool(tmp_path, modems, settings) as (pool, _server, record):
        pool.start()
        assert pool.wait_ready(10, count=3) == 3
        started = time.monotonic()
        futures = [pool.submit(message(n)) for n in numbers(30)]
        results = [f.result(30) for f in futures]
        elapsed = time.monotonic() - started
    assert all(r.outcome is PoolOutcome.SENT for r in results)
    lines = read_record(record)
    assert sorted(str(line["destination"]) for line in lines) == numbers(30)
    by_modem: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        by_modem[str(line["modem"])].append(float(str(line["elapsed"])))
    assert set(by_modem) == {"modem0", "modem1", "modem2"}
    for modem, times in by_modem.items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # the emulator may note a PDU a little late under load, never early
        assert min(gaps) >= interval - 0.02, f"{modem} sent two PDUs {min(gaps):.3f} s apart"
    assert elapsed >= (max(len(t) for t in by_modem.values()) - 1) * interval
    assert elapsed < 30 * interval  # three modems worked in parallel


def summarise(results: list[PoolResult], record: Path) -> tuple[int, int, Counter[str]]:
    destinations = Counter(str(line["destination"]) for line in read_record(record))
    extra = sum(count - 1 for count in destinations.values())
    reported = sum(r.possible_duplicates for r in results)
    return extra, reported, destinations


@pytest.mark.integration
def test_a_modem_vanishing_after_a_pdu_loses_nothing_and_the_duplicate_is_counted(
    tmp_path: Path,
) -> None:
    modems = [
        EmulatorSettings("modem0", delay=0.02),
        EmulatorSettings("modem1", delay=0.02, vanish_after=3),
        EmulatorSettings("modem2", delay=0.02),
    ]
    settings = PoolSettings(min_interval=0.03, idle_poll=0.02, reopen_interval=60)
    with pty_pool(tmp_path, modems, settings) as (pool, _server, record):
        pool.start()
        assert pool.wait_ready(10, count=3) == 3
        futures = [pool.submit(message(n), label=n) for n in numbers(24)]
        results = [f.result(30) for f in futures]
        status = {s.name: s for s in pool.status()}
    assert all(r.outcome is PoolOutcome.SENT for r in results), [r.reason for r in results]
    extra, reported, destinations = summarise(results, record)
    assert set(destinations) == set(numbers(24))  # nothing lost
    assert reported == 1 and extra <= reported
    [resent] = [r for r in results if r.possible_duplicates]
    first = resent.attempts[0]
    assert (first.modem, first.outcome) == ("modem1", SendOutcome.UNKNOWN)
    assert resent.modem != "modem1"
    vanished = [line for line in read_record(record) if line["result"] == "vanished"]
    assert [line["destination"] for line in vanished] == [resent.label]
    assert status["modem1"].health is ModemHealth.DOWN and status["modem1"].unknown == 1


@pytest.mark.integration
def test_unplugging_mid_batch_and_replugging_loses_nothing(tmp_path: Path) -> None:
    modems = [EmulatorSettings(f"modem{i}", delay=0.03) for i in range(3)]
    settings = PoolSettings(min_interval=0.02, idle_poll=0.02, reopen_interval=0.1)
    with pty_pool(tmp_path, modems, settings) as (pool, server, record):
        pool.start()
        assert pool.wait_ready(10, count=3) == 3
        futures = [pool.submit(message(n)) for n in numbers(60)]
        while sum(f.done() for f in futures) < 10:
            time.sleep(0.005)
        server.unplug(1)
        while sum(f.done() for f in futures) < 40:
            time.sleep(0.005)
        server.replug(1)
        results = [f.result(30) for f in futures]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if {s.name: s.health for s in pool.status()}["modem1"] is ModemHealth.READY:
                break
            time.sleep(0.02)
        health = {s.name: s.health for s in pool.status()}
    assert all(r.outcome is PoolOutcome.SENT for r in results)
    extra, reported, destinations = summarise(results, record)
    assert set(destinations) == set(numbers(60))
    assert extra <= reported  # every duplicate that happened was reported
    assert health["modem1"] is ModemHealth.READY  # reopened after the replug


@pytest.mark.integration
def test_the_pool_keeps_a_modem_thread_per_link(tmp_path: Path) -> None:
    modems = [EmulatorSettings("modem0")]
    with pty_pool(tmp_path, modems, FAST_POOL) as (pool, _server, _record):
        pool.start()
        pool.wait_ready(10)
        names = {t.name for t in threading.enumerate()}
        assert "modem-modem0" in names
    assert "modem-modem0" not in {t.name for t in threading.enumerate()}
