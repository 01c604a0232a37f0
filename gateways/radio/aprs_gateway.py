"""The ``aprs`` gateway: an alert as APRS bulletins for amateur radio emergency networks.

Each alert chain gets its own bulletin group (``BLN1xxx``...), named from the first alert of
the chain (the first CAP reference, or the alert itself), so an Update replaces the lines of
the alert it updates on every receiver, and a withdrawal sends cancellation lines under the same
names. Frames go to a soft or hardware TNC over KISS (TCP to direwolf, or a serial port), or
are modulated here (Bell 202 AFSK 1200) and played to a plain radio keyed by a serial line.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cap.model import Alert, AlertIdentity
from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    ChannelMessage,
    GatewayConfigError,
    MessagePurpose,
    Receipt,
    ReceiptStatus,
)
from gateways.radio.aprs import (
    AprsCannotCarryError,
    aprs_bulletins_for,
    aprs_cancellation_for,
    aprs_nws_messages_for,
)
from gateways.radio.ax25 import Ax25Address, Ax25Error, Ax25Frame, parse_path, parse_tnc2, to_tnc2
from gateways.radio.hdlc_audio import frames_audio
from gateways.radio.kiss_transport import KissSerialTransport, KissTcpTransport
from gateways.radio.transmitter import (
    TRANSMITTER_OPTIONS,
    Transmitter,
    transmitter_from_options,
)

_TCP = re.compile(r"tcp:(?P<host>[^:]+):(?P<port>\d{1,5})")
_KNOWN = (
    "callsign",
    "path",
    "kiss",
    "kiss_baudrate",
    "rate",
    "max_lines",
    "nws_messages",
    *TRANSMITTER_OPTIONS,
)


def bulletin_group(alert: Alert) -> str:
    """Three letters naming the alert chain: from the first alert it references, else itself."""
    root: AlertIdentity | None = None
    if alert.msg_type in ("Update", "Cancel") and alert.references:
        first = alert.references[0]
        if first.sent is not None:
            root = AlertIdentity(first.sender, first.identifier, first.sent)
    if root is None:
        root = alert.identity
    digest = hashlib.sha256(
        f"{root.sender}\x00{root.identifier}\x00{root.sent.isoformat()}".encode()
    ).digest()
    return base64.b32encode(digest).decode()[:3]


class AprsGateway:
    kind = "aprs"
    can_withdraw = True  # cancellation bulletins replace the alert's lines

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        where = f"channel {channel!r} (aprs gateway)"
        unknown = sorted(set(options) - set(_KNOWN))
        if unknown:
            raise GatewayConfigError(
                f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(_KNOWN)}"
            )
        self.channel = channel
        try:
            self.source = Ax25Address.parse(str(options.get("callsign", "")))
            self.path = parse_path(str(options.get("path", "WIDE2-2")))
        except Ax25Error as exc:
            raise GatewayConfigError(
                f"{where}: {exc}; 'callsign' is your licensed call with an SSID "
                '(e.g. "N0CALL-10"), \'path\' a digipeater path such as "WIDE2-2"'
            ) from None
        self.max_lines = int(options.get("max_lines", 5))
        self.nws_messages = bool(options.get("nws_messages", False))
        self.rate = int(options.get("rate", 48000))
        self.kiss: KissTcpTransport | KissSerialTransport | None = None
        self.transmitter: Transmitter | None = None
        kiss = options.get("kiss")
        if kiss is not None:
            if not isinstance(kiss, str):
                raise GatewayConfigError(f"{where}: 'kiss' must be \"tcp:HOST:PORT\" or a device")
            match = _TCP.fullmatch(kiss)
            if match:
                self.kiss = KissTcpTransport(match["host"], int(match["port"]))
            else:
                self.kiss = KissSerialTransport(kiss, int(options.get("kiss_baudrate", 9600)))
        elif not {"wav_folder", "audio_command"} & set(options):
            raise GatewayConfigError(
                f'{where}: say where frames go: kiss = "tcp:127.0.0.1:8001" (direwolf) or a '
                "TNC's serial device, or audio_command / wav_folder to modulate them here"
            )
        else:
            self.transmitter = transmitter_from_options(f"aprs-{channel}", options, where)

    def frames_for(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[Ax25Frame]:
        alert = envelope.alert
        group = bulletin_group(alert)
        if not alert.infos and purpose is MessagePurpose.ALERT:
            raise CannotCarryError("the alert has no info block: nothing to put in a bulletin")
        last_error: AprsCannotCarryError | None = None
        for index in range(max(1, len(alert.infos))):
            try:
                if purpose is MessagePurpose.WITHDRAW:
                    return aprs_cancellation_for(
                        alert, info_index=index, bulletin_id=group, source=self.source,
                        path=self.path, max_lines=self.max_lines,
                    )  # fmt: skip
                frames = aprs_bulletins_for(
                    alert, info_index=index, bulletin_id=group, source=self.source,
                    path=self.path, max_lines=self.max_lines,
                )  # fmt: skip
                if self.nws_messages and alert.status == "Actual":
                    frames += aprs_nws_messages_for(
                        alert, info_index=index, source=self.source, path=self.path
                    )
                return frames
            except AprsCannotCarryError as exc:  # e.g. an Arabic info block: try the next one
                last_error = exc
        assert last_error is not None
        raise last_error

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        frames = self.frames_for(envelope, purpose)
        payload = "\n".join(to_tnc2(f) for f in frames).encode("ascii")
        key = "aprs" if purpose is MessagePurpose.ALERT else "aprs-withdraw"
        return [ChannelMessage(self.channel, key, purpose, payload, "text/x-aprs-tnc2")]

    def deliver(self, message: ChannelMessage) -> Receipt:
        frames = [parse_tnc2(line) for line in message.payload.decode("ascii").splitlines()]
        if self.kiss is not None:
            self.kiss.send(frames)
            return Receipt(ReceiptStatus.SENT, f"kiss {len(frames)} frames")
        assert self.transmitter is not None
        self.transmitter.transmit(frames_audio(frames, rate=self.rate), self.rate)
        return Receipt(ReceiptStatus.SENT, f"audio {len(frames)} frames")

    def close(self) -> None:
        if self.kiss is not None:
            self.kiss.close()
        if self.transmitter is not None:
            self.transmitter.close()
