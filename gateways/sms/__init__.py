"""SMS through GSM modems: GSM 03.38 and UCS-2 text, SMS PDUs, the AT dialogue, the modem pool,
the emulator and the ``sms`` gateway.

Re-exported lazily: the codecs need neither pyserial nor Shapely.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "SmsError": "gateways.sms.errors",
    "SmsEncodingError": "gateways.sms.errors",
    "PduDecodeError": "gateways.sms.errors",
    "ModemProtocolError": "gateways.sms.errors",
    "DataCoding": "gateways.sms.gsm7",
    "NationalLanguage": "gateways.sms.gsm7",
    "TextEncoding": "gateways.sms.gsm7",
    "SegmentPlan": "gateways.sms.gsm7",
    "plan_segments": "gateways.sms.gsm7",
    "encode_gsm7": "gateways.sms.gsm7",
    "decode_gsm7": "gateways.sms.gsm7",
    "SubmitPdu": "gateways.sms.pdu",
    "encode_submit": "gateways.sms.pdu",
    "encode_message": "gateways.sms.pdu",
    "decode_submit": "gateways.sms.pdu",
    "decode_deliver": "gateways.sms.pdu",
    "decode_status_report": "gateways.sms.pdu",
    "AtModem": "gateways.sms.at_modem",
    "ModemSettings": "gateways.sms.at_modem",
    "SerialTransport": "gateways.sms.transport",
    "TcpTransport": "gateways.sms.transport",
    "ModemLink": "gateways.sms.modem_link",
    "ModemPool": "gateways.sms.pool",
    "PoolSettings": "gateways.sms.pool",
    "EmulatorServer": "gateways.sms.emulator",
    "EmulatorSettings": "gateways.sms.emulator",
    "SmsGateway": "gateways.sms.gateway",
    "compose": "gateways.sms.text",
    "load_directory": "gateways.sms.recipients",
}

__all__ = [
    "AtModem",
    "DataCoding",
    "EmulatorServer",
    "EmulatorSettings",
    "ModemLink",
    "ModemPool",
    "ModemProtocolError",
    "ModemSettings",
    "NationalLanguage",
    "PduDecodeError",
    "PoolSettings",
    "SegmentPlan",
    "SerialTransport",
    "SmsEncodingError",
    "SmsError",
    "SmsGateway",
    "SubmitPdu",
    "TcpTransport",
    "TextEncoding",
    "compose",
    "decode_deliver",
    "decode_gsm7",
    "decode_status_report",
    "decode_submit",
    "encode_gsm7",
    "encode_message",
    "encode_submit",
    "load_directory",
    "plan_segments",
]

if TYPE_CHECKING:
    from gateways.sms.at_modem import AtModem, ModemSettings
    from gateways.sms.emulator import EmulatorServer, EmulatorSettings
    from gateways.sms.errors import ModemProtocolError, PduDecodeError, SmsEncodingError, SmsError
    from gateways.sms.gateway import SmsGateway
    from gateways.sms.gsm7 import (
        DataCoding,
        NationalLanguage,
        SegmentPlan,
        TextEncoding,
        decode_gsm7,
        encode_gsm7,
        plan_segments,
    )
    from gateways.sms.modem_link import ModemLink
    from gateways.sms.pdu import (
        SubmitPdu,
        decode_deliver,
        decode_status_report,
        decode_submit,
        encode_message,
        encode_submit,
    )
    from gateways.sms.pool import ModemPool, PoolSettings
    from gateways.sms.recipients import load_directory
    from gateways.sms.text import compose
    from gateways.sms.transport import SerialTransport, TcpTransport


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gateways.sms' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
