"""Writing the model as CAP XML: canonical CAP 1.2 by default, 1.1 or 1.0 when asked.

Element order follows the schemas; times are written with an explicit offset (UTC as
``-00:00``); list values are space-delimited with double quotes around entries holding spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from cap.model import Alert, Area, Info, Resource, ValuePair
from cap.textcodecs import format_circle, format_polygon, format_references, join_cap_list
from cap.timefmt import format_cap_datetime
from cap.vocabulary import NAMESPACE_OF, CapVersion


def serialize_alert(alert: Alert, version: CapVersion = "1.2", *, pretty: bool = True) -> bytes:
    """The alert as a UTF-8 CAP document with an XML declaration."""
    root = alert_element(alert, version)
    if pretty:
        etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, encoding="UTF-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def alert_element(alert: Alert, version: CapVersion = "1.2") -> etree._Element:
    ns = NAMESPACE_OF[version]
    writer = _Writer(ns, version)
    root = etree.Element(f"{{{ns}}}alert", nsmap={None: ns})
    w = writer.child
    w(root, "identifier", alert.identifier)
    w(root, "sender", alert.sender)
    w(root, "sent", _time(alert.sent))
    w(root, "status", alert.status)
    w(root, "msgType", alert.msg_type)
    w(root, "source", alert.source)
    w(root, "scope", alert.scope)
    w(root, "restriction", alert.restriction)
    w(root, "addresses", alert.addresses)
    for code in alert.codes:
        w(root, "code", code)
    w(root, "note", alert.note)
    if alert.references:
        w(root, "references", format_references(alert.references))
    if alert.incidents:
        w(root, "incidents", join_cap_list(alert.incidents))
    for info in alert.infos:
        writer.info(root, info)
    return root


def _time(value: datetime | None) -> str | None:
    return format_cap_datetime(value) if value is not None else None


class _Writer:
    def __init__(self, ns: str, version: CapVersion) -> None:
        self.ns = ns
        self.version = version

    def child(self, parent: etree._Element, name: str, text: str | None) -> None:
        if text is None:
            return
        el = etree.SubElement(parent, f"{{{self.ns}}}{name}")
        el.text = text

    def pairs(self, parent: etree._Element, name: str, pairs: Sequence[ValuePair]) -> None:
        for pair in pairs:
            if self.version == "1.0":
                text = f"{pair.value_name}={pair.value}" if pair.value_name else pair.value
                self.child(parent, name, text)
                continue
            el = etree.SubElement(parent, f"{{{self.ns}}}{name}")
            self.child(el, "valueName", pair.value_name)
            self.child(el, "value", pair.value)

    def info(self, parent: etree._Element, info: Info) -> None:
        el = etree.SubElement(parent, f"{{{self.ns}}}info")
        w = self.child
        w(el, "language", info.language)
        for category in info.category:
            w(el, "category", category)
        w(el, "event", info.event)
        if self.version != "1.0":
            for response in info.response_type:
                w(el, "responseType", response)
        w(el, "urgency", info.urgency)
        w(el, "severity", info.severity)
        w(el, "certainty", info.certainty)
        w(el, "audience", info.audience)
        self.pairs(el, "eventCode", info.event_codes)
        w(el, "effective", _time(info.effective))
        w(el, "onset", _time(info.onset))
        w(el, "expires", _time(info.expires))
        w(el, "senderName", info.sender_name)
        w(el, "headline", info.headline)
        w(el, "description", info.description)
        w(el, "instruction", info.instruction)
        w(el, "web", info.web)
        w(el, "contact", info.contact)
        self.pairs(el, "parameter", info.parameters)
        for resource in info.resources:
            self.resource(el, resource)
        for area in info.areas:
            self.area(el, area)

    def resource(self, parent: etree._Element, resource: Resource) -> None:
        el = etree.SubElement(parent, f"{{{self.ns}}}resource")
        w = self.child
        w(el, "resourceDesc", resource.resource_desc)
        w(el, "mimeType", resource.mime_type)
        w(el, "size", str(resource.size) if resource.size is not None else None)
        w(el, "uri", resource.uri)
        if self.version != "1.0":
            w(el, "derefUri", resource.deref_uri)
        w(el, "digest", resource.digest)

    def area(self, parent: etree._Element, area: Area) -> None:
        el = etree.SubElement(parent, f"{{{self.ns}}}area")
        w = self.child
        w(el, "areaDesc", area.area_desc)
        for polygon in area.polygons:
            w(el, "polygon", format_polygon(polygon))
        for circle in area.circles:
            w(el, "circle", format_circle(circle))
        self.pairs(el, "geocode", area.geocodes)
        w(el, "altitude", format(area.altitude, "f") if area.altitude is not None else None)
        w(el, "ceiling", format(area.ceiling, "f") if area.ceiling is not None else None)
