"""The ``sms`` channel's options, read once from ``[channels.NAME]`` with a clear error per key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateways.base import GatewayConfigError

_SMSC = re.compile(r"\+?\d{3,20}")
_TCP = re.compile(r"tcp:(?P<host>[^:]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})")

KNOWN = (
    "modems",
    "baudrate",
    "pin",
    "recipients",
    "default_language",
    "max_segments",
    "link",
    "min_interval",
    "status_report",
    "flash_extreme",
    "smsc",
    "send_timeout",
    "register_timeout",
)


@dataclass(frozen=True, slots=True)
class ModemAddress:
    """A modem's serial device (``/dev/ttyUSB0``) or a TCP endpoint (``tcp:host:port``)."""

    device: str | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        return self.device if self.device is not None else f"tcp:{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SmsOptions:
    modems: tuple[ModemAddress, ...]
    recipients: Path
    baudrate: int = 115200
    pin: str | None = None
    default_language: str = "en"
    max_segments: int = 3
    link: str | None = None
    min_interval: float = 3.0  # seconds between two messages on one modem
    status_report: bool = True
    flash_extreme: bool = False
    smsc: str | None = None
    send_timeout: float = 60.0
    register_timeout: float = 60.0


def parse_sms_options(channel: str, options: Mapping[str, Any]) -> SmsOptions:
    where = f"channel {channel!r} (sms gateway)"
    unknown = sorted(set(options) - set(KNOWN))
    if unknown:
        raise GatewayConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}"
        )
    modems_value = options.get("modems")
    if isinstance(modems_value, str):
        modems_value = [modems_value]
    if not isinstance(modems_value, list) or not modems_value:
        raise GatewayConfigError(
            f"{where}: 'modems' must list at least one serial device or tcp:HOST:PORT, "
            'e.g. modems = ["/dev/ttyUSB0"]'
        )
    modems = tuple(_modem(value, f"{where} modems[{n}]") for n, value in enumerate(modems_value, 1))
    if len(set(map(str, modems))) != len(modems):
        raise GatewayConfigError(f"{where}: 'modems' lists the same modem twice")
    recipients = options.get("recipients")
    if not isinstance(recipients, str) or not recipients:
        raise GatewayConfigError(
            f"{where}: 'recipients' must name the directory file (CSV or SQLite), "
            'e.g. recipients = "responders.csv"'
        )
    pin = options.get("pin")
    if pin is not None and (not isinstance(pin, str) or not re.fullmatch(r"\d{4,8}", pin)):
        raise GatewayConfigError(f"{where}: 'pin' must be 4 to 8 digits as a string, e.g. \"1234\"")
    smsc = options.get("smsc")
    if smsc is not None and (not isinstance(smsc, str) or not _SMSC.fullmatch(smsc)):
        raise GatewayConfigError(f"{where}: 'smsc' must be a number such as \"+447785016005\"")
    link = options.get("link")
    if link is not None and not isinstance(link, str):
        raise GatewayConfigError(f"{where}: 'link' must be a URL string")
    language = options.get("default_language", "en")
    if not isinstance(language, str) or not re.fullmatch(
        r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", language
    ):
        raise GatewayConfigError(f"{where}: 'default_language' must be a tag such as \"en\"")
    return SmsOptions(
        modems=modems,
        recipients=Path(recipients).expanduser(),
        baudrate=_int(options, "baudrate", 115200, 300, 4_000_000, where),
        pin=pin,
        default_language=language,
        max_segments=_int(options, "max_segments", 3, 1, 15, where),
        link=link,
        min_interval=_number(options, "min_interval", 3.0, 0.0, 3600.0, where),
        status_report=_bool(options, "status_report", True, where),
        flash_extreme=_bool(options, "flash_extreme", False, where),
        smsc=smsc,
        send_timeout=_number(options, "send_timeout", 60.0, 1.0, 600.0, where),
        register_timeout=_number(options, "register_timeout", 60.0, 1.0, 3600.0, where),
    )


def _modem(value: object, where: str) -> ModemAddress:
    if not isinstance(value, str) or not value:
        raise GatewayConfigError(f"{where}: must be a device path or tcp:HOST:PORT")
    if value.startswith("tcp:"):
        match = _TCP.fullmatch(value)
        if match is None or not 0 < int(match["port"]) < 65536:
            raise GatewayConfigError(f"{where}: {value!r} is not tcp:HOST:PORT")
        return ModemAddress(host=match["host"].strip("[]"), port=int(match["port"]))
    return ModemAddress(device=value)


def _int(
    options: Mapping[str, Any], key: str, default: int, low: int, high: int, where: str
) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GatewayConfigError(f"{where}: {key!r} must be a whole number from {low} to {high}")
    return value


def _number(
    options: Mapping[str, Any], key: str, default: float, low: float, high: float, where: str
) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise GatewayConfigError(
            f"{where}: {key!r} must be a number of seconds, {low:g} to {high:g}"
        )
    return float(value)


def _bool(options: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise GatewayConfigError(f"{where}: {key!r} must be true or false")
    return value
