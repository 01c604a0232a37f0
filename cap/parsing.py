"""From XML to the model: CAP 1.0, 1.1 and 1.2 alerts recognised by their namespace.

The tree never leaves this module and :mod:`cap.validation`; everything else gets
:class:`ParsedAlert` (the model, the version, the original bytes and a :class:`SourceMap` that
turns model paths such as ``/alert/info[1]/expires`` into line and column).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from cap.errors import NotCapError
from cap.hardened_xml import ParseLimits, parse_xml
from cap.model import (
    Alert,
    Area,
    Circle,
    EventCode,
    Geocode,
    Info,
    Parameter,
    Polygon,
    Resource,
    ValuePair,
)
from cap.textcodecs import (
    parse_circle,
    parse_decimal,
    parse_polygon,
    parse_references,
    split_cap_list,
)
from cap.timefmt import parse_lenient_datetime
from cap.vocabulary import NAMESPACES, CapVersion

Element = etree._Element

_TAG_RE = re.compile(r"<(?![!?/])")
_SKIP_RE = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)


class SourceMap:
    """Where each model path sits in the original document (line and column, 1-based)."""

    def __init__(self, data: bytes, encoding: str | None = None) -> None:
        self._data = data
        self._encoding = encoding
        self._elements: dict[str, Element] = {}
        self._order: dict[Element, int] | None = None
        self._columns: list[tuple[int, int]] | None = None
        self._root: Element | None = None

    def add(self, path: str, element: Element) -> None:
        self._elements[path] = element
        if self._root is None:
            self._root = element

    def element(self, path: str) -> Element | None:
        return self._elements.get(path)

    def text(self, path: str) -> str | None:
        """The raw text of the element at ``path`` as written in the document (``None`` if the
        element is absent). Lexical rules use this where the model has normalised a value."""
        el = self._elements.get(path)
        return None if el is None else _text(el)

    def paths(self) -> list[str]:
        """Every model path present in the document, in document order."""
        return list(self._elements)

    def locate(self, path: str) -> tuple[int | None, int | None]:
        """Line and column of ``path``, or of its nearest ancestor that exists."""
        probe = path
        while probe:
            el = self._elements.get(probe)
            if el is not None:
                return self.position_of(el)
            probe = probe.rsplit("/", 1)[0]
        return None, None

    def position_of(self, element: Element) -> tuple[int | None, int | None]:
        line = element.sourceline
        return line, self._column_of(element)

    def _column_of(self, element: Element) -> int | None:
        if self._order is None:
            root = self._root.getroottree().getroot() if self._root is not None else None
            if root is None:
                return None
            elements = (el for el in root.iter() if isinstance(el.tag, str))
            self._order = {el: i for i, el in enumerate(elements)}
            self._columns = _start_tag_positions(self._data, self._encoding)
        index = self._order.get(element)
        if index is None or self._columns is None or index >= len(self._columns):
            return None
        line, column = self._columns[index]
        return column if line == element.sourceline else None


def _start_tag_positions(data: bytes, encoding: str | None) -> list[tuple[int, int]]:
    """(line, column) of every element's ``<``, in document order."""
    try:
        text = data.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    text = text.lstrip("\ufeff")
    # Blank out comments, CDATA and PIs keeping offsets, so their '<' are not counted.
    text = _SKIP_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    positions: list[tuple[int, int]] = []
    line, scanned = 1, 0
    for m in _TAG_RE.finditer(text):
        start = m.start()
        line += text.count("\n", scanned, start)
        scanned = start
        positions.append((line, start - (text.rfind("\n", 0, start) + 1) + 1))
    return positions


@dataclass(frozen=True, slots=True)
class ParsedAlert:
    """One CAP alert as found in a document: model, version, bytes and source positions."""

    alert: Alert
    version: CapVersion
    data: bytes
    source_map: SourceMap = field(compare=False, repr=False)
    element: Element = field(compare=False, repr=False)


def local_name(element: Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace_of(element: Element) -> str:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def cap_version_of(element: Element) -> CapVersion | None:
    if local_name(element) != "alert":
        return None
    return NAMESPACES.get(namespace_of(element))


def parse_alert(data: bytes, limits: ParseLimits | None = None) -> ParsedAlert:
    """Parse a document that must be a single CAP alert (no feed, no distribution)."""
    tree = parse_xml(data, limits)
    root = tree.getroot()
    version = cap_version_of(root)
    if version is None:
        raise not_cap_error(root)
    return build_alert(root, version, data, encoding=tree.docinfo.encoding)


def not_cap_error(root: Element) -> NotCapError:
    ns = namespace_of(root)
    name = local_name(root)
    where = f" in namespace {ns!r}" if ns else " with no namespace"
    hint = ""
    if name.lower() == "alert" and (name != "alert" or ns not in NAMESPACES):
        if ns.startswith("urn:oasis:names:tc:emergency:cap:") and ns not in NAMESPACES:
            hint = "; that CAP version does not exist (known: 1.0, 1.1, 1.2)"
        elif name != "alert":
            hint = "; element names are case-sensitive: the root must be <alert>"
    known = ", ".join(NAMESPACES)
    return NotCapError(
        f"root element <{name}>{where} is not a CAP alert{hint}; expected <alert> in one of "
        f"{known} (or an Atom/RSS feed or EDXL-DE distribution of them)",
        reason="cap.not_cap",
        line=root.sourceline,
    )


def build_alert(
    element: Element, version: CapVersion, data: bytes, encoding: str | None = None
) -> ParsedAlert:
    """Build the model from an ``<alert>`` element (which may sit inside a feed or EDXL-DE)."""
    smap = SourceMap(data, encoding)
    builder = _Builder(version, smap)
    alert = builder.alert(element)
    return ParsedAlert(alert, version, data, smap, element)


def _text(element: Element) -> str:
    # Mixed content is not CAP; take all text so that nothing silently disappears.
    if len(element):
        return "".join(element.itertext())
    return element.text or ""


class _Builder:
    def __init__(self, version: CapVersion, smap: SourceMap) -> None:
        self.version = version
        self.smap = smap
        self.ns = next(ns for ns, v in NAMESPACES.items() if v == version)

    def _children(self, element: Element, path: str) -> list[tuple[str, str, Element]]:
        """(name, path, element) for each child in the CAP namespace, with 1-based positions."""
        counts: dict[str, int] = {}
        out: list[tuple[str, str, Element]] = []
        for child in element:
            if not isinstance(child.tag, str) or namespace_of(child) != self.ns:
                continue
            name = local_name(child)
            counts[name] = counts.get(name, 0) + 1
            child_path = f"{path}/{name}[{counts[name]}]"
            out.append((name, child_path, child))
        # A single occurrence is addressed without a position, as in /alert/sent.
        result: list[tuple[str, str, Element]] = []
        for name, child_path, child in out:
            if counts[name] == 1 and name not in _REPEATABLE:
                child_path = child_path.rsplit("[", 1)[0]
            self.smap.add(child_path, child)
            result.append((name, child_path, child))
        return result

    def alert(self, element: Element) -> Alert:
        self.smap.add("/alert", element)
        fields: dict[str, str] = {}
        codes: list[str] = []
        infos: list[Info] = []
        references = ""
        incidents = ""
        for name, path, child in self._children(element, "/alert"):
            if name == "code":
                codes.append(_text(child))
            elif name == "info":
                infos.append(self.info(child, path))
            elif name == "references":
                references += " " + _text(child)
            elif name == "incidents":
                incidents += " " + _text(child)
            elif name not in fields:
                fields[name] = _text(child)
        sent = fields.get("sent")
        return Alert(
            identifier=fields.get("identifier", ""),
            sender=fields.get("sender", ""),
            sent=parse_lenient_datetime(sent) if sent is not None else None,
            status=fields.get("status", ""),
            msg_type=fields.get("msgType", ""),
            scope=fields.get("scope"),
            source=fields.get("source"),
            restriction=fields.get("restriction"),
            addresses=fields.get("addresses"),
            codes=tuple(codes),
            note=fields.get("note"),
            references=parse_references(references),
            incidents=split_cap_list(incidents),
            infos=tuple(infos),
        )

    def _pair(self, child: Element, cls: Callable[[str, str], ValuePair]) -> ValuePair:
        if self.version == "1.0":
            text = _text(child)
            name, sep, value = text.partition("=")
            return cls(name, value) if sep else cls("", text)
        name_text = value_text = ""
        for sub in child:
            if not isinstance(sub.tag, str):
                continue
            if local_name(sub) == "valueName":
                name_text = _text(sub)
            elif local_name(sub) == "value":
                value_text = _text(sub)
        return cls(name_text, value_text)

    def info(self, element: Element, base: str) -> Info:
        fields: dict[str, str] = {}
        category: list[str] = []
        response: list[str] = []
        event_codes: list[EventCode] = []
        parameters: list[Parameter] = []
        resources: list[Resource] = []
        areas: list[Area] = []
        for name, path, child in self._children(element, base):
            if name == "category":
                category.append(_text(child))
            elif name == "responseType":
                response.append(_text(child))
            elif name == "eventCode":
                pair = self._pair(child, EventCode)
                assert isinstance(pair, EventCode)
                event_codes.append(pair)
                self._children(child, path)
            elif name == "parameter":
                pair = self._pair(child, Parameter)
                assert isinstance(pair, Parameter)
                parameters.append(pair)
                self._children(child, path)
            elif name == "resource":
                resources.append(self.resource(child, path))
            elif name == "area":
                areas.append(self.area(child, path))
            elif name not in fields:
                fields[name] = _text(child)

        def when(key: str) -> datetime | None:
            text = fields.get(key)
            return parse_lenient_datetime(text) if text is not None else None

        effective, onset, expires = when("effective"), when("onset"), when("expires")
        return Info(
            category=tuple(category),
            event=fields.get("event", ""),
            urgency=fields.get("urgency", ""),
            severity=fields.get("severity", ""),
            certainty=fields.get("certainty", ""),
            language=fields.get("language"),
            response_type=tuple(response),
            audience=fields.get("audience"),
            event_codes=tuple(event_codes),
            effective=effective,
            onset=onset,
            expires=expires,
            sender_name=fields.get("senderName"),
            headline=fields.get("headline"),
            description=fields.get("description"),
            instruction=fields.get("instruction"),
            web=fields.get("web"),
            contact=fields.get("contact"),
            parameters=tuple(parameters),
            resources=tuple(resources),
            areas=tuple(areas),
        )

    def resource(self, element: Element, base: str) -> Resource:
        fields: dict[str, str] = {}
        for name, _path, child in self._children(element, base):
            fields.setdefault(name, _text(child))
        size_text = fields.get("size")
        size: int | None = None
        if size_text is not None and size_text.strip().isdigit():
            size = int(size_text.strip())
        return Resource(
            resource_desc=fields.get("resourceDesc", ""),
            mime_type=fields.get("mimeType"),
            size=size,
            uri=fields.get("uri"),
            deref_uri=fields.get("derefUri"),
            digest=fields.get("digest"),
        )

    def area(self, element: Element, base: str) -> Area:
        fields: dict[str, str] = {}
        polygons: list[Polygon] = []
        circles: list[Circle] = []
        geocodes: list[Geocode] = []
        for name, path, child in self._children(element, base):
            if name == "polygon":
                polygons.append(parse_polygon(_text(child)))
            elif name == "circle":
                circles.append(parse_circle(_text(child)))
            elif name == "geocode":
                pair = self._pair(child, Geocode)
                assert isinstance(pair, Geocode)
                geocodes.append(pair)
                self._children(child, path)
            else:
                fields.setdefault(name, _text(child))
        altitude = fields.get("altitude")
        ceiling = fields.get("ceiling")
        return Area(
            area_desc=fields.get("areaDesc", ""),
            polygons=tuple(polygons),
            circles=tuple(circles),
            geocodes=tuple(geocodes),
            altitude=parse_decimal(altitude) if altitude is not None else None,
            ceiling=parse_decimal(ceiling) if ceiling is not None else None,
        )


# Elements that may occur more than once are always addressed with a position.
_REPEATABLE = frozenset(
    {
        "code",
        "info",
        "category",
        "responseType",
        "eventCode",
        "parameter",
        "resource",
        "area",
        "polygon",
        "circle",
        "geocode",
    }
)
