"""The ``aprs`` channel: bulletins per alert chain, withdrawals under the same names, and the
frames reaching a real decoder (direwolf's atest) through our own modulator."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cap.authoring import alert_from_description, cancel_alert, update_alert
from cap.model import Alert
from gateways.base import AlertEnvelope, GatewayConfigError, MessagePurpose
from gateways.radio.aprs_gateway import AprsGateway, bulletin_group
from gateways.radio.ax25 import encode_frame, parse_tnc2
from gateways.radio.kiss_transport import KissTcpTransport
from tests.gateways.radio.test_direwolf import Direwolf, _atest, _raw_to_wav, direwolf

__all__ = ["direwolf"]  # the fixture, imported for these tests

NOW = datetime.now(UTC).replace(microsecond=0)


def flood() -> Alert:
    return alert_from_description(
        {
            "sender": "alerts@met.example.gov",
            "info": [
                {
                    "language": "ar",
                    "category": "Met",
                    "event": "فيضان",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Observed",
                    "headline": "تحذير من الفيضانات",
                    "expires": NOW + timedelta(hours=6),
                    "areas": [{"area_desc": "الوادي", "geocodes": [["SAME", "048439"]]}],
                },
                {
                    "language": "en",
                    "category": "Met",
                    "event": "Flood Warning",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Observed",
                    "headline": "Flood warning for the Lower Valley",
                    "instruction": "Move to higher ground now.",
                    "expires": NOW + timedelta(hours=6),
                    "areas": [{"area_desc": "Lower Valley", "geocodes": [["SAME", "048439"]]}],
                },
            ],
        },
        now=NOW,
    )


def envelope(alert: Alert, alert_id: int = 1) -> AlertEnvelope:
    return AlertEnvelope(alert_id, alert.identity, b"", alert)


def addressees(gateway: AprsGateway, alert: Alert, purpose: MessagePurpose) -> list[str]:
    (message,) = gateway.prepare(envelope(alert), purpose)
    return [parse_tnc2(line).info.decode()[1:10] for line in message.payload.decode().splitlines()]


def test_an_update_and_a_withdrawal_speak_under_the_alerts_bulletin_names(tmp_path: Path) -> None:
    gateway = AprsGateway("aprs", {"callsign": "N0CALL-10", "wav_folder": str(tmp_path)})
    warning = flood()
    update = update_alert(warning, {"info_changes": {"severity": "Extreme"}}, now=NOW)
    cancel = cancel_alert(update, now=NOW, note="River has fallen")
    group = bulletin_group(warning)
    assert bulletin_group(update) == bulletin_group(cancel) == group
    first = addressees(gateway, warning, MessagePurpose.ALERT)
    assert first and all(a.strip().endswith(group) and a.startswith("BLN") for a in first)
    assert addressees(gateway, update, MessagePurpose.ALERT) == first
    withdrawn = gateway.prepare(envelope(update), MessagePurpose.WITHDRAW)[0].payload.decode()
    assert "CANCELLED" in withdrawn
    assert [parse_tnc2(x).info.decode()[1:10] for x in withdrawn.splitlines()] == first
    # The Arabic info block cannot go as APRS text: the English one is sent.
    assert (
        "Flood warning"
        in gateway.prepare(envelope(warning), MessagePurpose.ALERT)[0].payload.decode()
    )


def test_a_second_alert_gets_other_bulletin_names() -> None:
    one, two = flood(), flood()
    assert bulletin_group(one) != bulletin_group(two)


def test_bad_options_say_what_to_write() -> None:
    with pytest.raises(GatewayConfigError, match="callsign"):
        AprsGateway("aprs", {"callsign": "not a call", "wav_folder": "/tmp"})
    with pytest.raises(GatewayConfigError, match="say where frames go"):
        AprsGateway("aprs", {"callsign": "N0CALL-10"})


@pytest.mark.integration
def test_our_audio_decodes_with_atest(tmp_path: Path) -> None:
    gateway = AprsGateway(
        "aprs", {"callsign": "N0CALL-10", "wav_folder": str(tmp_path / "tx"), "lead_in": 0}
    )
    (message,) = gateway.prepare(envelope(flood()), MessagePurpose.ALERT)
    gateway.deliver(message)
    (wav,) = sorted((tmp_path / "tx").glob("*.wav"))
    expected = [encode_frame(parse_tnc2(x)) for x in message.payload.decode().splitlines()]
    assert _atest(wav).frames == expected


@pytest.mark.integration
def test_direwolf_transmits_the_channels_bulletins(direwolf: Direwolf, tmp_path: Path) -> None:
    gateway = AprsGateway(
        "aprs", {"callsign": "N0CALL-10", "kiss": f"tcp:127.0.0.1:{direwolf.kiss_port}"}
    )
    try:
        (message,) = gateway.prepare(envelope(flood()), MessagePurpose.ALERT)
        gateway.deliver(message)
        expected = sorted(
            encode_frame(parse_tnc2(x)) for x in message.payload.decode().splitlines()
        )
        wav = tmp_path / "tx.wav"
        deadline = time.monotonic() + 20
        while True:
            _raw_to_wav(direwolf.tx_raw.read_bytes() if direwolf.tx_raw.exists() else b"", wav,
                        direwolf.rate)  # fmt: skip
            heard = sorted(_atest(wav).frames)
            if heard == expected or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert heard == expected
    finally:
        gateway.close()


def test_kiss_transport_type_is_chosen_from_the_option() -> None:
    gateway = AprsGateway("aprs", {"callsign": "N0CALL-10", "kiss": "tcp:127.0.0.1:9"})
    assert isinstance(gateway.kiss, KissTcpTransport)
