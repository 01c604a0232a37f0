"""The ``log`` gateway: one line per message on a logger (operators' console, the demo)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gateways.base import (
    AlertEnvelope,
    ChannelMessage,
    GatewayConfigError,
    MessagePurpose,
    Receipt,
    ReceiptStatus,
)


class LogGateway:
    kind = "log"
    can_withdraw = True  # a log line "withdrawn" is the honest equivalent of a kill

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"logger", "level"}
        if unknown:
            raise GatewayConfigError(
                f"channel {channel!r}: unknown log gateway option(s) {', '.join(sorted(unknown))}"
            )
        level = str(options.get("level", "INFO")).upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise GatewayConfigError(f"channel {channel!r}: level {level!r} is not a log level")
        self.channel = channel
        self.logger = logging.getLogger(str(options.get("logger", f"tocsin.channel.{channel}")))
        self.level = getattr(logging, level)

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        alert = envelope.alert
        headline = next((i.headline for i in alert.infos if i.headline), None)
        event = next((i.event for i in alert.infos if i.event), "")
        if purpose is MessagePurpose.WITHDRAW:
            line = f"WITHDRAW {alert.identifier} from {alert.sender}"
        else:
            line = (
                f"{alert.msg_type.upper()} {alert.status} {alert.identifier} from {alert.sender}: "
                f"{headline or event}"
            )
        return [ChannelMessage(self.channel, purpose.value, purpose, line.encode(), "text/plain")]

    def deliver(self, message: ChannelMessage) -> Receipt:
        self.logger.log(self.level, "[%s] %s", self.channel, message.payload.decode())
        return Receipt(ReceiptStatus.SENT)

    def close(self) -> None:
        return None
