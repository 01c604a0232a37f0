"""The ``[outage]`` section of the configuration file: how much each source is trusted, how fast
its reports go stale, how far a cell site reaches, and where the report store lives.

Every key has an embedded default, so a file needs only what it changes::

    [outage]
    store = "outage.db"          # relative to the configuration file's folder
    max_age = "7d"               # a report older than this counts for nothing
    area_site_weight = 0.5       # an area report counts this much on each site in the area
    down_below = 0.5             # service probability under this: down
    up_from = 0.9                # at or over this: up (in between: degraded)
    max_range = 35000            # metres; longer coverage ranges are cut to this

    [outage.sources.crowd]       # operator, regulator, field_team, crowd, probe
    trust = 0.3                  # 0 < trust <= 1: a fresh report's weight
    half_life = "3h"             # its weight halves every half-life

    [outage.coverage]            # metres, when the inventory gives no range
    gsm = 5000
    default = 3000               # a site whose technology is not known

Durations are ``"90s"``, ``"15m"``, ``"6h"``, ``"1h30m"``, ``"7d"``, ISO 8601 (``"PT6H"``) or
a number of seconds. Errors name the table and the key (:class:`OutageConfigError`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from outage_map.errors import OutageConfigError
from outage_map.model import SourceKind, Technology

__all__ = [
    "DEFAULT_COVERAGE_M",
    "DEFAULT_SOURCES",
    "MergePolicy",
    "OutageConfig",
    "SourcePolicy",
    "default_outage_config",
    "outage_config_from",
    "parse_outage_config",
]


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """How much one kind of source counts: a fresh report weighs ``trust`` and its weight halves
    every ``half_life_s`` seconds."""

    trust: float
    half_life_s: float


DEFAULT_SOURCES: Final[Mapping[SourceKind, SourcePolicy]] = MappingProxyType(
    {
        # The operator knows its own sites; its status changes as crews work, so it ages fast.
        SourceKind.OPERATOR: SourcePolicy(0.9, 6 * 3600.0),
        # Regulators publish daily tables (DIRS, status pages): trusted, stale after a day.
        SourceKind.REGULATOR: SourcePolicy(0.8, 24 * 3600.0),
        # Someone went and looked.
        SourceKind.FIELD_TEAM: SourcePolicy(0.8, 12 * 3600.0),
        # Many, noisy, and about one phone at one moment.
        SourceKind.CROWD: SourcePolicy(0.3, 3 * 3600.0),
        # Automated measurements repeat often, so each one need not last.
        SourceKind.PROBE: SourcePolicy(0.6, 1 * 3600.0),
    }
)

DEFAULT_COVERAGE_M: Final[Mapping[Technology, float]] = MappingProxyType(
    {
        Technology.GSM: 5000.0,
        Technology.CDMA: 5000.0,
        Technology.UMTS: 2000.0,
        Technology.LTE: 2000.0,
        Technology.NR: 500.0,
    }
)

_DEFAULT_MAX_AGE_S: Final = 7 * 86400.0
_MAX_HALF_LIVES: Final = 1000.0  # 2**-1000 is still a normal float64
_SOURCE_ORDER: Final = tuple(SourceKind)
_TECH_ORDER: Final = tuple(Technology)


@dataclass(frozen=True, slots=True)
class MergePolicy:
    """The parameters of the merge (see ``docs/outage-merge.md``). Frozen; the mappings are
    read-only views."""

    sources: Mapping[SourceKind, SourcePolicy] = field(default_factory=lambda: DEFAULT_SOURCES)
    max_age_s: float = _DEFAULT_MAX_AGE_S
    area_site_weight: float = 0.5
    down_below: float = 0.5
    up_from: float = 0.9
    coverage_m: Mapping[Technology, float] = field(default_factory=lambda: DEFAULT_COVERAGE_M)
    default_range_m: float = 3000.0
    max_range_m: float = 35000.0

    def __post_init__(self) -> None:
        missing = [k.value for k in SourceKind if k not in self.sources]
        if missing:
            raise OutageConfigError(f"merge policy has no trust for source kind(s) {missing}")
        for kind, rule in self.sources.items():
            _check_source(kind.value, rule, self.max_age_s)
        if not 0.0 < self.max_age_s < math.inf:
            raise OutageConfigError(f"[outage] max_age {self.max_age_s}: must be a positive time")
        if not 0.0 < self.max_range_m <= 1_000_000.0:
            raise OutageConfigError(
                f"[outage] max_range {self.max_range_m}: must be over 0 and at most 1000 km"
            )
        if not 0.0 < self.area_site_weight <= 1.0:
            raise OutageConfigError(
                f"[outage] area_site_weight {self.area_site_weight}: must be over 0 and at most 1"
            )
        if not 0.0 < self.down_below < self.up_from <= 1.0:
            raise OutageConfigError(
                f"[outage] down_below {self.down_below} and up_from {self.up_from}: need "
                "0 < down_below < up_from <= 1"
            )
        for name, value in [("default", self.default_range_m), *self._coverage_items()]:
            if not 0.0 < value <= self.max_range_m:
                raise OutageConfigError(
                    f"[outage.coverage] {name} {value}: must be over 0 and at most max_range "
                    f"({self.max_range_m:g} m)"
                )

    def _coverage_items(self) -> list[tuple[str, float]]:
        return [(tech.value, value) for tech, value in self.coverage_m.items()]

    def trust_by_code(self) -> NDArray[np.float64]:
        """Trust per source-kind code (the order of :class:`SourceKind`)."""
        return np.array([self.sources[k].trust for k in _SOURCE_ORDER], dtype=np.float64)

    def half_life_by_code(self) -> NDArray[np.float64]:
        return np.array([self.sources[k].half_life_s for k in _SOURCE_ORDER], dtype=np.float64)

    def range_by_code(self) -> NDArray[np.float64]:
        """Default coverage range per technology code; the last entry is for unknown."""
        values = [self.coverage_m.get(t, self.default_range_m) for t in _TECH_ORDER]
        return np.array([*values, self.default_range_m], dtype=np.float64)

    def weight(self, kind: SourceKind, age_s: ArrayLike) -> NDArray[np.float64]:
        """A report's weight at an age: ``trust * 2 ** (-age / half_life)`` while
        ``0 <= age < max_age``, else 0. Vectorised over ``age_s``."""
        rule = self.sources[kind]
        age = np.asarray(age_s, dtype=np.float64)
        live = (age >= 0.0) & (age < self.max_age_s)
        decayed = rule.trust * np.exp2(-np.where(live, age, 0.0) / rule.half_life_s)
        return np.where(live, decayed, 0.0)

    def status_of(self, probability: float) -> str:
        """The status a service probability means under this policy (NaN: unknown)."""
        if math.isnan(probability):
            return "unknown"
        probability = round(probability, 9)  # a figure on a threshold lands on it (see merge)
        if probability < self.down_below:
            return "down"
        return "up" if probability >= self.up_from else "degraded"

    def to_json(self) -> str:
        """The policy as compact JSON with sorted keys (for GeoTIFF tags and reports)."""
        document = {
            "sources": {
                k.value: {"trust": r.trust, "half_life_s": r.half_life_s}
                for k, r in sorted(self.sources.items())
            },
            "max_age_s": self.max_age_s,
            "area_site_weight": self.area_site_weight,
            "down_below": self.down_below,
            "up_from": self.up_from,
            "coverage_m": {t.value: v for t, v in sorted(self.coverage_m.items())},
            "default_range_m": self.default_range_m,
            "max_range_m": self.max_range_m,
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class OutageConfig:
    """The parsed ``[outage]`` section."""

    policy: MergePolicy
    store_path: Path


def default_outage_config(data_dir: Path) -> OutageConfig:
    """The embedded defaults: the policy above and ``DATA_DIR/outage.db``."""
    return OutageConfig(MergePolicy(), data_dir.expanduser() / "outage.db")


def outage_config_from(
    raw: Mapping[str, Any], config_path: Path | None, data_dir: Path
) -> OutageConfig:
    """The ``[outage]`` section of a loaded :class:`cap.config.TocsinConfig` (``raw`` and
    ``path``), or the defaults when there is no file. Errors are prefixed with the file."""
    if config_path is None:
        return default_outage_config(data_dir)
    try:
        return parse_outage_config(raw, base_dir=config_path.parent, data_dir=data_dir)
    except OutageConfigError as exc:
        raise OutageConfigError(f"{config_path}: {exc}") from None


_TOP_KEYS: Final = (
    "store",
    "max_age",
    "area_site_weight",
    "down_below",
    "up_from",
    "max_range",
    "sources",
    "coverage",
)
_SOURCE_KEYS: Final = ("trust", "half_life")


def parse_outage_config(raw: Mapping[str, Any], *, base_dir: Path, data_dir: Path) -> OutageConfig:
    """The ``[outage]`` table of a parsed TOML document (absent: the defaults)."""
    section = raw.get("outage")
    if section is None:
        return default_outage_config(data_dir)
    table = _table(section, "[outage]")
    _check_keys(table, _TOP_KEYS, "[outage]")
    defaults = MergePolicy()
    max_age_s = (
        _duration(table["max_age"], "[outage] max_age")
        if "max_age" in table
        else defaults.max_age_s
    )
    sources = dict(defaults.sources)
    source_tables = _table(table.get("sources", {}), "[outage.sources]")
    known_kinds = [k.value for k in SourceKind]
    for name, value in source_tables.items():
        where = f"[outage.sources.{name}]"
        if name not in known_kinds:
            raise OutageConfigError(
                f"[outage.sources] has an unknown source kind {name!r}; "
                f"known: {', '.join(known_kinds)}"
            )
        entry = _table(value, where)
        _check_keys(entry, _SOURCE_KEYS, where)
        kind = SourceKind(name)
        old = sources[kind]
        trust = _number(entry["trust"], f"{where} trust") if "trust" in entry else old.trust
        half_life = (
            _duration(entry["half_life"], f"{where} half_life")
            if "half_life" in entry
            else old.half_life_s
        )
        rule = SourcePolicy(trust, half_life)
        _check_source(name, rule, max_age_s, where=where)
        sources[kind] = rule
    for kind, rule in sources.items():
        _check_source(kind.value, rule, max_age_s, where=f"[outage.sources.{kind.value}]")
    max_range = (
        _number(table["max_range"], "[outage] max_range")
        if "max_range" in table
        else defaults.max_range_m
    )
    coverage = dict(defaults.coverage_m)
    default_range = defaults.default_range_m
    coverage_table = _table(table.get("coverage", {}), "[outage.coverage]")
    known_techs = [t.value for t in Technology]
    for name, value in coverage_table.items():
        where = f"[outage.coverage] {name}"
        metres = _number(value, where)
        if not 0.0 < metres <= max_range:
            raise OutageConfigError(
                f"{where} {value!r}: a coverage range must be over 0 and at most max_range "
                f"({max_range:g} m)"
            )
        if name == "default":
            default_range = metres
        elif name in known_techs:
            coverage[Technology(name)] = metres
        else:
            raise OutageConfigError(
                f"[outage.coverage] has an unknown technology {name!r}; "
                f"known: {', '.join(known_techs)}, default"
            )
    numbers: dict[str, float] = {}
    for key in ("area_site_weight", "down_below", "up_from"):
        if key in table:
            numbers[key] = _number(table[key], f"[outage] {key}")
    policy = MergePolicy(
        sources=MappingProxyType(sources),
        max_age_s=max_age_s,
        area_site_weight=numbers.get("area_site_weight", defaults.area_site_weight),
        down_below=numbers.get("down_below", defaults.down_below),
        up_from=numbers.get("up_from", defaults.up_from),
        coverage_m=MappingProxyType(coverage),
        default_range_m=default_range,
        max_range_m=max_range,
    )
    store = data_dir.expanduser() / "outage.db"
    if "store" in table:
        text = table["store"]
        if not isinstance(text, str) or not text.strip():
            raise OutageConfigError(
                f"[outage] store must be a file path such as 'outage.db', not {text!r}"
            )
        path = Path(text).expanduser()
        store = path if path.is_absolute() else base_dir / path
    return OutageConfig(policy, store)


def _check_source(name: str, rule: SourcePolicy, max_age_s: float, where: str = "") -> None:
    where = where or f"[outage.sources.{name}]"
    if not 0.0 < rule.trust <= 1.0:
        raise OutageConfigError(
            f"{where} trust {rule.trust}: must be over 0 and at most 1 (a fresh report's weight)"
        )
    if not 0.0 < rule.half_life_s < math.inf:
        raise OutageConfigError(f"{where} half_life {rule.half_life_s}: must be a positive time")
    if max_age_s > _MAX_HALF_LIVES * rule.half_life_s:
        raise OutageConfigError(
            f"{where} half_life {rule.half_life_s:g} s is under 1/1000 of max_age "
            f"({max_age_s:g} s): reports would weigh nothing long before they expire; "
            "raise half_life or lower max_age"
        )


_COMPACT_RE: Final = re.compile(r"(?:\d+(?:\.\d+)?(?:w|d|h|min|m|s))+")
_PART_RE: Final = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|min|m|s)")
_ISO_RE: Final = re.compile(
    r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_UNIT_S: Final = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "min": 60.0, "m": 60.0, "s": 1.0}


def _duration(value: Any, where: str) -> float:
    """Seconds of a positive duration."""
    seconds: float | None
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if _COMPACT_RE.fullmatch(text):
            seconds = sum(float(n) * _UNIT_S[u] for n, u in _PART_RE.findall(text))
        else:
            match = _ISO_RE.fullmatch(text.upper())
            if match is None or text.upper() in ("P", "PT") or text.upper().endswith("T"):
                seconds = None
            else:
                w, d, h, m, s = (float(g) if g else 0.0 for g in match.groups())
                seconds = (((w * 7 + d) * 24 + h) * 60 + m) * 60 + s
    else:
        seconds = None
    if seconds is None:
        raise OutageConfigError(
            f"{where} {value!r} is not a duration; write e.g. '90s', '15m', '6h', '1h30m', "
            "'7d', 'PT6H' or a number of seconds"
        )
    if not 0.0 < seconds < math.inf:
        raise OutageConfigError(f"{where} {value!r}: must be a positive duration")
    return seconds


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OutageConfigError(f"{where} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise OutageConfigError(f"{where} must be a finite number, not {value!r}")
    return number


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise OutageConfigError(f"{where} must be a table, not {value!r}")
    return value


def _check_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise OutageConfigError(
            f"{where} has unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
