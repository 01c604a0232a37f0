"""Validation against the official OASIS CAP schemas shipped with the package.

libxml2's messages name elements as ``{namespace}local`` and values as type facets; they are
rewritten here into sentences that say which element, what value and what is allowed.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from importlib import resources

from lxml import etree

from cap.findings import Finding, Severity
from cap.parsing import local_name
from cap.timefmt import describe_datetime_problem
from cap.vocabulary import CapVersion

DSIG = "http://www.w3.org/2000/09/xmldsig#"

SCHEMA_FILES: dict[CapVersion, str] = {
    "1.0": "cap10.xsd",
    "1.1": "CAP-v1.1.xsd",
    "1.2": "CAP-v1.2.xsd",
}


class _Schemas(threading.local):
    def __init__(self) -> None:
        self.loaded: dict[CapVersion, etree.XMLSchema] = {}


_SCHEMAS = _Schemas()


def schema_for(version: CapVersion) -> etree.XMLSchema:
    """The compiled schema for a CAP version (compiled once per thread: lxml schemas are not
    shareable across threads)."""
    schema = _SCHEMAS.loaded.get(version)
    if schema is None:
        ref = resources.files("cap").joinpath("schemas", SCHEMA_FILES[version])
        with ref.open("rb") as fh:
            doc = etree.parse(fh, etree.XMLParser(resolve_entities=False, no_network=True))
        schema = etree.XMLSchema(doc)
        _SCHEMAS.loaded[version] = schema
    return schema


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One schema error: the offending element (inside the validated tree) and a finding."""

    element: etree._Element | None
    finding: Finding


def check_schema(alert: etree._Element, version: CapVersion) -> list[SchemaViolation]:
    """Validate an ``<alert>`` element (standalone or embedded in a feed) against its schema.

    CAP 1.0 and 1.1 allow an enveloped XML signature in ``<alert>`` (section 3.3.2.1 of both
    specifications) although their schemas have no place for it; for those versions the
    signature is set aside before schema validation. Signatures are checked by ``verify``.
    """
    schema = schema_for(version)
    root = alert.getroottree().getroot()
    signatures = [
        child
        for child in alert
        if version != "1.2" and isinstance(child.tag, str) and child.tag.startswith(f"{{{DSIG}}}")
    ]
    if alert is root and not signatures:
        target: etree._Element = alert
        ok = schema.validate(alert.getroottree())
    else:
        # Validated as a document of its own; line numbers survive the copy, and violations
        # are mapped back to the original elements by document order.
        target = copy.deepcopy(alert)
        for child in list(target):
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{DSIG}}}") and signatures:
                target.remove(child)
        ok = schema.validate(etree.ElementTree(target))
    if ok:
        return []
    originals: list[etree._Element] | None = None
    copies: dict[etree._Element, int] | None = None
    if target is not alert:
        skipped = {el for sig in signatures for el in sig.iter()}
        originals = [el for el in alert.iter() if el not in skipped]
        copies = {el: i for i, el in enumerate(target.iter())}
    out: list[SchemaViolation] = []
    for entry in schema.error_log:
        element = _element_at(target, entry.path, entry.line, entry.message)
        if element is not None and originals is not None and copies is not None:
            element = originals[copies[element]]
        code, message = describe_schema_error(entry.message, entry.type_name, version)
        out.append(
            SchemaViolation(
                element,
                Finding(code, Severity.ERROR, message, "", entry.line or None, None),
            )
        )
    return out


def _element_at(
    target: etree._Element, path: str | None, line: int | None, message: str
) -> etree._Element | None:
    """The element an error is about: by libxml2's path, else by line and name."""
    if path:
        namespaces = {k: v for k, v in target.nsmap.items() if k}
        try:
            found = target.getroottree().xpath(path, namespaces=namespaces)
        except etree.XPathError:
            found = None
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            return found[0]
    m = _ELEMENT_RE.match(message)
    name = _QNAME_RE.sub(r"\1", m.group(1)) if m else None
    for el in target.iter():
        if el.sourceline == line and (name is None or local_name(el) == name):
            return el
    return None


_QNAME_RE = re.compile(r"\{[^}]*\}([\w.-]+)")
_ELEMENT_RE = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?: ")


def _names(text: str) -> str:
    return _QNAME_RE.sub(r"<\1>", text)


def describe_schema_error(message: str, type_name: str, version: CapVersion) -> tuple[str, str]:
    """A stable code and a plain-language message for one libxml2 schema error."""
    m = _ELEMENT_RE.match(message)
    element = _QNAME_RE.sub(r"\1", m.group(1)) if m else "?"
    rest = message[m.end() :] if m else message
    rest = rest.strip().rstrip(".")
    schema = f"the CAP {version} schema"
    if "This element is not expected" in rest:
        expected = re.search(r"Expected is (?:one of )?\( (.*) \)", rest)
        if expected:
            names = ", ".join(_names(n.strip()) for n in expected.group(1).split(","))
            return (
                "xsd.unexpected_element",
                f"<{element}> is not allowed here by {schema}; expected {names} at this point "
                "(an element is missing, repeated, misspelled or out of order)",
            )
        return "xsd.unexpected_element", f"<{element}> is not allowed here by {schema}"
    if "Missing child element" in rest:
        expected = re.search(r"Expected is (?:one of )?\( (.*) \)", rest)
        names = (
            ", ".join(_names(n.strip()) for n in expected.group(1).split(","))
            if expected
            else "more elements"
        )
        return (
            "xsd.missing_element",
            f"<{element}> is incomplete: {names} is required by {schema}",
        )
    enum = re.search(r"The value '(.*)' is not an element of the set \{(.*)\}", rest)
    if enum:
        allowed = ", ".join(v.strip().strip("'") for v in enum.group(2).split(","))
        value = enum.group(1)
        shown = "empty" if value == "" else f"{value!r}"
        return (
            "xsd.enumeration",
            f"<{element}> is {shown}, which {schema} does not allow; use one of: {allowed}",
        )
    pattern = re.search(r"The value '(.*)' is not accepted by the pattern", rest)
    if pattern:
        return "xsd.pattern", f"<{element}>: {describe_datetime_problem(pattern.group(1))}"
    atomic = re.search(r"'(.*)' is not a valid value of the atomic type '([^']+)'", rest, re.S)
    if atomic:
        value, xs_type = atomic.group(1), atomic.group(2).replace("xs:", "")
        if xs_type == "dateTime":
            detail = describe_datetime_problem(value)
        else:
            detail = f"{value!r} is not a valid {xs_type}"
        return "xsd.datatype", f"<{element}>: {detail}"
    if "No matching global declaration" in rest or "not expected" in rest:
        return "xsd.unknown_root", f"<{element}> is not a CAP {version} alert element"
    return "xsd.invalid", f"<{element}>: {_names(rest)} ({type_name})"
