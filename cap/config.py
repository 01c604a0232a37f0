"""The TOML configuration file: where it is found and what the CAP core reads from it.

Precedence: ``--config FILE``, else ``$TOCSIN_CONFIG``, else ``~/.config/tocsin/tocsin.toml``,
else built-in defaults. Other packages read their own sections from :attr:`TocsinConfig.raw`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cap.errors import CapError


class ConfigError(CapError):
    """The configuration file is missing, unreadable or wrong (exit status 2)."""


@dataclass(frozen=True, slots=True)
class AuthorityConfig:
    """Who we are when we author alerts."""

    sender: str = "alerts@tocsin.invalid"
    sender_name: str | None = None
    language: str = "en-US"
    station_id: str | None = None


@dataclass(frozen=True, slots=True)
class TocsinConfig:
    path: Path | None
    authority: AuthorityConfig = field(default_factory=AuthorityConfig)
    raw: Mapping[str, Any] = field(default_factory=dict)


def config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get("TOCSIN_CONFIG"):
        return Path(env["TOCSIN_CONFIG"])
    default = Path(env.get("HOME", "~")).expanduser() / ".config" / "tocsin" / "tocsin.toml"
    return default if default.is_file() else None


def load_config(
    explicit: str | None = None, environ: Mapping[str, str] | None = None
) -> TocsinConfig:
    path = config_path(explicit, environ)
    if path is None:
        return TocsinConfig(None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"configuration file {path} cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path}: {exc}") from None
    return TocsinConfig(path, _authority(raw.get("authority", {}), path), raw)


def _authority(section: object, path: Path) -> AuthorityConfig:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [authority] must be a table")
    known = {"sender", "sender_name", "language", "station_id"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(
            f"{path}: [authority] has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    for key, value in section.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: [authority] {key} must be a string")
    return AuthorityConfig(**section)
