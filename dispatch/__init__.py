"""Durable outbox, routing, delivery and scheduling of accepted alerts (``tocsin serve``).

The public API is re-exported lazily: ``tocsin`` loads this package for every command, and the
scheduler, database and geometry libraries behind it are only imported when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Acceptance": "dispatch.accept",
    "accept_alert": "dispatch.accept",
    "ChannelConfig": "dispatch.config",
    "DispatchConfig": "dispatch.config",
    "RoutingRule": "dispatch.config",
    "default_dispatch_config": "dispatch.config",
    "parse_dispatch_config": "dispatch.config",
    "DeliveryState": "dispatch.delivery",
    "ConfigurationError": "dispatch.errors",
    "DispatchError": "dispatch.errors",
    "StoreError": "dispatch.errors",
    "SubmissionError": "dispatch.errors",
    "RoutingDecision": "dispatch.routing",
    "route_alert": "dispatch.routing",
    "route_all": "dispatch.routing",
    "DispatchService": "dispatch.service",
    "Outbox": "dispatch.store",
}

__all__ = [
    "Acceptance",
    "ChannelConfig",
    "ConfigurationError",
    "DeliveryState",
    "DispatchConfig",
    "DispatchError",
    "DispatchService",
    "Outbox",
    "RoutingDecision",
    "RoutingRule",
    "StoreError",
    "SubmissionError",
    "accept_alert",
    "default_dispatch_config",
    "parse_dispatch_config",
    "route_alert",
    "route_all",
]

if TYPE_CHECKING:
    from dispatch.accept import Acceptance, accept_alert
    from dispatch.config import (
        ChannelConfig,
        DispatchConfig,
        RoutingRule,
        default_dispatch_config,
        parse_dispatch_config,
    )
    from dispatch.delivery import DeliveryState
    from dispatch.errors import ConfigurationError, DispatchError, StoreError, SubmissionError
    from dispatch.routing import RoutingDecision, route_alert, route_all
    from dispatch.service import DispatchService
    from dispatch.store import Outbox


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dispatch' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
