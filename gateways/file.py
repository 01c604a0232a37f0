"""The ``file`` gateway: each message becomes a file in a folder (archives, tests, the demo).

Files are written to a temporary name, flushed to disk and renamed, so a file that exists is
complete; the receipt is ``confirmed`` once the data and the directory entry are durable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateways.base import (
    AlertEnvelope,
    ChannelMessage,
    GatewayConfigError,
    MessagePurpose,
    Receipt,
    ReceiptStatus,
    TransientGatewayError,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(text: str) -> str:
    """A file name made of letters, digits, '.', '_' and '-' only (no path tricks)."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "message"
    return cleaned[:180]


class FileGateway:
    kind = "file"
    can_withdraw = False

    def __init__(self, channel: str, options: Mapping[str, Any]) -> None:
        directory = options.get("directory")
        if not isinstance(directory, str) or not directory:
            raise GatewayConfigError(f"channel {channel!r}: the file gateway needs 'directory'")
        unknown = set(options) - {"directory"}
        if unknown:
            raise GatewayConfigError(
                f"channel {channel!r}: unknown file gateway option(s) {', '.join(sorted(unknown))}"
            )
        self.channel = channel
        self.directory = Path(directory).expanduser()

    def prepare(self, envelope: AlertEnvelope, purpose: MessagePurpose) -> list[ChannelMessage]:
        name = safe_file_name(
            f"{envelope.alert_id:08d}-{envelope.identity.sender}-{envelope.identity.identifier}"
        )
        suffix = ".withdraw.txt" if purpose is MessagePurpose.WITHDRAW else ".xml"
        payload = envelope.data
        content_type = "application/cap+xml"
        if purpose is MessagePurpose.WITHDRAW:
            payload = f"withdraw {envelope.identity.identifier}\n".encode()
            content_type = "text/plain"
        return [
            ChannelMessage(
                self.channel,
                "cap" if purpose is MessagePurpose.ALERT else "withdraw",
                purpose,
                payload,
                content_type,
                {"file_name": name + suffix},
            )
        ]

    def deliver(self, message: ChannelMessage) -> Receipt:
        target = self.directory / message.attributes["file_name"]
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as fh:
                fh.write(message.payload)
                fh.flush()
                os.fsync(fh.fileno())
            temp.replace(target)
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise TransientGatewayError(f"cannot write {target}: {exc.strerror or exc}") from None
        return Receipt(ReceiptStatus.CONFIRMED, str(target))

    def close(self) -> None:
        return None
