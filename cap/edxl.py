"""EDXL-DE 1.0 distributions of CAP: the envelope's required elements and where the alerts are.

An EDXL Distribution Element (OASIS, 2006) wraps one or more content objects; a CAP alert sits
in ``contentObject/xmlContent/embeddedXMLContent`` or is referenced from ``nonXMLContent`` by
its ``uri`` with ``mimeType`` ``application/cap+xml``. The element names, their order and the
value lists of ``distributionStatus`` and ``distributionType`` are those of the EDXL-DE 1.0
schema (namespace ``urn:oasis:names:tc:emergency:EDXL:DE:1.0``).

Content objects carrying something other than CAP (a map, an EDXL-RM message) are legitimate
and only noted; a distribution carrying no CAP at all is an error, since there is nothing to
validate or deliver.
"""

from __future__ import annotations

import re
from datetime import datetime

from cap.containers import (
    CAP_MEDIA_TYPES,
    ContainerScan,
    Element,
    FoundAlert,
    FoundLink,
    cap_children,
    children,
    finding,
    is_cap_alert,
    line_note,
    text_of,
)
from cap.findings import Finding, Severity
from cap.parsing import local_name, namespace_of

EDXL_DE_NS = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
_EDXL_DE_PREFIX = "urn:oasis:names:tc:emergency:edxl:de:"

# The distribution's children in schema order, and which of them are required / repeatable.
_SEQUENCE = (
    "distributionID",
    "senderID",
    "dateTimeSent",
    "distributionStatus",
    "distributionType",
    "combinedConfidentiality",
    "language",
    "senderRole",
    "recipientRole",
    "keyword",
    "distributionReference",
    "explicitAddress",
    "targetArea",
    "contentObject",
)
_REQUIRED = _SEQUENCE[:6]
_REPEATABLE = frozenset(
    {
        "senderRole",
        "recipientRole",
        "keyword",
        "distributionReference",
        "explicitAddress",
        "targetArea",
        "contentObject",
        "embeddedXMLContent",
        "keyXMLContent",
    }
)
_CODE_NAMES = {
    "distributionID": "distribution_id",
    "senderID": "sender_id",
    "dateTimeSent": "date_time_sent",
    "distributionStatus": "distribution_status",
    "distributionType": "distribution_type",
    "combinedConfidentiality": "combined_confidentiality",
}
_HINTS = {
    "distributionID": "an identifier unique to this distribution, e.g. the sender's message number",
    "senderID": "who sends it, e.g. webmaster@rfs.nsw.gov.au",
    "dateTimeSent": "when it was sent, e.g. 2011-10-17T11:18:00-00:00",
    "distributionStatus": "one of Actual, Exercise, System, Test",
    "distributionType": "e.g. Report (see the EDXL-DE 1.0 list)",
    "combinedConfidentiality": "e.g. UNCLASSIFIED AND NOT SENSITIVE",
}
STATUS_VALUES = ("Actual", "Exercise", "System", "Test")
TYPE_VALUES = (
    "Report",
    "Update",
    "Cancel",
    "Request",
    "Response",
    "Dispatch",
    "Ack",
    "Error",
    "SensorConfiguration",
    "SensorControl",
    "SensorStatus",
    "SensorDetection",
)
# XML Schema's xs:dateTime.
_DATETIME_RE = re.compile(
    r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[-+](\d{2}):(\d{2}))?$"
)


def scan_distribution(root: Element) -> ContainerScan | None:
    """Scan an ``<EDXLDistribution>``; ``None`` when the root is something else."""
    if local_name(root) != "EDXLDistribution":
        return None
    ns = namespace_of(root)
    if ns == EDXL_DE_NS:
        return _Scan().run(root)
    if ns.lower().startswith(_EDXL_DE_PREFIX) or not ns:
        where = f"namespace {ns!r}" if ns else "no namespace"
        message = (
            f"this EDXL distribution is in {where}; only EDXL-DE 1.0 ({EDXL_DE_NS}) is read, "
            "so its alerts were not checked. Re-issue it as EDXL-DE 1.0 or send the CAP "
            "alerts on their own"
        )
        issue = finding(
            Severity.ERROR, "edxl.version.unsupported", message, "/EDXLDistribution", root
        )
        return ContainerScan("edxl-de", (issue,), (), ())
    return None


class _Scan:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.alerts: list[FoundAlert] = []
        self.links: list[FoundLink] = []
        self.unread_cap = False

    def _add(self, severity: Severity, code: str, message: str, path: str, el: Element) -> None:
        self.findings.append(finding(severity, code, message, path, el))

    def run(self, root: Element) -> ContainerScan:
        base = "/EDXLDistribution"
        kids = children(root, base, _REPEATABLE)
        self._envelope(root, base, kids)
        objects = [(p, c) for p, c in kids if _is_de(c, "contentObject")]
        for index, (path, obj) in enumerate(objects, 1):
            self._content_object(obj, path, index)
        if not self.alerts and not self.links and not self.unread_cap:
            if objects:
                message = (
                    f"none of the {len(objects)} contentObject(s) carries a CAP alert, so "
                    "there is nothing to validate or deliver; embed the alert in "
                    "contentObject/xmlContent/embeddedXMLContent"
                )
            else:
                message = (
                    "the distribution has no <contentObject>, so it carries no CAP alert; "
                    "add one with the alert in xmlContent/embeddedXMLContent"
                )
            self._add(Severity.ERROR, "edxl.cap_missing", message, base, root)
        return ContainerScan("edxl-de", tuple(self.findings), tuple(self.alerts), tuple(self.links))

    def _envelope(self, root: Element, base: str, kids: list[tuple[str, Element]]) -> None:
        seen: dict[str, Element] = {}
        furthest = -1
        out_of_order_reported = False
        for path, child in kids:
            name = local_name(child)
            if is_cap_alert(child):
                self._add(
                    Severity.ERROR,
                    "edxl.stray_alert",
                    f"a CAP alert sits directly in <EDXLDistribution>{line_note(child)}; "
                    "EDXL-DE carries content only inside <contentObject>, so receivers will "
                    "not find it. Move it into contentObject/xmlContent/embeddedXMLContent",
                    path,
                    child,
                )
                continue
            if not _is_de(child, name) or name not in _SEQUENCE:
                self._add(
                    Severity.ERROR,
                    "edxl.element.unknown",
                    f"<{name}>{line_note(child)} is not an element of the EDXL-DE 1.0 "
                    "distribution (namespace "
                    f"{namespace_of(child) or 'none'}); schema-checking receivers reject it. "
                    "Remove it, or carry it inside a <contentObject>",
                    path,
                    child,
                )
                continue
            position = _SEQUENCE.index(name)
            if position < furthest and not out_of_order_reported:
                self._add(
                    Severity.ERROR,
                    "edxl.element.order",
                    f"<{name}>{line_note(child)} comes after <{_SEQUENCE[furthest]}>; EDXL-DE "
                    f"1.0 fixes the order {', '.join(_SEQUENCE)}",
                    path,
                    child,
                )
                out_of_order_reported = True
            furthest = max(furthest, position)
            if name in seen and name not in _REPEATABLE:
                self._add(
                    Severity.ERROR,
                    "edxl.element.repeated",
                    f"<{name}> appears more than once{line_note(child)}; EDXL-DE 1.0 allows one. "
                    "Keep a single one",
                    path,
                    child,
                )
                continue
            seen.setdefault(name, child)
        for name in _REQUIRED:
            element = seen.get(name)
            code = f"edxl.{_CODE_NAMES[name]}"
            path = f"{base}/{name}"
            if element is None or not text_of(element):
                state = "has no" if element is None else "has an empty"
                self._add(
                    Severity.ERROR,
                    f"{code}.missing",
                    f"the distribution {state} <{name}>, which EDXL-DE 1.0 requires; give "
                    f"{_HINTS[name]}",
                    path,
                    element if element is not None else root,
                )
                continue
            value = text_of(element)
            if name == "distributionStatus" and value not in STATUS_VALUES:
                self._bad_value(element, path, code, value, STATUS_VALUES)
            elif name == "distributionType" and value not in TYPE_VALUES:
                self._bad_value(element, path, code, value, TYPE_VALUES)
            elif name == "dateTimeSent":
                self._date_time(element, path, code, value)

    def _bad_value(
        self, element: Element, path: str, code: str, value: str, allowed: tuple[str, ...]
    ) -> None:
        name = local_name(element)
        near = next((a for a in allowed if a.lower() == value.lower()), None)
        hint = f" (did you mean {near!r}? values are case-sensitive)" if near else ""
        self._add(
            Severity.ERROR,
            f"{code}.invalid",
            f"<{name}>{line_note(element)} is {value!r}{hint}; EDXL-DE 1.0 allows only "
            f"{', '.join(allowed)}",
            path,
            element,
        )

    def _date_time(self, element: Element, path: str, code: str, value: str) -> None:
        m = _DATETIME_RE.match(value)
        real = m is not None
        if m is not None:
            try:
                year, month, day, hour, minute = (int(g) for g in m.group(1, 2, 3, 4, 5))
                datetime(year, month, day, hour, minute, min(int(m.group(6)), 59))
            except ValueError:
                real = False
            if m.group(9) is not None and (int(m.group(9)) > 14 or int(m.group(10)) > 59):
                real = False
        if not real:
            self._add(
                Severity.ERROR,
                f"{code}.invalid",
                f"<dateTimeSent>{line_note(element)} is {value!r}, which is not a date and time "
                "in XML Schema form; write e.g. 2011-10-17T11:18:00-00:00",
                path,
                element,
            )
        elif m is not None and m.group(8) is None:
            self._add(
                Severity.WARNING,
                f"{code}.no_zone",
                f"<dateTimeSent>{line_note(element)} is {value!r}, with no time zone, so "
                "receivers cannot tell when it was sent; EDXL-DE 1.0 asks for the offset, "
                "e.g. 2011-10-17T11:18:00-00:00",
                path,
                element,
            )

    def _content_object(self, obj: Element, path: str, index: int) -> None:
        label = f"contentObject[{index}]"
        what = f"contentObject {index}"
        kids = children(obj, path, _REPEATABLE)
        xml = [(p, c) for p, c in kids if _is_de(c, "xmlContent")]
        non_xml = [(p, c) for p, c in kids if _is_de(c, "nonXMLContent")]
        if not xml and not non_xml:
            self._add(
                Severity.ERROR,
                "edxl.content_object.content_missing",
                f"{what}{line_note(obj)} has neither <xmlContent> nor <nonXMLContent>; "
                "EDXL-DE 1.0 requires exactly one. Put the CAP alert in "
                "xmlContent/embeddedXMLContent",
                path,
                obj,
            )
            return
        if len(xml) + len(non_xml) > 1:
            self._add(
                Severity.ERROR,
                "edxl.content_object.content_repeated",
                f"{what}{line_note(obj)} has {len(xml)} <xmlContent> and {len(non_xml)} "
                "<nonXMLContent>; EDXL-DE 1.0 allows exactly one of them. Give each payload "
                "its own contentObject",
                path,
                obj,
            )
        found: list[FoundAlert] = []
        for xml_path, xml_content in xml:
            for embedded_path, embedded in children(xml_content, xml_path, _REPEATABLE):
                if _is_de(embedded, "embeddedXMLContent"):
                    alerts, problems = cap_children(embedded, embedded_path, label, "edxl")
                    found.extend(alerts)
                    self.findings.extend(problems)
        if len(found) > 1:  # number them across all embeddedXMLContent of this object
            found = [
                FoundAlert(a.element, a.version, f"{label}/alert[{k}]")
                for k, a in enumerate(found, 1)
            ]
        self.alerts.extend(found)
        declares_cap = False
        for non_xml_path, content in non_xml:
            declares_cap |= self._non_xml(content, non_xml_path, label, what)
        if not found and not declares_cap:
            self._add(
                Severity.INFO,
                "edxl.content_object.not_cap",
                f"{what}{line_note(obj)} carries no CAP alert; it was passed over",
                path,
                obj,
            )

    def _non_xml(self, content: Element, path: str, label: str, what: str) -> bool:
        """Report a referenced CAP document as a link; true when the content declares CAP."""
        mime = text_of(_child(content, "mimeType"))
        uri = text_of(_child(content, "uri"))
        if not mime:
            self._add(
                Severity.ERROR,
                "edxl.content_object.mime_type.missing",
                f"the <nonXMLContent> of {what}{line_note(content)} has no <mimeType>, which "
                "EDXL-DE 1.0 requires; for a CAP alert write application/cap+xml",
                f"{path}/mimeType",
                content,
            )
            return False
        if mime.split(";", 1)[0].strip().lower() not in CAP_MEDIA_TYPES:
            return False
        if uri:
            self.links.append(FoundLink(uri, label))
        else:
            self.unread_cap = True
            self._add(
                Severity.WARNING,
                "edxl.content_object.cap_not_read",
                f"the <nonXMLContent> of {what}{line_note(content)} declares a CAP alert but "
                "has no <uri>, and inline contentData is not read; embed the alert in "
                "xmlContent/embeddedXMLContent instead so that it can be checked",
                path,
                content,
            )
        return True


def _is_de(element: Element, name: str) -> bool:
    return namespace_of(element) == EDXL_DE_NS and local_name(element) == name


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if isinstance(c.tag, str) and _is_de(c, name)), None)
