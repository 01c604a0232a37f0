"""Channel gateways: cell broadcast, SMS modems, SAME/APRS radio, MQTT, file and log."""

from gateways.base import (
    AlertEnvelope,
    CannotCarryError,
    ChannelMessage,
    Gateway,
    GatewayConfigError,
    GatewayError,
    MessagePurpose,
    PermanentGatewayError,
    Receipt,
    ReceiptStatus,
    TransientGatewayError,
)
from gateways.registry import GATEWAY_KINDS, create_gateway

__all__ = [
    "GATEWAY_KINDS",
    "AlertEnvelope",
    "CannotCarryError",
    "ChannelMessage",
    "Gateway",
    "GatewayConfigError",
    "GatewayError",
    "MessagePurpose",
    "PermanentGatewayError",
    "Receipt",
    "ReceiptStatus",
    "TransientGatewayError",
    "create_gateway",
]
