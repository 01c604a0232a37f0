"""The configuration dispatch reads: ``[store]``, ``[channels.NAME]`` and ``[intake]``.

The TOML file is read by :func:`cap.config.load_config`; :func:`parse_dispatch_config` turns
its ``raw`` mapping into frozen values and checks every key, raising
:class:`~dispatch.errors.ConfigurationError` with the table, the key, what is wrong and how to
fix it (``[channels.sms] min_severity 'Bad' is not one of Extreme, Severe, Moderate, Minor``).

Conventions an operator relies on:

* No ``[store]``: the database is ``DATA_DIR/tocsin.db``. ``url = "sqlite:///var/lib/t.db"``
  (an absolute path: three or four slashes both mean ``/var/lib/t.db``) or ``path = "t.db"``
  (relative to the configuration file's folder). PostgreSQL is refused as not supported yet.
* No ``[channels]`` table: the built-in ``archive`` and ``console`` channels. With one, exactly
  the channels it lists, in file order.
* Code-list values (statuses, scopes, ...) are matched without regard to case and stored in
  CAP's spelling. Routing defaults: ``statuses = ["Actual"]``, ``scopes = ["Public"]``,
  ``msg_types = ["Alert", "Update", "Cancel"]``; Exercise, System, Test and Draft alerts go
  only to channels that list them.
* Durations are ``"90s"``, ``"15m"``, ``"1h30m"``, ``"2d"``, ISO 8601 (``"PT30M"``) or a number
  of seconds.
* Every key of a channel that is not a dispatch key is a gateway option. Options named
  ``directory`` or ending in ``_file`` or ``_path`` are paths: ``~`` is expanded and a relative
  path is taken from the configuration file's folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from cap.vocabulary import (
    CATEGORY,
    CERTAINTY_RANK,
    MSG_TYPE,
    SCOPE,
    SEVERITY_RANK,
    STATUS,
    URGENCY_RANK,
)
from dispatch.errors import ConfigurationError

_SQLITE_PREFIX: Final = "sqlite:///"
_DEFAULT_LISTEN: Final = "127.0.0.1:8470"
_DEFAULT_MAX_ATTEMPTS: Final = 8
_DEFAULT_BACKOFF_INITIAL: Final = timedelta(seconds=1)
_DEFAULT_BACKOFF_MAX: Final = timedelta(minutes=5)

__all__ = [
    "CHANNEL_KEYS",
    "AreaFilter",
    "ChannelConfig",
    "DispatchConfig",
    "IntakeConfig",
    "RoutingRule",
    "StoreConfig",
    "default_dispatch_config",
    "parse_dispatch_config",
    "parse_duration",
]


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where the outbox lives. ``url`` is ``sqlite:///`` followed by an absolute path."""

    url: str

    @property
    def sqlite_path(self) -> Path:
        """The database file of a SQLite URL."""
        if not self.url.startswith(_SQLITE_PREFIX):
            raise ConfigurationError(
                f"[store] url {self.url!r} is not a SQLite URL; only sqlite:///PATH is supported"
            )
        rest = self.url[len(_SQLITE_PREFIX) :]
        return Path("/" + rest.lstrip("/"))


@dataclass(frozen=True, slots=True)
class AreaFilter:
    """A channel's coverage. Empty means everywhere."""

    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # rings of (lat, lon)
    circles: tuple[tuple[float, float, float], ...] = ()  # (lat, lon, radius_km)
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value)

    @property
    def is_empty(self) -> bool:
        return not (self.polygons or self.circles or self.geocodes)


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Which alerts a channel carries (see :mod:`dispatch.routing`)."""

    statuses: frozenset[str] = frozenset({"Actual"})
    scopes: frozenset[str] = frozenset({"Public"})
    msg_types: frozenset[str] = frozenset({"Alert", "Update", "Cancel"})
    categories: frozenset[str] = frozenset()  # empty = any
    events: tuple[str, ...] = ()  # case-insensitive <event> match; empty = any
    event_codes: tuple[tuple[str, str], ...] = ()  # any (valueName, value) matches; empty = any
    min_severity: str | None = None  # "Severe" = Severe or Extreme
    min_urgency: str | None = None
    min_certainty: str | None = None
    languages: tuple[str, ...] = ()  # language-range prefixes ("en" matches en-US); empty = any
    area: AreaFilter = AreaFilter()

    @property
    def has_info_criteria(self) -> bool:
        """True when the rule looks inside info blocks (anything besides status/scope/type)."""
        return bool(
            self.categories
            or self.events
            or self.event_codes
            or self.min_severity
            or self.min_urgency
            or self.min_certainty
            or self.languages
            or not self.area.is_empty
        )


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    name: str
    gateway: str  # "file", "log", later "sms", "cbs", "same", "aprs", "mqtt"
    # Every key of [channels.NAME] that is not a dispatch key, for the gateway. A plain dict
    # (copied at parse time) so that dataclasses.asdict and copy work; treat it as read-only.
    options: Mapping[str, Any]
    routing: RoutingRule
    repeat_every: timedelta | None = None  # repeat broadcasts until expires
    max_attempts: int = _DEFAULT_MAX_ATTEMPTS
    backoff_initial: timedelta = _DEFAULT_BACKOFF_INITIAL
    backoff_max: timedelta = _DEFAULT_BACKOFF_MAX
    concurrency: int = 1
    rate_per_second: float | None = None


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    listen: str = _DEFAULT_LISTEN  # host:port of the HTTP intake of `tocsin serve`
    tokens: tuple[str, ...] = ()  # bearer tokens; empty = intake disabled

    @property
    def host(self) -> str:
        return split_listen(self.listen, "[intake] listen")[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen, "[intake] listen")[1]


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    store: StoreConfig
    channels: tuple[ChannelConfig, ...]
    intake: IntakeConfig = field(default_factory=IntakeConfig)

    def channel(self, name: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.name == name), None)


# --- vocabulary --------------------------------------------------------------------------------

_STATUSES: Final = STATUS["1.2"]
_CATEGORIES: Final = CATEGORY["1.2"]
# Thresholds in CAP's order, most pressing first ("Unknown" is never a threshold).
_SEVERITIES: Final = tuple(sorted(SEVERITY_RANK, key=lambda n: -SEVERITY_RANK[n]))
_URGENCIES: Final = tuple(sorted(URGENCY_RANK, key=lambda n: -URGENCY_RANK[n]))
_CERTAINTIES: Final = tuple(sorted(CERTAINTY_RANK, key=lambda n: -CERTAINTY_RANK[n]))

ROUTING_KEYS: Final = (
    "statuses",
    "scopes",
    "msg_types",
    "categories",
    "events",
    "event_codes",
    "min_severity",
    "min_urgency",
    "min_certainty",
    "languages",
    "area",
)
DELIVERY_KEYS: Final = (
    "repeat_every",
    "max_attempts",
    "backoff_initial",
    "backoff_max",
    "concurrency",
    "rate_per_second",
)
#: The keys of ``[channels.NAME]`` dispatch reads itself; every other key is a gateway option.
CHANNEL_KEYS: Final = ("gateway", *ROUTING_KEYS, *DELIVERY_KEYS)
_STORE_KEYS: Final = ("url", "path")
_INTAKE_KEYS: Final = ("listen", "tokens")
_AREA_KEYS: Final = ("polygons", "circles", "geocodes")

_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_PLUGIN_RE: Final = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_LANGUAGE_RANGE_RE: Final = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_COMPACT_DURATION_RE: Final = re.compile(r"(?:\d+(?:\.\d+)?(?:w|d|h|min|m|s))+")
_COMPACT_PART_RE: Final = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|min|m|s)")
_ISO_DURATION_RE: Final = re.compile(
    r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_UNIT_SECONDS: Final = {"w": 604800, "d": 86400, "h": 3600, "min": 60, "m": 60, "s": 1}
_MIN_TOKEN_LENGTH: Final = 16


# --- entry points ------------------------------------------------------------------------------


def default_dispatch_config(data_dir: Path) -> DispatchConfig:
    """The embedded defaults, used when there is no configuration file.

    ``archive`` writes every alert except Drafts (all scopes and message types) to
    ``DATA_DIR/archive``; ``console`` logs Actual and Exercise alerts. The intake is disabled.
    """
    return DispatchConfig(
        store=_default_store(data_dir),
        channels=_default_channels(data_dir),
        intake=IntakeConfig(),
    )


def parse_dispatch_config(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    data_dir: Path,
    source: Path | str | None = None,
) -> DispatchConfig:
    """The dispatch sections of a parsed TOML file (``TocsinConfig.raw``).

    ``base_dir`` is the configuration file's folder (relative paths are taken from it);
    ``data_dir`` is where the defaults put the database and the archive. ``source``, when
    given, prefixes every error message (the file's path).
    """
    try:
        store = _store(raw.get("store"), base_dir, data_dir)
        channels = _channels(raw.get("channels"), base_dir, data_dir)
        intake = _intake(raw.get("intake"))
    except ConfigurationError as exc:
        if source is None:
            raise
        raise ConfigurationError(f"{source}: {exc}") from None
    return DispatchConfig(store, channels, intake)


def parse_duration(value: Any, where: str) -> timedelta:
    """A positive duration: ``"15m"``, ``"1h30m"``, ``"PT30M"``, ``"P1DT2H"`` or seconds."""
    if isinstance(value, bool):
        raise ConfigurationError(f"{where} must be a duration such as '15m', not {_kind(value)}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        parsed = _duration_seconds(value.strip())
        if parsed is None:
            raise ConfigurationError(
                f"{where} {value!r} is not a duration; write e.g. '90s', '15m', '1h30m', '2d', "
                "'PT30M' or a number of seconds"
            )
        seconds = parsed
    else:
        raise ConfigurationError(f"{where} must be a duration such as '15m', not {_kind(value)}")
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ConfigurationError(f"{where} must be a positive duration, not {value!r}")
    if seconds > timedelta.max.total_seconds() / 2:
        raise ConfigurationError(f"{where} {value!r} is too long")
    return timedelta(seconds=seconds)


# --- [store] -----------------------------------------------------------------------------------


def _default_store(data_dir: Path) -> StoreConfig:
    return StoreConfig(_sqlite_url(data_dir.expanduser() / "tocsin.db"))


def _sqlite_url(path: Path) -> str:
    # Always absolute: "sqlite:///" + a relative path would be read back as absolute.
    return _SQLITE_PREFIX + str(path.expanduser().absolute())


def _store(section: Any, base_dir: Path, data_dir: Path) -> StoreConfig:
    if section is None:
        return _default_store(data_dir)
    where = "[store]"
    table = _table(section, where)
    _check_keys(table, _STORE_KEYS, where)
    if "url" in table and "path" in table:
        raise ConfigurationError(
            f"{where} has both url and path; keep one (path = 'tocsin.db' is relative to the "
            "configuration file, url = 'sqlite:////var/lib/tocsin/tocsin.db' is absolute)"
        )
    if "path" in table:
        text = _string(table["path"], f"{where} path")
        path = _resolve(text, base_dir)
        if path.name in ("", ".", ".."):
            raise ConfigurationError(f"{where} path {text!r} must name a database file")
        return StoreConfig(_sqlite_url(path))
    if "url" not in table:
        return _default_store(data_dir)
    url = _string(table["url"], f"{where} url")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme.startswith(("postgresql", "postgres")):
        raise ConfigurationError(
            f"{where} url {_redact(url)!r}: PostgreSQL is not supported yet; use a SQLite "
            "database (url = 'sqlite:////var/lib/tocsin/tocsin.db' or path = 'tocsin.db')"
        )
    if scheme != "sqlite":
        raise ConfigurationError(
            f"{where} url {_redact(url)!r} is not a database URL Tocsin supports; write "
            "url = 'sqlite:////absolute/path/tocsin.db' or path = 'tocsin.db'"
        )
    if not url.startswith(_SQLITE_PREFIX) or url.rstrip("/") == _SQLITE_PREFIX.rstrip("/"):
        raise ConfigurationError(
            f"{where} url {url!r} names no database file; an in-memory database would lose "
            "accepted alerts. Write url = 'sqlite:////absolute/path/tocsin.db' or "
            "path = 'tocsin.db'"
        )
    rest = url[len(_SQLITE_PREFIX) :]
    if "?" in rest or rest.startswith(":memory:") or rest.startswith("file:"):
        raise ConfigurationError(
            f"{where} url {url!r}: query options and in-memory databases are not supported; "
            "give only the file, e.g. url = 'sqlite:////var/lib/tocsin/tocsin.db'"
        )
    path = Path("/" + rest.lstrip("/"))
    if path.name in ("", ".", ".."):
        raise ConfigurationError(f"{where} url {url!r} must name a database file")
    return StoreConfig(_sqlite_url(path))


def _redact(url: str) -> str:
    """The URL without a password (``scheme://user:secret@host`` -> ``scheme://user:***@host``)."""
    return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", url)


# --- [intake] ----------------------------------------------------------------------------------


def _intake(section: Any) -> IntakeConfig:
    if section is None:
        return IntakeConfig()
    where = "[intake]"
    table = _table(section, where)
    _check_keys(table, _INTAKE_KEYS, where)
    listen = _DEFAULT_LISTEN
    if "listen" in table:
        listen = _string(table["listen"], f"{where} listen")
        split_listen(listen, f"{where} listen")
    tokens: tuple[str, ...] = ()
    if "tokens" in table:
        values = _string_list(table["tokens"], f"{where} tokens")
        for n, token in enumerate(values, 1):
            if len(token) < _MIN_TOKEN_LENGTH or re.search(r"\s", token):
                raise ConfigurationError(
                    f"{where} tokens[{n}] must be at least {_MIN_TOKEN_LENGTH} characters without "
                    "spaces; generate one with: python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'"
                )
        tokens = tuple(dict.fromkeys(values))
    return IntakeConfig(listen, tokens)


def split_listen(listen: str, where: str = "listen address") -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) into its parts; ConfigurationError saying why not."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", listen)
    if match is None:
        raise ConfigurationError(
            f"{where} {listen!r} is not host:port; write e.g. '127.0.0.1:8470' or '[::1]:8470'"
        )
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if not 0 <= port <= 65535:  # 0: any free port (tests, the demo)
        raise ConfigurationError(f"{where} {listen!r}: port {port} is outside 0..65535")
    return host, port


# --- [channels] --------------------------------------------------------------------------------


def _default_channels(data_dir: Path) -> tuple[ChannelConfig, ...]:
    data_dir = data_dir.expanduser().absolute()
    return (
        ChannelConfig(
            name="archive",
            gateway="file",
            options={"directory": str(data_dir / "archive")},
            routing=RoutingRule(
                statuses=frozenset({"Actual", "Exercise", "System", "Test"}),
                scopes=frozenset(SCOPE),
                msg_types=frozenset(MSG_TYPE),
            ),
        ),
        ChannelConfig(
            name="console",
            gateway="log",
            options={},
            routing=RoutingRule(statuses=frozenset({"Actual", "Exercise"})),
        ),
    )


def _channels(section: Any, base_dir: Path, data_dir: Path) -> tuple[ChannelConfig, ...]:
    if section is None:
        return _default_channels(data_dir)
    table = _table(section, "[channels]")
    if not table:
        raise ConfigurationError(
            "[channels] lists no channel, so no alert could be delivered; add a "
            "[channels.NAME] table with gateway = '...', or remove [channels] to use the "
            "built-in archive and console channels"
        )
    channels = []
    for name, value in table.items():
        where = f"[channels.{name}]"
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise ConfigurationError(
                f"{where}: the channel name {name!r} must be 1 to 64 letters, digits, '_' or '-', "
                "starting with a letter or digit (it names files, logs and audit entries)"
            )
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"[channels] {name} must be a table ([channels.{name}] with gateway = '...'), "
                f"not {_kind(value)}"
            )
        channels.append(_channel(name, value, where, base_dir))
    return tuple(channels)


def _channel(name: str, table: Mapping[str, Any], where: str, base_dir: Path) -> ChannelConfig:
    if "gateway" not in table:
        raise ConfigurationError(
            f"{where} has no gateway; add gateway = 'file' (or 'log', ...) to say how the "
            "channel sends"
        )
    gateway = _string(table["gateway"], f"{where} gateway")
    if not (_NAME_RE.fullmatch(gateway) or _PLUGIN_RE.fullmatch(gateway)):
        raise ConfigurationError(
            f"{where} gateway {gateway!r} is neither a gateway name ('file', 'log', ...) nor a "
            "third-party gateway written as 'package.module:Class'"
        )
    routing = _routing(table, where)
    options = {
        key: _resolve_option(key, value, f"{where} {key}", base_dir)
        for key, value in table.items()
        if key not in CHANNEL_KEYS
    }

    def duration(key: str, default: timedelta) -> timedelta:
        return default if key not in table else parse_duration(table[key], f"{where} {key}")

    repeat_every = (
        None
        if "repeat_every" not in table
        else parse_duration(table["repeat_every"], f"{where} repeat_every")
    )
    backoff_initial = duration("backoff_initial", _DEFAULT_BACKOFF_INITIAL)
    backoff_max = duration("backoff_max", _DEFAULT_BACKOFF_MAX)
    if backoff_max < backoff_initial:
        raise ConfigurationError(
            f"{where} backoff_max ({_show(backoff_max)}) is shorter than backoff_initial "
            f"({_show(backoff_initial)}); make backoff_max at least backoff_initial"
        )
    rate: float | None = None
    if "rate_per_second" in table:
        rate = _positive_number(table["rate_per_second"], f"{where} rate_per_second")
    return ChannelConfig(
        name=name,
        gateway=gateway,
        options=options,
        routing=routing,
        repeat_every=repeat_every,
        max_attempts=_positive_int(
            table.get("max_attempts", _DEFAULT_MAX_ATTEMPTS), f"{where} max_attempts"
        ),
        backoff_initial=backoff_initial,
        backoff_max=backoff_max,
        concurrency=_positive_int(table.get("concurrency", 1), f"{where} concurrency"),
        rate_per_second=rate,
    )


def _show(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds:g}s"


def _resolve_option(key: str, value: Any, where: str, base_dir: Path) -> Any:
    if not (key in ("directory", "recipients") or key.endswith(("_file", "_path"))):
        return value
    if isinstance(value, str):
        return str(_resolve(value, base_dir)) if value else value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(_resolve(v, base_dir)) if v else v for v in value]
    raise ConfigurationError(f"{where} is a path and must be a string, not {_kind(value)}")


def _resolve(text: str, base_dir: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else base_dir / path


# --- routing keys ------------------------------------------------------------------------------


def _routing(table: Mapping[str, Any], where: str) -> RoutingRule:
    default = RoutingRule()

    def codes(key: str, allowed: Sequence[str], fallback: frozenset[str]) -> frozenset[str]:
        if key not in table:
            return fallback
        values = _choices(table[key], allowed, f"{where} {key}")
        if not values and key != "categories":
            raise ConfigurationError(
                f"{where} {key} is empty, so the channel would carry nothing; list at least one "
                f"of {', '.join(allowed)} (or remove {key} for the default "
                f"{', '.join(_ordered(fallback, allowed))})"
            )
        return frozenset(values)

    def threshold(key: str, allowed: Sequence[str]) -> str | None:
        if key not in table:
            return None
        return _choice(table[key], allowed, f"{where} {key}")

    return RoutingRule(
        statuses=codes("statuses", _STATUSES, default.statuses),
        scopes=codes("scopes", SCOPE, default.scopes),
        msg_types=codes("msg_types", MSG_TYPE, default.msg_types),
        categories=codes("categories", _CATEGORIES, default.categories),
        events=_events(table.get("events"), f"{where} events"),
        event_codes=_pairs(table.get("event_codes"), f"{where} event_codes"),
        min_severity=threshold("min_severity", _SEVERITIES),
        min_urgency=threshold("min_urgency", _URGENCIES),
        min_certainty=threshold("min_certainty", _CERTAINTIES),
        languages=_languages(table.get("languages"), f"{where} languages"),
        area=_area(table.get("area"), f"{where} area"),
    )


def _ordered(values: frozenset[str], order: Sequence[str]) -> list[str]:
    return [v for v in order if v in values]


def _choice(value: Any, allowed: Sequence[str], where: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where} must be one of {', '.join(allowed)}, not {_kind(value)}")
    by_folded = {a.casefold(): a for a in allowed}
    found = by_folded.get(" ".join(value.split()).casefold())
    if found is None:
        raise ConfigurationError(f"{where} {value!r} is not one of {', '.join(allowed)}")
    return found


def _choices(value: Any, allowed: Sequence[str], where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ConfigurationError(
            f"{where} must be a list such as [{', '.join(repr(a) for a in allowed[:2])}], "
            f"not {_kind(value)}"
        )
    return tuple(
        dict.fromkeys(_choice(item, allowed, f"{where}[{n}]") for n, item in enumerate(items, 1))
    )


def _events(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    events = _string_list(value, where)
    return tuple(dict.fromkeys(" ".join(e.split()) for e in events))


def _languages(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    ranges = _string_list(value, where)
    for n, text in enumerate(ranges, 1):
        if not _LANGUAGE_RANGE_RE.fullmatch(text):
            raise ConfigurationError(
                f"{where}[{n}] {text!r} is not a language range; write a language tag or its "
                "start, e.g. 'en', 'en-US' or 'fr-CA'"
            )
    return tuple(dict.fromkeys(ranges))


def _pairs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``{NAME = "VALUE"}``, ``{NAME = ["V1", "V2"]}`` or ``["NAME=VALUE", ...]``."""
    if value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for name, item in value.items():
            values = _string_list(item, f"{where} {name}")
            pairs.extend((str(name), v) for v in values)
    elif isinstance(value, list | str):
        for n, item in enumerate([value] if isinstance(value, str) else value, 1):
            if not isinstance(item, str) or "=" not in item:
                raise ConfigurationError(
                    f"{where}[{n}] {item!r} is not NAME=VALUE; write e.g. 'SAME=TOR', or use a "
                    "table: { SAME = 'TOR' }"
                )
            name, _, text = item.partition("=")
            pairs.append((name.strip(), text.strip()))
    else:
        raise ConfigurationError(
            f"{where} must be a table {{ NAME = 'VALUE' }} or a list of 'NAME=VALUE', "
            f"not {_kind(value)}"
        )
    for name, text in pairs:
        if not name or not text:
            raise ConfigurationError(
                f"{where} {name or '?'}={text or '?'}: both the name and the value are needed"
            )
    return tuple(dict.fromkeys(pairs))


def _area(value: Any, where: str) -> AreaFilter:
    if value is None:
        return AreaFilter()
    table = _table(value, where)
    _check_keys(table, _AREA_KEYS, where)
    polygons = tuple(
        _polygon(text, f"{where} polygons[{n}]")
        for n, text in enumerate(_string_list(table.get("polygons", []), f"{where} polygons"), 1)
    )
    circles = tuple(
        _circle(text, f"{where} circles[{n}]")
        for n, text in enumerate(_string_list(table.get("circles", []), f"{where} circles"), 1)
    )
    geocodes = _pairs(table.get("geocodes"), f"{where} geocodes")
    area = AreaFilter(polygons, circles, geocodes)
    if area.is_empty:
        raise ConfigurationError(
            f"{where} is empty; give polygons, circles or geocodes, or remove the area table "
            "for a channel that covers everywhere"
        )
    return area


def _polygon(text: str, where: str) -> tuple[tuple[float, float], ...]:
    points = [_point(token, f"{where} point {n}") for n, token in enumerate(text.split(), 1)]
    if points and points[0] != points[-1]:
        points.append(points[0])
    distinct = len(set(points))
    if distinct < 3:
        raise ConfigurationError(
            f"{where} has {distinct} distinct point(s); a polygon needs at least 3, written "
            "'lat,lon lat,lon lat,lon ...'"
        )
    return tuple(points)


def _circle(text: str, where: str) -> tuple[float, float, float]:
    parts = text.split()
    if len(parts) != 2:
        raise ConfigurationError(
            f"{where} {text!r} is not a circle; write 'lat,lon radius_km', e.g. "
            "'-1.2921,36.8219 25'"
        )
    lat, lon = _point(parts[0], f"{where} centre")
    radius = _float(parts[1], f"{where} radius")
    if not radius > 0:
        raise ConfigurationError(f"{where} radius must be more than 0 km, not {parts[1]}")
    return (lat, lon, radius)


def _point(token: str, where: str) -> tuple[float, float]:
    parts = token.split(",")
    if len(parts) != 2:
        raise ConfigurationError(
            f"{where} {token!r} is not a point; write latitude,longitude (e.g. 38.47,-120.14)"
        )
    lat = _float(parts[0], f"{where} latitude")
    lon = _float(parts[1], f"{where} longitude")
    if not -90 <= lat <= 90:
        raise ConfigurationError(
            f"{where}: latitude {parts[0]} is outside -90..90; write latitude first"
        )
    if not -180 <= lon <= 180:
        raise ConfigurationError(f"{where}: longitude {parts[1]} is outside -180..180")
    return (lat, lon)


def _float(text: str, where: str) -> float:
    if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", text.strip()):
        raise ConfigurationError(f"{where} {text!r} is not a decimal number")
    return float(text)


# --- plain values ------------------------------------------------------------------------------


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a table, not {_kind(value)}")
    return value


def _check_keys(table: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    unknown = [k for k in table if k not in known]
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(known)}"
        )


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where} must be a non-empty string, not {_kind(value)}")
    return value.strip()


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ConfigurationError(f"{where} must be a list of strings, not {_kind(value)}")
    return tuple(_string(item, f"{where}[{n}]") for n, item in enumerate(items, 1))


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{where} must be a whole number, not {_kind(value)}")
    if value < 1:
        raise ConfigurationError(f"{where} must be at least 1, not {value}")
    return value


def _positive_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{where} must be a number, not {_kind(value)}")
    number = float(value)
    if not 0 < number < float("inf"):
        raise ConfigurationError(f"{where} must be a positive number, not {value!r}")
    return number


def _duration_seconds(text: str) -> float | None:
    if _COMPACT_DURATION_RE.fullmatch(text):
        return sum(
            float(amount) * _UNIT_SECONDS[unit] for amount, unit in _COMPACT_PART_RE.findall(text)
        )
    match = _ISO_DURATION_RE.fullmatch(text.upper())
    if match is None or text.upper() in ("P", "PT") or text.upper().endswith("T"):
        return None
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds


def _kind(value: Any) -> str:
    kinds: Mapping[type, str] = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
    }
    for cls, name in kinds.items():
        if isinstance(value, cls):
            return f"{name} ({value!r})" if cls in (bool, int, float, str) else name
    if value is None:
        return "nothing"
    return type(value).__name__
