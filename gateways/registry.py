"""Gateway kinds by name, as the ``gateway = "..."`` key of a channel names them."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, cast

from gateways.base import Gateway, GatewayConfigError
from gateways.file import FileGateway
from gateways.log import LogGateway

GatewayFactory = Callable[[str, Mapping[str, Any]], Gateway]


def _sms_gateway(channel: str, options: Mapping[str, Any]) -> Gateway:
    # Imported on use: the SMS stack (pyserial, Shapely, the codecs) is not needed by every run.
    from gateways.sms.gateway import SmsGateway

    return SmsGateway(channel, options)


def _same_gateway(channel: str, options: Mapping[str, Any]) -> Gateway:
    from gateways.radio.same_gateway import SameGateway

    return SameGateway(channel, options)


def _aprs_gateway(channel: str, options: Mapping[str, Any]) -> Gateway:
    from gateways.radio.aprs_gateway import AprsGateway

    return AprsGateway(channel, options)


def _cbs_gateway(channel: str, options: Mapping[str, Any]) -> Gateway:
    from gateways.cell_broadcast.gateway import CellBroadcastGateway

    return CellBroadcastGateway(channel, options)


GATEWAY_KINDS: dict[str, GatewayFactory] = {
    "file": FileGateway,
    "log": LogGateway,
    "sms": _sms_gateway,
    "same": _same_gateway,
    "aprs": _aprs_gateway,
    "cbs": _cbs_gateway,
}


def gateway_factory(kind: str) -> GatewayFactory | None:
    """A built-in kind by name, or a third-party gateway as ``package.module:Class``."""
    factory = GATEWAY_KINDS.get(kind)
    if factory is not None or ":" not in kind:
        return factory
    module_name, _, attribute = kind.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise GatewayConfigError(f"gateway {kind!r}: cannot import {module_name}: {exc}") from None
    found = getattr(module, attribute, None)
    if found is None or not callable(found):
        raise GatewayConfigError(f"gateway {kind!r}: {module_name} has no {attribute}")
    return cast(GatewayFactory, found)


def create_gateway(kind: str, channel: str, options: Mapping[str, Any]) -> Gateway:
    factory = gateway_factory(kind)
    if factory is None:
        raise GatewayConfigError(
            f"channel {channel!r}: unknown gateway {kind!r}; known: {', '.join(GATEWAY_KINDS)}"
        )
    return factory(channel, options)
