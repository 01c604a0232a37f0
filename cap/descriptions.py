"""Alert descriptions: the nested mappings (from TOML, YAML, JSON or command-line options) that
:mod:`cap.authoring` turns into alerts.

A description mirrors the model with snake_case keys (``msg_type``, ``info`` -> ``areas`` ->
``polygons``) so that a file written by hand reads like the alert it becomes. This module knows
the keys, reads description text, merges command-line options into a description and turns an
existing alert back into a description (the starting point of an update).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import yaml

from cap.errors import CapAuthoringError
from cap.model import Alert, Area, Info, Resource, ValuePair
from cap.textcodecs import format_circle, format_polygon
from cap.timefmt import format_cap_datetime

DescriptionFormat = Literal["toml", "yaml", "json"]

ALERT_KEYS: Final = (
    "identifier",
    "sender",
    "status",
    "msg_type",
    "scope",
    "source",
    "restriction",
    "addresses",
    "codes",
    "note",
    "references",
    "incidents",
    "info",
)
INFO_KEYS: Final = (
    "language",
    "category",
    "event",
    "response_type",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "event_codes",
    "effective",
    "onset",
    "expires",
    "sender_name",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameters",
    "resources",
    "areas",
)
AREA_KEYS: Final = ("area_desc", "polygons", "circles", "geocodes", "altitude", "ceiling")
RESOURCE_KEYS: Final = ("resource_desc", "mime_type", "size", "uri", "deref_uri", "digest")
CIRCLE_KEYS: Final = ("center", "radius_km")
PAIR_KEYS: Final = ("value_name", "value")

_SUFFIXES: Final[dict[str, DescriptionFormat]] = {
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
}
_PAIR_OPTIONS: Final = ("event_codes", "parameters", "geocodes")
# Singular spellings a command line uses for repeatable values (``--polygon A --polygon B``).
_OPTION_ALIASES: Final = {
    "code": "codes",
    "address": "addresses",
    "incident": "incidents",
    "categories": "category",
    "response_types": "response_type",
    "event_code": "event_codes",
    "parameter": "parameters",
    "polygon": "polygons",
    "circle": "circles",
    "geocode": "geocodes",
}
_ALERT_OPTIONS: Final = tuple(k for k in ALERT_KEYS if k not in ("info", "references"))
_INFO_OPTIONS: Final = tuple(k for k in INFO_KEYS if k not in ("resources", "areas"))
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])([A-Z])")


def at(where: str, key: str) -> str:
    """The location of ``key`` inside ``where`` as messages print it (``info[1].areas[2]``)."""
    return f"{where}.{key}" if where else key


def unknown_key_error(key: str, known: Sequence[str], where: str) -> CapAuthoringError:
    """An error for a key the description format does not have, with the likeliest intent."""
    place = where or "the top level of the description"
    guess = _suggest(key, known)
    hint = (
        f"; did you mean {guess!r}?" if guess else f"; the keys allowed here are {_listed(known)}"
    )
    return CapAuthoringError(f"{place}: unknown key {key!r}{hint}")


def check_keys(mapping: Mapping[Any, Any], known: Sequence[str], where: str) -> None:
    for key in mapping:
        if not isinstance(key, str):
            raise CapAuthoringError(f"{where or 'the description'}: key {key!r} is not text")
        if key not in known:
            raise unknown_key_error(key, known, where)


def _suggest(key: str, known: Sequence[str]) -> str | None:
    snake = _CAMEL_RE.sub(r"_\1", key).lower().replace("-", "_")
    if snake in known:
        return snake
    plural = snake + "s"
    if plural in known:
        return plural
    close = difflib.get_close_matches(snake, known, n=1, cutoff=0.6)
    return close[0] if close else None


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names)


def description_format_for(path_name: str) -> DescriptionFormat:
    """The description format a file name announces by its extension."""
    lowered = path_name.lower()
    for suffix, fmt in _SUFFIXES.items():
        if lowered.endswith(suffix):
            return fmt
    raise CapAuthoringError(
        f"{path_name}: cannot tell the description format from the file name; "
        "use a .toml, .yaml, .yml or .json file"
    )


def load_description(text: str, fmt: DescriptionFormat) -> dict[str, Any]:
    """Parse description text; syntax errors name the line and column the parser reports."""
    data: Any
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CapAuthoringError(f"the TOML description is not valid TOML: {exc}") from None
    elif fmt == "yaml":
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CapAuthoringError(_yaml_problem(exc)) from None
    elif fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CapAuthoringError(
                f"the JSON description is not valid JSON: {exc.msg} "
                f"(at line {exc.lineno}, column {exc.colno})"
            ) from None
    else:
        raise CapAuthoringError(f"unknown description format {fmt!r}; use toml, yaml or json")
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise CapAuthoringError(
            f"the {fmt.upper()} description is {kind}; it must be a mapping of keys such as "
            "sender, status and info at the top level"
        )
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return (
            f"the YAML description is not valid YAML: {problem} "
            f"(at line {mark.line + 1}, column {mark.column + 1})"
        )
    return f"the YAML description is not valid YAML: {problem}"


def pair_items(value: Any, where: str) -> list[tuple[Any, Any]]:
    """The ``(name, value)`` pairs of a pair list in any of its description forms.

    Accepted: a mapping ``{name: value}`` (a list value repeats the name), a list of
    ``[name, value]`` pairs, ``{value_name, value}`` mappings or ``"name=value"`` strings, or one
    ``"name=value"`` string. Names and values are checked by the caller.
    """
    if isinstance(value, Mapping):
        items: list[tuple[Any, Any]] = []
        for name, v in value.items():
            if isinstance(v, list | tuple):
                items.extend((name, one) for one in v)
            else:
                items.append((name, v))
        return items
    if isinstance(value, str):
        return [_pair_from_text(value, where)]
    if not isinstance(value, list | tuple):
        raise CapAuthoringError(
            f"{where}: expected a table of name = value or a list of [name, value] pairs, "
            f"not {_kind(value)}"
        )
    items = []
    for n, item in enumerate(value, 1):
        here = f"{where}[{n}]"
        if isinstance(item, str):
            items.append(_pair_from_text(item, here))
        elif isinstance(item, list | tuple) and len(item) == 2:
            items.append((item[0], item[1]))
        elif isinstance(item, Mapping):
            check_keys(item, PAIR_KEYS, here)
            if "value_name" not in item or "value" not in item:
                raise CapAuthoringError(f"{here}: give both value_name and value")
            items.append((item["value_name"], item["value"]))
        else:
            raise CapAuthoringError(
                f"{here}: expected [name, value] or 'name=value', not {_kind(item)}"
            )
    return items


def _pair_from_text(text: str, where: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise CapAuthoringError(f"{where}: {text!r} is not name=value (e.g. SAME=006109)")
    return name.strip(), value.strip()


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"


def apply_options(desc: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``desc`` with command-line options laid over it (the input is not changed).

    Option names are description keys (dashes allowed, singular forms such as ``polygon``
    accepted); ``None`` means "not given". Alert-level options replace the alert's value;
    info-level options apply to every info (one is created if there is none); area options
    (``area_desc``, ``polygon``, ``circle``, ``geocode``, ``altitude``, ``ceiling``) apply to the
    single area of each info (one is created if there is none). Pair options (``event_code``,
    ``parameter``, ``geocode`` as ``NAME=VALUE``) replace the pairs of the same names and keep
    the others.
    """
    result: dict[str, Any] = copy.deepcopy(dict(desc))
    alert_opts: dict[str, Any] = {}
    info_opts: dict[str, Any] = {}
    area_opts: dict[str, Any] = {}
    known = (*_ALERT_OPTIONS, *_INFO_OPTIONS, *AREA_KEYS)
    for raw_name, value in options.items():
        name = raw_name.replace("-", "_")
        name = _OPTION_ALIASES.get(name, name)
        if value is None:
            continue
        if name in _ALERT_OPTIONS:
            alert_opts[name] = value
        elif name in _INFO_OPTIONS:
            info_opts[name] = value
        elif name in AREA_KEYS:
            area_opts[name] = value
        else:
            guess = _suggest(name, known)
            hint = f"; did you mean {guess.replace('_', '-')!r}?" if guess else ""
            raise CapAuthoringError(f"unknown option {raw_name!r}{hint}")
    for name, value in alert_opts.items():
        if name == "codes" and isinstance(value, str):
            value = [value]
        result[name] = value
    if not info_opts and not area_opts:
        return result
    infos = result.get("info")
    if infos is None or infos == []:
        infos = [{}]
    elif isinstance(infos, Mapping):
        infos = [infos]
    if not isinstance(infos, list):
        raise CapAuthoringError(f"info: expected a list of info tables, not {_kind(infos)}")
    new_infos: list[Any] = []
    for n, info in enumerate(infos, 1):
        if not isinstance(info, Mapping):
            raise CapAuthoringError(f"info[{n}]: expected a table, not {_kind(info)}")
        new_info = dict(info)
        _lay_over(new_info, info_opts, f"info[{n}]")
        if area_opts:
            new_info["areas"] = _areas_with(new_info.get("areas"), area_opts, f"info[{n}]")
        new_infos.append(new_info)
    result["info"] = new_infos
    return result


def _lay_over(target: dict[str, Any], opts: Mapping[str, Any], where: str) -> None:
    for name, value in opts.items():
        if name in _PAIR_OPTIONS:
            target[name] = _merged_pairs(target.get(name), value, at(where, name))
        else:
            target[name] = value


def _areas_with(areas: Any, opts: Mapping[str, Any], where: str) -> list[Any]:
    if areas is None or areas == []:
        areas = [{}]
    elif isinstance(areas, Mapping):
        areas = [areas]
    if not isinstance(areas, list):
        raise CapAuthoringError(f"{where}.areas: expected a list of area tables")
    if len(areas) != 1:
        given = ", ".join(sorted(opts))
        raise CapAuthoringError(
            f"{where} has {len(areas)} areas, so the area options ({given}) are ambiguous; "
            "edit the areas in the description instead"
        )
    if not isinstance(areas[0], Mapping):
        raise CapAuthoringError(f"{where}.areas[1]: expected a table, not {_kind(areas[0])}")
    area = dict(areas[0])
    _lay_over(area, opts, f"{where}.areas[1]")
    return [area]


def _merged_pairs(existing: Any, new: Any, where: str) -> list[list[Any]]:
    new_items = pair_items(new, where)
    names = {name for name, _ in new_items}
    kept = [] if existing is None else pair_items(existing, where)
    return [[name, value] for name, value in kept if name not in names] + [
        [name, value] for name, value in new_items
    ]


def description_from_alert(alert: Alert) -> dict[str, Any]:
    """The alert as a description (without ``identifier``, which a new alert gets afresh).

    Times are CAP strings, pairs are ``[name, value]`` lists, polygons and circles CAP text,
    so the result can be written as TOML/YAML/JSON and read back. CAP 1.1's certainty
    ``Very Likely`` becomes ``Likely``, as CAP 1.2 (section 3.2.2, certainty) directs.
    """
    desc: dict[str, Any] = {"sender": alert.sender, "status": alert.status}
    _put(desc, "msg_type", alert.msg_type)
    _put(desc, "scope", alert.scope)
    _put(desc, "source", alert.source)
    _put(desc, "restriction", alert.restriction)
    _put(desc, "addresses", alert.addresses)
    _put(desc, "codes", list(alert.codes))
    _put(desc, "note", alert.note)
    _put(desc, "references", [r.as_text() for r in alert.references])
    _put(desc, "incidents", list(alert.incidents))
    desc["info"] = [_info_description(info) for info in alert.infos]
    return desc


def _put(desc: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "" and value != []:
        desc[key] = value


def _pairs_description(pairs: Sequence[ValuePair]) -> list[list[str]]:
    return [[p.value_name, p.value] for p in pairs]


def _info_description(info: Info) -> dict[str, Any]:
    desc: dict[str, Any] = {}
    _put(desc, "language", info.language)
    desc["category"] = list(info.category)
    desc["event"] = info.event
    _put(desc, "response_type", list(info.response_type))
    desc["urgency"] = info.urgency
    desc["severity"] = info.severity
    desc["certainty"] = "Likely" if info.certainty == "Very Likely" else info.certainty
    _put(desc, "audience", info.audience)
    _put(desc, "event_codes", _pairs_description(info.event_codes))
    for key, when in (
        ("effective", info.effective),
        ("onset", info.onset),
        ("expires", info.expires),
    ):
        if when is not None:
            desc[key] = format_cap_datetime(when)
    _put(desc, "sender_name", info.sender_name)
    _put(desc, "headline", info.headline)
    _put(desc, "description", info.description)
    _put(desc, "instruction", info.instruction)
    _put(desc, "web", info.web)
    _put(desc, "contact", info.contact)
    _put(desc, "parameters", _pairs_description(info.parameters))
    _put(desc, "resources", [_resource_description(r) for r in info.resources])
    _put(desc, "areas", [_area_description(a) for a in info.areas])
    return desc


def _resource_description(resource: Resource) -> dict[str, Any]:
    desc: dict[str, Any] = {"resource_desc": resource.resource_desc}
    _put(desc, "mime_type", resource.mime_type)
    _put(desc, "size", resource.size)
    _put(desc, "uri", resource.uri)
    _put(desc, "deref_uri", resource.deref_uri)
    _put(desc, "digest", resource.digest)
    return desc


def _area_description(area: Area) -> dict[str, Any]:
    desc: dict[str, Any] = {"area_desc": area.area_desc}
    _put(desc, "polygons", [format_polygon(p) for p in area.polygons])
    _put(desc, "circles", [format_circle(c) for c in area.circles])
    _put(desc, "geocodes", _pairs_description(area.geocodes))
    if area.altitude is not None:
        desc["altitude"] = format(area.altitude, "f")
    if area.ceiling is not None:
        desc["ceiling"] = format(area.ceiling, "f")
    return desc
