"""From XML to the model: CAP 1.0, 1.1 and 1.2 alerts recognised by their namespace.

The tree never leaves this module and :mod:`cap.validation`; everything else gets
:class:`ParsedAlert` (the model, the version, the original bytes and a :class:`SourceMap` that
turns model paths such as ``/alert/info[1]/expires`` into line and column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


class SourceMap:
    """Where each model path sits in the original document (line and column, 1-based), and
    the raw text written there. Filled by the parser; columns are worked out on demand."""

    def __init__(self, data: bytes, encoding: str | None = None) -> None:
        self._data = data
        self._encoding = encoding
        self._elements: dict[str, Element] = {}
        self._texts: dict[str, str] = {}
        self._lines: list[str] | None = None

    def add(self, path: str, element: Element, text: str | None = None) -> None:
        self._elements[path] = element
        self._texts[path] = _text(element) if text is None else text

    def element(self, path: str) -> Element | None:
        return self._elements.get(path)

    def text(self, path: str) -> str | None:
        """The raw text of the element at ``path`` as written in the document (``None`` if the
        element is absent). Lexical rules use this where the model has normalised a value."""
        return self._texts.get(path)

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
        return line, self._column_of(element, line)

    def _column_of(self, element: Element, line: int | None) -> int | None:
        """The column of the element's ``<``: the k-th start tag of its name on its line, where
        k counts the same-named elements before it on that line."""
        tag = element.tag
        if line is None or not isinstance(tag, str):
            return None
        if self._lines is None:
            encoding = self._encoding or "utf-8"
            try:
                text = self._data.decode(encoding, errors="replace")
            except LookupError:
                text = self._data.decode("utf-8", errors="replace")
            self._lines = text.lstrip("\ufeff").split("\n")
        if line > len(self._lines):
            return None
        pattern = _start_tag_pattern(local_name(element))
        starts = [m.start() + 1 for m in pattern.finditer(self._lines[line - 1])]
        if len(starts) <= 1:  # the usual case: one element of that name on its line
            return starts[0] if starts else None
        root = element.getroottree().getroot()
        k = 0
        for el in root.iter(tag):
            if el is element:
                break
            if el.sourceline == line:
                k += 1
        return starts[k] if k < len(starts) else None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _start_tag_pattern(name: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(name)
    if pattern is None:
        pattern = re.compile(rf"<(?:[\w.-]+:)?{re.escape(name)}(?=[\s/>])")
        _PATTERNS[name] = pattern
    return pattern


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
    """One pass over the tree: model values, plus each element's path and raw text."""

    def __init__(self, version: CapVersion, smap: SourceMap) -> None:
        self.version = version
        self.smap = smap
        ns = next(ns for ns, v in NAMESPACES.items() if v == version)
        self.prefix = f"{{{ns}}}"
        self.cut = len(self.prefix)
        self.elements = smap._elements
        self.texts = smap._texts

    def _children(self, element: Element, path: str) -> list[tuple[str, str, Element, str]]:
        """(name, path, element, text) for each child in the CAP namespace. Repeatable
        elements always carry a 1-based position; others only when (wrongly) repeated."""
        prefix, cut = self.prefix, self.cut
        elements, texts = self.elements, self.texts
        counts: dict[str, int] = {}
        out: list[tuple[str, str, Element, str]] = []
        for child in element:
            tag = child.tag
            if tag.__class__ is not str or not tag.startswith(prefix):
                continue
            name: str = tag[cut:]
            count = counts.get(name, 0) + 1
            counts[name] = count
            if name in _REPEATABLE:
                child_path = f"{path}/{name}[{count}]"
            elif count == 1:
                child_path = f"{path}/{name}"
            else:
                if count == 2:  # a second one: address the first by position as well
                    first = f"{path}/{name}"
                    elements[first + "[1]"] = elements.pop(first)
                    texts[first + "[1]"] = texts.pop(first)
                child_path = f"{path}/{name}[{count}]"
            text = child.text or ""
            if name not in _CONTAINERS and len(child):
                text = "".join(child.itertext())
            elements[child_path] = child
            texts[child_path] = text
            out.append((name, child_path, child, text))
        return out

    def alert(self, element: Element) -> Alert:
        self.smap.add("/alert", element, "")
        fields: dict[str, str] = {}
        codes: list[str] = []
        infos: list[Info] = []
        references = ""
        incidents = ""
        for name, path, child, text in self._children(element, "/alert"):
            if name == "info":
                infos.append(self.info(child, path))
            elif name == "code":
                codes.append(text)
            elif name == "references":
                references += " " + text
            elif name == "incidents":
                incidents += " " + text
            elif name not in fields:
                fields[name] = text
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
            references=parse_references(references) if references else (),
            incidents=split_cap_list(incidents) if incidents else (),
            infos=tuple(infos),
        )

    def _pair(self, child: Element, path: str, text: str) -> tuple[str, str]:
        if self.version == "1.0":
            name, sep, value = text.partition("=")
            return (name, value) if sep else ("", text)
        name_text = value_text = ""
        for sub_name, _p, _el, sub_text in self._children(child, path):
            if sub_name == "valueName":
                name_text = sub_text
            elif sub_name == "value":
                value_text = sub_text
        return name_text, value_text

    def info(self, element: Element, base: str) -> Info:
        fields: dict[str, str] = {}
        category: list[str] = []
        response: list[str] = []
        event_codes: list[EventCode] = []
        parameters: list[Parameter] = []
        resources: list[Resource] = []
        areas: list[Area] = []
        for name, path, child, text in self._children(element, base):
            if name == "parameter":
                parameters.append(Parameter(*self._pair(child, path, text)))
            elif name == "area":
                areas.append(self.area(child, path))
            elif name == "eventCode":
                event_codes.append(EventCode(*self._pair(child, path, text)))
            elif name == "category":
                category.append(text)
            elif name == "responseType":
                response.append(text)
            elif name == "resource":
                resources.append(self.resource(child, path))
            elif name not in fields:
                fields[name] = text
        effective = fields.get("effective")
        onset = fields.get("onset")
        expires = fields.get("expires")
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
            effective=parse_lenient_datetime(effective) if effective is not None else None,
            onset=parse_lenient_datetime(onset) if onset is not None else None,
            expires=parse_lenient_datetime(expires) if expires is not None else None,
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
        for name, _path, _child, text in self._children(element, base):
            fields.setdefault(name, text)
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
        for name, path, child, text in self._children(element, base):
            if name == "geocode":
                geocodes.append(Geocode(*self._pair(child, path, text)))
            elif name == "polygon":
                polygons.append(parse_polygon(text))
            elif name == "circle":
                circles.append(parse_circle(text))
            else:
                fields.setdefault(name, text)
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
# Elements whose content is other elements, not text.
_CONTAINERS = frozenset({"info", "eventCode", "parameter", "resource", "area", "geocode"})
