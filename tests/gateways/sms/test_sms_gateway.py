"""The SMS gateway end to end: recipients from a directory, texts per language, PDUs through
real ptys to emulated modems, checked with an independent decoder (python-gsmmodem)."""

from __future__ import annotations

import itertools
import time
import warnings
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cap.authoring import alert_from_description
from cap.model import Alert
from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    LateReceipt,
    MessagePurpose,
    PermanentGatewayError,
    ReceiptStatus,
)
from gateways.sms.emulator import EmulatorServer, EmulatorSettings, FailureRule, PduRecord
from gateways.sms.gateway import SmsGateway
from gateways.sms.gsm7 import DataCoding
from gateways.sms.pdu import decode_submit

with warnings.catch_warnings():
    warnings.simplefilter("ignore", SyntaxWarning)  # python-gsmmodem's modem.py, not its pdu.py
    import gsmmodem.pdu

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
LANGUAGES = {
    "en": ("Flood warning for the Lower Valley", "Move to higher ground now. Do not drive "
           "through flood water; 30 cm of moving water can sweep a car away."),
    "fr": ("Alerte inondation pour la basse vallée", "Gagnez immédiatement les hauteurs. Ne "
           "traversez jamais une route inondée en voiture."),
    "ar": ("تحذير من الفيضانات في الوادي السفلي", "انتقلوا فوراً إلى مكان مرتفع. لا تقودوا "
           "السيارات عبر مياه الفيضانات."),
    # with "." rather than the danda, which TS 23.038's Bengali tables lack (it would force UCS-2)
    "bn": ("নিম্ন উপত্যকায় বন্যা সতর্কতা", "এখনই উঁচু জায়গায় যান. বন্যার পানির মধ্য দিয়ে গাড়ি "
           "চালাবেন না."),
}  # fmt: skip


def make_alert(**extra: Any) -> Alert:
    infos = [
        {
            "language": language,
            "category": "Met",
            "event": "Flood",
            "urgency": "Immediate",
            "severity": "Severe",
            "certainty": "Observed",
            "expires": NOW + timedelta(hours=6),
            "headline": headline,
            "instruction": instruction,
            "web": "https://met.example.gov/w/42",
            "areas": [{"area_desc": "Lower Valley", "geocodes": [["SAME", "006109"]]}],
        }
        for language, (headline, instruction) in LANGUAGES.items()
    ]
    return alert_from_description({"sender": "met@example.gov", "info": infos, **extra}, now=NOW)


def envelope(alert: Alert) -> AlertEnvelope:
    return AlertEnvelope(1, alert.identity, b"<alert/>", alert)


def write_directory(path: Path, count: int) -> dict[str, str]:
    """``count`` recipients in the area, languages in turn; returns number -> language."""
    languages = list(LANGUAGES)
    numbers = {f"+2547{n:08d}": languages[n % len(languages)] for n in range(count)}
    lines = ["number,language,geocodes,name"]
    lines += [
        f"{number},{lang},SAME=006109,r{n}" for n, (number, lang) in enumerate(numbers.items())
    ]
    lines.append("+447700900999,en,SAME=001001,outside the area")
    path.write_text("\n".join(lines) + "\n")
    return numbers


def independent_reading(records: list[PduRecord]) -> dict[str, list[str]]:
    """Number -> whole texts, reassembled from the PDUs by python-gsmmodem's decoder."""
    parts: dict[tuple[str, int], dict[int, str]] = defaultdict(dict)
    totals: dict[tuple[str, int], int] = {}
    single: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record.result != "accepted":
            continue
        ours = decode_submit(bytes.fromhex(record.pdu))
        theirs = gsmmodem.pdu.decodeSmsPdu(record.pdu)
        assert theirs["number"] == ours.destination == record.destination
        national = ours.encoding.locking_shift or ours.encoding.single_shift
        # python-gsmmodem knows no national tables: for those it checks all but the letters
        text = ours.text if national else theirs["text"]
        if not national and ours.encoding.coding is DataCoding.GSM7:
            assert theirs["text"].rstrip("@") == ours.text.rstrip("@")
        concat = [e for e in theirs.get("udh") or [] if hasattr(e, "reference")]
        if not concat:
            single[ours.destination].append(text)
            continue
        (element,) = concat
        assert ours.concat is not None and element.reference == ours.concat.reference
        key = (ours.destination, element.reference)
        parts[key][element.number] = text
        totals[key] = element.parts
    whole: dict[str, list[str]] = defaultdict(list, {k: list(v) for k, v in single.items()})
    for (number, _ref), pieces in parts.items():
        total = totals[(number, _ref)]
        assert sorted(pieces) == list(range(1, total + 1)), f"{number}: missing segments"
        whole[number].append("".join(pieces[i] for i in range(1, total + 1)))
    return whole


@pytest.fixture
def emulator(tmp_path: Path) -> Any:
    def start(modems: list[EmulatorSettings]) -> EmulatorServer:
        server = EmulatorServer(modems, pty_dir=tmp_path / "modems", record=tmp_path / "pdus.jsonl")
        started.append(server.start())
        return server

    started: list[EmulatorServer] = []
    yield start
    for server in started:
        server.close()


def gateway_for(tmp_path: Path, server: EmulatorServer, **options: Any) -> SmsGateway:
    return SmsGateway(
        "sms",
        {
            "modems": server.addresses,
            "recipients": str(tmp_path / "recipients.csv"),
            "min_interval": 0.05,
            "register_timeout": 5.0,
            **options,
        },
    )


def test_four_languages_reach_200_recipients_through_3_modems(
    tmp_path: Path, emulator: Any
) -> None:
    numbers = write_directory(tmp_path / "recipients.csv", 200)
    server = emulator([EmulatorSettings(name=f"m{i}", delay=0.01) for i in range(3)])
    gateway = gateway_for(tmp_path, server)
    try:
        alert = make_alert()
        messages = gateway.prepare(envelope(alert), MessagePurpose.ALERT)
        assert sorted(m.attributes["number"] for m in messages) == sorted(numbers)
        outcomes = list(gateway.deliver_batch(messages))
    finally:
        gateway.close()
    assert all(o.receipt is not None and o.receipt.status is ReceiptStatus.SENT for o in outcomes)
    expected = {m.attributes["number"]: m.payload.decode() for m in messages}
    received = independent_reading(server.recorded())
    assert set(received) == set(numbers)
    for number, texts in received.items():
        assert texts == [expected[number]], number
        headline = LANGUAGES[numbers[number]][0]
        assert texts[0].startswith(headline)
    encodings = {decode_submit(bytes.fromhex(r.pdu)).encoding for r in server.recorded()}
    assert {e.coding for e in encodings} == {DataCoding.GSM7, DataCoding.UCS2}
    assert any(e.locking_shift is not None for e in encodings)  # Bengali's own table
    # every modem worked, and none faster than its minimum interval
    by_modem: dict[str, list[float]] = defaultdict(list)
    for record in server.recorded():
        by_modem[record.modem].append(record.elapsed)
    assert set(by_modem) == {"m0", "m1", "m2"}
    for modem, times in by_modem.items():
        # The emulator stamps a PDU when its reader thread gets it, a few ms after the modem
        # link wrote it: one gap may look short by that much, the average cannot.
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert sum(gaps) / len(gaps) >= 0.05, f"{modem} sent faster than one PDU per 0.05 s"
        assert min(gaps) >= 0.05 - 0.02, f"{modem} sent two PDUs {min(gaps):.3f} s apart"


def test_an_unplugged_modem_loses_nothing_and_duplicates_are_counted(
    tmp_path: Path, emulator: Any
) -> None:
    numbers = write_directory(tmp_path / "recipients.csv", 40)
    server = emulator(
        [
            EmulatorSettings(name="m0", delay=0.01),
            EmulatorSettings(name="m1", delay=0.01, vanish_after=5),  # mid-batch, mid-send
            EmulatorSettings(name="m2", delay=0.01),
        ]
    )
    gateway = gateway_for(tmp_path, server)
    try:
        messages = gateway.prepare(envelope(make_alert()), MessagePurpose.ALERT)
        outcomes = list(gateway.deliver_batch(messages))
    finally:
        gateway.close()
    assert len(outcomes) == len(numbers)
    assert all(o.receipt is not None for o in outcomes), [str(o.error) for o in outcomes]
    received = independent_reading(server.recorded())
    assert set(received) == set(numbers)  # nothing lost
    vanished = [r for r in server.recorded() if r.result == "vanished"]
    assert len(vanished) == 1 and vanished[0].modem == "m1"
    notes = [o.receipt.detail for o in outcomes if o.receipt and o.receipt.detail]
    assert gateway.possible_duplicates >= 1
    assert any("possible duplicate" in n for n in notes)


def test_permanent_errors_fail_the_recipient_temporary_ones_are_retried(
    tmp_path: Path, emulator: Any
) -> None:
    write_directory(tmp_path / "recipients.csv", 8)
    server = emulator(
        [
            EmulatorSettings(
                name="m0",
                rules=(
                    FailureRule("+254700000001", code=21),  # short message transfer rejected
                    FailureRule("+254700000002", code=42, attempts=1),  # congestion, once
                ),
            )
        ]
    )
    gateway = gateway_for(tmp_path, server)
    try:
        messages = gateway.prepare(envelope(make_alert()), MessagePurpose.ALERT)
        outcomes = {o.message.attributes["number"]: o for o in gateway.deliver_batch(messages)}
    finally:
        gateway.close()
    refused = outcomes["+254700000001"]
    assert isinstance(refused.error, PermanentGatewayError)
    assert "+254700000001" in str(refused.error)
    assert outcomes["+254700000002"].receipt is not None
    assert sum(o.receipt is not None for o in outcomes.values()) == 7


def test_no_recipient_in_the_area_is_said_plainly(tmp_path: Path) -> None:
    (tmp_path / "recipients.csv").write_text("number,geocodes\n+447700900001,SAME=001001\n")
    gateway = SmsGateway(
        "sms", {"modems": ["/dev/null-modem"], "recipients": str(tmp_path / "recipients.csv")}
    )
    with pytest.raises(CannotCarryError, match=r"no recipient of .* is in the alert's area"):
        gateway.prepare(envelope(make_alert()), MessagePurpose.ALERT)


def test_status_reports_say_which_phones_have_the_text(tmp_path: Path, emulator: Any) -> None:
    numbers = write_directory(tmp_path / "recipients.csv", 12)
    off = "+254700000003"  # this phone stays off: its report says the network gave up
    server = emulator(
        [
            EmulatorSettings(name=f"m{i}", delay=0.01, report_delay=0.05, undeliverable=(off,))
            for i in range(2)
        ]
    )
    gateway = gateway_for(tmp_path, server)
    try:
        messages = gateway.prepare(envelope(make_alert()), MessagePurpose.ALERT)
        outcomes = list(gateway.deliver_batch(messages))
        sent = {o.receipt.reference: o.message.attributes["number"] for o in outcomes if o.receipt}
        assert len(sent) == len(numbers)
        reports: list[LateReceipt] = []
        deadline = time.monotonic() + 15
        while len(reports) < len(sent) and time.monotonic() < deadline:
            reports.extend(gateway.take_reports())
            time.sleep(0.05)
    finally:
        gateway.close()
    by_number = {sent[r.reference]: r for r in reports}
    assert len(reports) == len(sent) and set(by_number) == set(numbers)  # each once
    assert not by_number[off].delivered
    assert "validity period expired" in by_number[off].detail
    assert all(r.delivered for n, r in by_number.items() if n != off)
    # A long text goes in several segments: it counts as delivered only once all of them are.
    multi = [o for o in outcomes if o.receipt and "," in (o.receipt.reference or "")]
    assert multi, "expected some multi-segment texts"
