"""Serial numbers (TS 23.041 9.4.1.2.1): the 16-bit layout, the update wrap, and the allocator
that keeps a message code per alert chain across updates, restarts and concurrent callers
(requirement rows CB-15, CB-16)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cap.authoring import alert_from_description, cancel_alert, update_alert
from cap.model import Alert
from gateways.cell_broadcast.serial import (
    GeoScope,
    SerialAllocator,
    SerialExhaustedError,
    SerialNumber,
    SerialNumberError,
    chain_key,
)

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def _alert(n: int = 0) -> Alert:
    return alert_from_description(
        {
            "sender": "alerts@met.example.gov",
            "identifier": f"flood-{n}",
            "info": [
                {
                    "category": ["Met"],
                    "event": "Flood Warning",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Likely",
                    "headline": "Flood warning",
                }
            ],
        },
        now=NOW + timedelta(minutes=n),
    )


def _update(earlier: Alert, minutes: int) -> Alert:
    return update_alert(
        earlier,
        {"info_changes": {"headline": f"Flood warning, update {minutes}"}},
        now=NOW + timedelta(minutes=minutes),
        identifier=f"{earlier.identifier}-u{minutes}",
    )


# --- the value -----------------------------------------------------------------------------


def test_layout_is_gs_then_message_code_then_update_number() -> None:
    # 01 | 0001111011 | 0100: PLMN wide, code 123, update 4 (what tshark decodes, see
    # test_tshark_cbs.py).
    serial = SerialNumber(GeoScope.PLMN_WIDE, 123, 4)
    assert serial.encode() == 0b01_0001111011_0100 == 0x47B4
    assert serial.to_bytes() == b"\x47\xb4"
    assert SerialNumber(GeoScope.CELL_WIDE, 1023, 15).encode() == 0xFFFF
    assert SerialNumber(GeoScope.CELL_WIDE_IMMEDIATE, 0, 0).encode() == 0


@given(st.integers(0, 0xFFFF))
def test_decode_encode_round_trip(value: int) -> None:
    serial = SerialNumber.decode(value)
    assert serial.encode() == value
    assert SerialNumber.decode(serial.encode()) == serial


def test_next_update_wraps_15_to_0_and_keeps_the_rest() -> None:
    serial = SerialNumber(GeoScope.LOCATION_AREA_WIDE, 77, 14)
    assert serial.next_update() == SerialNumber(GeoScope.LOCATION_AREA_WIDE, 77, 15)
    assert serial.next_update().next_update() == SerialNumber(GeoScope.LOCATION_AREA_WIDE, 77, 0)


@pytest.mark.parametrize(
    ("gs", "code", "update", "words"),
    [
        (4, 0, 0, "0..3"),
        (1, 1024, 0, "0..1023"),
        (1, -1, 0, "0..1023"),
        (1, 0, 16, "0..15"),
    ],
)
def test_fields_out_of_range_are_refused(gs: int, code: int, update: int, words: str) -> None:
    with pytest.raises(SerialNumberError, match=words):
        SerialNumber(gs, code, update)  # type: ignore[arg-type]


# --- the allocator -------------------------------------------------------------------------


def test_chain_key_is_the_first_reference_else_the_alert(tmp_path: Path) -> None:
    first = _alert()
    second = _update(first, 10)
    third = _update(second, 20)
    assert chain_key(first) == chain_key(second) == chain_key(third)
    assert chain_key(_alert(1)) != chain_key(first)


def test_same_alert_gets_the_same_serial_again(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        alert = _alert()
        first = serials.allocate(alert, 4371, slot="en/0")
        again = serials.allocate(alert, 4371, slot="en/0")
    assert first == again
    assert first.previous is None
    assert first.serial.update_number == 0
    assert first.serial.geo_scope is GeoScope.PLMN_WIDE


def test_update_bumps_update_number_and_keeps_message_code(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        alert = _alert()
        first = serials.allocate(alert, 4371, slot="en/0")
        update = _update(alert, 10)
        second = serials.allocate(update, 4371, slot="en/0")
        assert second.serial.message_code == first.serial.message_code
        assert second.serial.update_number == 1
        assert second.previous == first.serial
        # the same update prepared again (after a crash) does not bump twice
        assert serials.allocate(update, 4371, slot="en/0") == second


def test_sixteen_updates_wrap_the_update_number(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        alert = _alert()
        numbers = [serials.allocate(alert, 4371).serial.update_number]
        for minute in range(1, 18):
            alert = _update(alert, minute)
            numbers.append(serials.allocate(alert, 4371).serial.update_number)
    assert numbers == [*range(16), 0, 1]


def test_active_chains_never_share_a_message_code(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        codes = [serials.allocate(_alert(n), 4371).serial.message_code for n in range(50)]
        assert len(set(codes)) == 50
        # another identifier has its own codes; another slot of one alert its own code
        other = serials.allocate(_alert(0), 4384, slot="fr/0").serial.message_code
        assert other == 0
        fr = serials.allocate(_alert(0), 4371, slot="fr/0").serial.message_code
        assert fr not in codes


def test_released_code_is_not_reused_until_the_others_were(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        alert = _alert(0)
        code = serials.allocate(alert, 4371).serial.message_code
        cancel = cancel_alert(alert, now=NOW + timedelta(hours=1))
        assert [a.serial.message_code for a in serials.active(cancel)] == [code]
        released = serials.release(cancel)
        assert [a.message_id for a in released] == [4371]
        assert serials.active(cancel) == ()
        following = [serials.allocate(_alert(n), 4371).serial.message_code for n in range(1, 5)]
        assert code not in following


def test_restart_keeps_chains_and_codes(tmp_path: Path) -> None:
    path = tmp_path / "serials.db"
    alert = _alert(0)
    with SerialAllocator(path) as serials:
        first = serials.allocate(alert, 4371, slot="en/0")
        other = serials.allocate(_alert(1), 4371, slot="en/0")
    with SerialAllocator(path) as serials:  # a restart
        assert serials.allocate(alert, 4371, slot="en/0") == first
        update = serials.allocate(_update(alert, 5), 4371, slot="en/0")
        assert update.serial == SerialNumber(GeoScope.PLMN_WIDE, first.serial.message_code, 1)
        new = serials.allocate(_alert(2), 4371, slot="en/0")
        assert new.serial.message_code not in (
            first.serial.message_code,
            other.serial.message_code,
        )


def test_all_codes_active_is_refused_with_the_reason(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        alert = _alert(0)
        for n in range(1024):
            serials.allocate(alert, 4380, slot=f"en/{n}")
        with pytest.raises(SerialExhaustedError, match="all 1024 message codes of message"):
            serials.allocate(alert, 4380, slot="en/1024")
        assert serials.release_message(4380, SerialNumber(GeoScope.PLMN_WIDE, 7, 0))
        assert serials.allocate(alert, 4380, slot="en/1024").serial.message_code == 7


def test_two_allocators_on_one_file_do_not_collide(tmp_path: Path) -> None:
    path = tmp_path / "serials.db"
    SerialAllocator(path).close()  # create the schema once
    codes: list[int] = []
    lock = threading.Lock()

    def work(offset: int) -> None:
        with SerialAllocator(path) as serials:
            for n in range(20):
                code = serials.allocate(_alert(offset + n), 4372).serial.message_code
                with lock:
                    codes.append(code)

    threads = [threading.Thread(target=work, args=(100 * k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(codes) == 60
    assert len(set(codes)) == 60


def test_geo_scope_is_recorded_per_allocation(tmp_path: Path) -> None:
    with SerialAllocator(tmp_path / "serials.db") as serials:
        got = serials.allocate(_alert(), 4371, geo_scope=GeoScope.CELL_WIDE)
    assert got.serial.geo_scope is GeoScope.CELL_WIDE
    assert got.serial.encode() >> 14 == 3
