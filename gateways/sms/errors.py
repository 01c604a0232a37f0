"""Errors of the SMS gateway's codecs and modem dialogue (delivery failures map onto
:class:`gateways.base.GatewayError` at the gateway)."""

from __future__ import annotations


class SmsError(Exception):
    """Base of the SMS codecs' and modem errors."""


class SmsEncodingError(SmsError, ValueError):
    """Text or a number that cannot be encoded as asked (says which character, where)."""


class PduDecodeError(SmsError, ValueError):
    """Bytes that are not a valid TPDU (says at which octet, which field, and why)."""


class ModemProtocolError(SmsError):
    """The modem answered something the AT dialogue does not allow at that point."""
