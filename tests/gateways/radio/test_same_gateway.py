"""The ``same`` channel: a real corpus alert through prepare and deliver, into the WAV file a
station would play, decoded by multimon-ng; what SAME cannot carry is refused plainly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from cap.authoring import cancel_alert
from cap.parsing import parse_alert
from gateways.base import AlertEnvelope, CannotCarryError, GatewayConfigError, MessagePurpose
from gateways.radio.same_gateway import SameGateway
from tests.gateways.radio.test_same_audio import multimon_eas


class QuietEngine:
    """A speech engine that says a short tone instead of words (the words are checked in the
    payload; espeak-ng itself is tested in test_speech)."""

    def voices(self) -> dict[str, str]:
        return {"en": "en", "en-us": "en-us"}

    def synthesize(self, text: str, voice: str) -> tuple[NDArray[np.float32], int]:
        t = np.arange(22050) / 22050
        return (0.3 * np.sin(2 * np.pi * 700 * t)).astype(np.float32), 22050


def envelope_of(path: Path) -> AlertEnvelope:
    alert = parse_alert(path.read_bytes()).alert
    return AlertEnvelope(1, alert.identity, path.read_bytes(), alert)


def gateway(tmp_path: Path, **options: object) -> SameGateway:
    return SameGateway(
        "same",
        {"station_id": "KXYZ/NWS", "wav_folder": str(tmp_path / "air"), "lead_in": 0,
         "tail": 0, **options},
        engine=QuietEngine(),
    )  # fmt: skip


@pytest.mark.integration
def test_a_corpus_alert_goes_on_air_and_decodes(tmp_path: Path, shared_data: Path) -> None:
    envelope = envelope_of(shared_data / "cap/alerts/google__cap-library/thunderstorm.cap")
    same = gateway(tmp_path, rate=22050)
    (message,) = same.prepare(envelope, MessagePurpose.ALERT)
    payload = json.loads(message.payload)
    assert payload["header"].startswith("ZCZC-WXR-SVR-") and payload["header"].endswith(
        "-KXYZ/NWS-"
    )
    assert payload["speech"]  # the headline, description and instruction
    receipt = same.deliver(message)
    assert receipt.reference == payload["header"]
    (wav,) = sorted((tmp_path / "air").glob("*.wav"))
    assert multimon_eas(wav) == [payload["header"], "NNNN", "NNNN", "NNNN"]


def test_cancels_are_not_aired_unless_the_channel_announces_them(
    tmp_path: Path, shared_data: Path
) -> None:
    envelope = envelope_of(shared_data / "cap/alerts/google__cap-library/thunderstorm.cap")
    cancel = cancel_alert(envelope.alert, now=envelope.alert.sent, note="Storm has passed")
    cancelled = AlertEnvelope(2, cancel.identity, b"", cancel)
    with pytest.raises(CannotCarryError, match='cancel = "announce"'):
        gateway(tmp_path).prepare(cancelled, MessagePurpose.ALERT)
    with pytest.raises(CannotCarryError, match="cannot take a broadcast back"):
        gateway(tmp_path).prepare(envelope, MessagePurpose.WITHDRAW)


def test_what_same_cannot_carry_is_refused_with_the_reason(
    tmp_path: Path, shared_data: Path
) -> None:
    canada = envelope_of(shared_data / "cap/alerts/google__cap-library/canada.cap")
    with pytest.raises(CannotCarryError) as refused:
        gateway(tmp_path).prepare(canada, MessagePurpose.ALERT)
    assert "alert '2.49.0.1.124.6bddbc91.2012'" in str(refused.value)


def test_bad_options_say_what_to_write(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="station_id"):
        SameGateway("same", {"wav_folder": str(tmp_path)})
    with pytest.raises(GatewayConfigError, match="attention"):
        gateway(tmp_path, attention_seconds=40)
    with pytest.raises(GatewayConfigError, match="say where the audio goes"):
        SameGateway("same", {"station_id": "KXYZ/NWS"})
