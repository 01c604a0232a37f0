"""The ``same`` gateway: an alert as a SAME/EAS message on a broadcaster's or weather radio's
transmitter (or into WAV files for a station's automation to play).

``prepare`` (pure) builds the header and the words to speak, or says why SAME cannot carry the
alert; ``deliver`` has espeak-ng speak the words, builds the audio (three header bursts, the
attention signal, the message, three EOMs) and plays it with the transmitter keyed. SAME cannot
take an alert back: with ``cancel = "announce"`` a Cancel is broadcast as its own message (its
own header and words, e.g. "the flood warning is cancelled"); by default it is not aired and
the channel says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    ChannelMessage,
    GatewayConfigError,
    MessagePurpose,
    Receipt,
    ReceiptStatus,
)
from gateways.radio.counties import CountyTable, load_county_table
from gateways.radio.same import SameError, encode_same_header, same_header_for
from gateways.radio.same_audio import AttentionTone, same_message_audio
from gateways.radio.speech import EspeakNg, SpeechEngine, SpokenText, speak, speech_text
from gateways.radio.transmitter import TRANSMITTER_OPTIONS, transmitter_from_options

_KNOWN = (
    "station_id",
    "counties_file",
    "rate",
    "attention_seconds",
    "weather_radio",
    "speech",
    "cancel",
    "allow_statuses",
    *TRANSMITTER_OPTIONS,
)


class SameGateway:
    kind = "same"
    can_withdraw = False  # SAME has no withdrawal: see ``cancel``

    def __init__(
        self, channel: str, options: Mapping[str, Any], *, engine: SpeechEngine | None = None
    ) -> None:
        where = f"channel {channel!r} (same gateway)"
        unknown = sorted(set(options) - set(_KNOWN))
        if unknown:
            raise GatewayConfigError(
                f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(_KNOWN)}"
            )
        self.channel = channel
        station = options.get("station_id")
        if not isinstance(station, str) or not station:
            raise GatewayConfigError(
                f"{where}: 'station_id' is your station's 8-character SAME id, e.g. \"KXYZ/NWS\""
            )
        self.station_id = station
        self.rate = int(options.get("rate", 48000))
        seconds = float(options.get("attention_seconds", 8))
        try:
            self.attention = AttentionTone(
                kind="nws" if options.get("weather_radio", False) else "eas", seconds=seconds
            )
        except ValueError as exc:
            raise GatewayConfigError(f"{where}: {exc}") from None
        self.speech = bool(options.get("speech", True))
        self.cancel = str(options.get("cancel", "ignore"))
        if self.cancel not in ("ignore", "announce"):
            raise GatewayConfigError(f'{where}: \'cancel\' is "ignore" or "announce"')
        self.allow_statuses = frozenset(options.get("allow_statuses", ["Actual"]))
        self.counties: CountyTable | None = None
        if "counties_file" in options:
            self.counties = load_county_table(Path(str(options["counties_file"])))
        self.engine = engine
        self.transmitter = transmitter_from_options(f"same-{channel}", options, where)

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        alert = envelope.alert
        if purpose is MessagePurpose.WITHDRAW:
            raise CannotCarryError("SAME cannot take a broadcast back")
        if alert.msg_type == "Cancel" and self.cancel == "ignore":
            raise CannotCarryError(
                "a Cancel is not aired on this channel (SAME has no withdrawal); set "
                'cancel = "announce" to broadcast cancellations as their own message'
            )
        problems: list[str] = []
        for index, info in enumerate(alert.infos):
            try:
                header = same_header_for(
                    alert,
                    info_index=index,
                    station_id=self.station_id,
                    county_table=self.counties,
                    allow_statuses=self.allow_statuses,
                )
            except SameError as exc:
                problems.append(str(exc))
                continue
            spoken = speech_text(info)
            text = spoken.text
            if alert.msg_type == "Cancel" and "cancel" not in text.lower():
                text = f"Cancelled. {text}"
            header_text = encode_same_header(header)
            payload = {
                "header": header_text,
                "speech": text if self.speech else "",
                "language": spoken.language,
                "notes": list(header.notes),
            }
            return [
                ChannelMessage(
                    self.channel,
                    "same",
                    purpose,
                    json.dumps(payload, ensure_ascii=False).encode(),
                    "application/json",
                    {"header": header_text},
                )
            ]
        raise CannotCarryError("; ".join(problems) or "the alert has no info block to air")

    def deliver(self, message: ChannelMessage) -> Receipt:
        payload = json.loads(message.payload)
        speech = None
        if payload["speech"]:
            engine = self.engine or EspeakNg()
            spoken = SpokenText(payload["speech"], payload["language"], "prepared")
            speech = speak(spoken, rate=self.rate, engine=engine).samples
        samples = same_message_audio(
            payload["header"], rate=self.rate, attention=self.attention, speech=speech
        )
        self.transmitter.transmit(samples, self.rate)
        return Receipt(ReceiptStatus.SENT, payload["header"], "; ".join(payload["notes"]))

    def close(self) -> None:
        self.transmitter.close()
