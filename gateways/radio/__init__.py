"""Radio gateways: SAME/EAS audio for broadcasters and weather radios, APRS for amateur nets.

Re-exported lazily: numpy and the audio tools load only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "SameHeader": "gateways.radio.same",
    "same_header_for": "gateways.radio.same",
    "encode_same_header": "gateways.radio.same",
    "same_message_audio": "gateways.radio.same_audio",
    "AttentionTone": "gateways.radio.same_audio",
    "Ax25Address": "gateways.radio.ax25",
    "Ax25Frame": "gateways.radio.ax25",
    "encode_frame": "gateways.radio.ax25",
    "decode_frame": "gateways.radio.ax25",
    "aprs_bulletins_for": "gateways.radio.aprs",
    "aprs_cancellation_for": "gateways.radio.aprs",
    "encode_kiss": "gateways.radio.kiss",
    "KissDecoder": "gateways.radio.kiss",
    "KissTcpTransport": "gateways.radio.kiss_transport",
    "KissSerialTransport": "gateways.radio.kiss_transport",
    "frames_audio": "gateways.radio.hdlc_audio",
    "Transmitter": "gateways.radio.transmitter",
    "SerialPtt": "gateways.radio.transmitter",
    "SameGateway": "gateways.radio.same_gateway",
    "AprsGateway": "gateways.radio.aprs_gateway",
}

__all__ = [
    "AprsGateway",
    "AttentionTone",
    "Ax25Address",
    "Ax25Frame",
    "KissDecoder",
    "KissSerialTransport",
    "KissTcpTransport",
    "SameGateway",
    "SameHeader",
    "SerialPtt",
    "Transmitter",
    "aprs_bulletins_for",
    "aprs_cancellation_for",
    "decode_frame",
    "encode_frame",
    "encode_kiss",
    "encode_same_header",
    "frames_audio",
    "same_header_for",
    "same_message_audio",
]

if TYPE_CHECKING:
    from gateways.radio.aprs import aprs_bulletins_for, aprs_cancellation_for
    from gateways.radio.aprs_gateway import AprsGateway
    from gateways.radio.ax25 import Ax25Address, Ax25Frame, decode_frame, encode_frame
    from gateways.radio.hdlc_audio import frames_audio
    from gateways.radio.kiss import KissDecoder, encode_kiss
    from gateways.radio.kiss_transport import KissSerialTransport, KissTcpTransport
    from gateways.radio.same import SameHeader, encode_same_header, same_header_for
    from gateways.radio.same_audio import AttentionTone, same_message_audio
    from gateways.radio.same_gateway import SameGateway
    from gateways.radio.transmitter import SerialPtt, Transmitter


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gateways.radio' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
