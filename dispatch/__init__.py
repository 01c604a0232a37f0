"""Durable outbox, routing, delivery and scheduling of accepted alerts (``tocsin serve``)."""

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
