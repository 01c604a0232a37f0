"""Alert templates: ready-made descriptions for common hazards, shipped in ``cap/templates``.

A template is a TOML description (see :mod:`cap.descriptions`) plus a ``[template]`` table with
its title, a one-line description and its placeholders. Placeholders are written ``{name}`` in
any text value; :func:`render_template` fills them from the caller's values, else from the
placeholder's default. Geography (areas, polygons, geocodes) never has a default: an alert must
not go to a made-up place because an operator forgot to say where.
"""

from __future__ import annotations

import copy
import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final

from cap.errors import CapAuthoringError

_PLACEHOLDER_RE: Final = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_NAME_RE: Final = re.compile(r"[a-z0-9][a-z0-9-]*")
_META_KEYS: Final = ("title", "description", "placeholders")
_PLACEHOLDER_KEYS: Final = ("help", "default")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A ``{name}`` in a template; ``default`` is ``None`` when the caller must give a value."""

    name: str
    help: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str
    title: str
    description: str
    placeholders: tuple[Placeholder, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """The placeholders without a default, which every use must fill."""
        return tuple(p.name for p in self.placeholders if p.default is None)


def _directory() -> Traversable:
    return resources.files("cap").joinpath("templates")


def template_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _directory().iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    )


def list_templates() -> list[TemplateInfo]:
    """Every shipped template, by name."""
    return [template_info(name) for name in template_names()]


def _read(name: str) -> dict[str, Any]:
    known = template_names()
    if not _NAME_RE.fullmatch(name) or name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        raise CapAuthoringError(
            f"unknown template {name!r}; {guess}the templates are: {', '.join(known)}"
        )
    text = _directory().joinpath(f"{name}.toml").read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CapAuthoringError(f"template {name!r} is not valid TOML: {exc}") from None


def template_info(name: str) -> TemplateInfo:
    """The title, description and placeholders of one template."""
    meta = _read(name).get("template")
    if not isinstance(meta, Mapping):
        raise CapAuthoringError(f"template {name!r} has no [template] table")
    _check_keys(meta, _META_KEYS, f"template {name!r} [template]")
    placeholders: list[Placeholder] = []
    table = meta.get("placeholders", {})
    if not isinstance(table, Mapping):
        raise CapAuthoringError(f"template {name!r}: [template.placeholders] must be a table")
    for key, spec in table.items():
        if not isinstance(spec, Mapping):
            raise CapAuthoringError(f"template {name!r}: placeholder {key!r} must be a table")
        _check_keys(spec, _PLACEHOLDER_KEYS, f"template {name!r} placeholder {key!r}")
        default = spec.get("default")
        placeholders.append(
            Placeholder(
                str(key), str(spec.get("help", "")), None if default is None else str(default)
            )
        )
    return TemplateInfo(
        name=name,
        title=str(meta.get("title", name)),
        description=str(meta.get("description", "")),
        placeholders=tuple(placeholders),
    )


def _check_keys(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            raise CapAuthoringError(f"{where}: unknown key {key!r}; allowed: {', '.join(known)}")


def load_template(name: str) -> dict[str, Any]:
    """The template's description with its ``{placeholders}`` still in place."""
    data = _read(name)
    data.pop("template", None)
    return data


def placeholders_used(desc: Any) -> set[str]:
    """Every ``{name}`` that occurs in a description's text values."""
    if isinstance(desc, str):
        return set(_PLACEHOLDER_RE.findall(desc))
    if isinstance(desc, Mapping):
        return set().union(*(placeholders_used(v) for v in desc.values()))
    if isinstance(desc, list | tuple):
        return set().union(*(placeholders_used(v) for v in desc))
    return set()


def render_template(name: str, values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The template's description with every placeholder filled.

    ``values`` win over defaults; a placeholder without either, or a value for a placeholder
    the template does not have, is an error naming it.
    """
    info = template_info(name)
    given = dict(values or {})
    declared = {p.name: p for p in info.placeholders}
    for key in given:
        if key not in declared:
            close = difflib.get_close_matches(key, list(declared), n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise CapAuthoringError(
                f"template {name!r} has no placeholder {key!r}; {guess}"
                f"it has: {', '.join(declared) or 'none'}"
            )
    filled: dict[str, str] = {}
    missing: list[str] = []
    for placeholder in info.placeholders:
        value = given.get(placeholder.name, placeholder.default)
        if value is None:
            missing.append(placeholder.name)
        elif not isinstance(value, str):
            raise CapAuthoringError(
                f"template {name!r}: the value for {placeholder.name!r} must be text"
            )
        else:
            filled[placeholder.name] = value
    if missing:
        details = "; ".join(f"{m} ({declared[m].help})" for m in missing)
        raise CapAuthoringError(f"template {name!r} needs a value for: {details}")
    desc = load_template(name)
    undeclared = placeholders_used(desc) - set(declared)
    if undeclared:
        raise CapAuthoringError(
            f"template {name!r} uses undeclared placeholder(s) {', '.join(sorted(undeclared))}"
        )
    result = _fill(copy.deepcopy(desc), filled)
    assert isinstance(result, dict)
    return result


def _fill(value: Any, filled: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER_RE.sub(lambda m: filled[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, filled) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, filled) for v in value]
    return value
