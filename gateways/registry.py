"""Gateway kinds by name, as the ``gateway = "..."`` key of a channel names them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gateways.base import Gateway, GatewayConfigError
from gateways.file import FileGateway
from gateways.log import LogGateway

GatewayFactory = Callable[[str, Mapping[str, Any]], Gateway]

GATEWAY_KINDS: dict[str, GatewayFactory] = {
    "file": FileGateway,
    "log": LogGateway,
}


def create_gateway(kind: str, channel: str, options: Mapping[str, Any]) -> Gateway:
    factory = GATEWAY_KINDS.get(kind)
    if factory is None:
        raise GatewayConfigError(
            f"channel {channel!r}: unknown gateway {kind!r}; known: {', '.join(GATEWAY_KINDS)}"
        )
    return factory(channel, options)
