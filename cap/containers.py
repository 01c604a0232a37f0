"""Documents that carry CAP alerts rather than being one: Atom and RSS feeds, EDXL-DE 1.0.

The validator parses the bytes once (hardened), then asks :func:`scan_container` whether the
root is such a container. The scan judges only the container (its own required elements and
where the alerts sit) and hands back the ``<alert>`` elements it holds and the links it makes
to alerts held elsewhere; each alert is then validated as CAP on its own. Nothing here reads a
file or the network: links are reported, never followed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from cap.findings import Finding, Severity
from cap.parsing import cap_version_of, local_name, namespace_of
from cap.vocabulary import CapVersion

Element = etree._Element

CAP_MEDIA_TYPES = frozenset({"application/cap+xml", "application/common-alerting-protocol+xml"})
"""Media types that declare a linked or enclosed document to be a CAP alert."""

_CAP_NAMESPACE_PREFIX = "urn:oasis:names:tc:emergency:cap:"


@dataclass(frozen=True, slots=True)
class FoundAlert:
    """A CAP ``<alert>`` embedded in a container, and where it sits for people."""

    element: Element
    version: CapVersion
    label: str


@dataclass(frozen=True, slots=True)
class FoundLink:
    """A container entry that points at a CAP document instead of embedding it."""

    url: str
    label: str


@dataclass(frozen=True, slots=True)
class ContainerScan:
    """What a container holds, and what is wrong with the container itself.

    ``kind`` is ``"atom"``, ``"rss"`` or ``"edxl-de"``. Findings carry absolute paths such as
    ``/feed/entry[1]`` and the line of the element concerned.
    """

    kind: str
    findings: tuple[Finding, ...]
    alerts: tuple[FoundAlert, ...]
    links: tuple[FoundLink, ...]


def scan_container(root: Element) -> ContainerScan | None:
    """Scan ``root`` as an Atom feed (or entry), an RSS channel or an EDXL-DE distribution.

    Returns ``None`` when the root is none of these, so that the caller can say what it is.
    """
    # Imported here: both modules build the dataclasses above.
    from cap import edxl, feeds

    for scan in (feeds.scan_feed, edxl.scan_distribution):
        result = scan(root)
        if result is not None:
            return result
    return None


# Helpers shared by the feed and EDXL-DE scanners.


def children(element: Element, base: str, repeatable: frozenset[str]) -> list[tuple[str, Element]]:
    """``(path, child)`` for each child element, addressed the way CAP findings are.

    Names in ``repeatable`` always carry a 1-based position; other names carry one only when
    they occur more than once. Comments and processing instructions are skipped.
    """
    elements = [child for child in element if isinstance(child.tag, str)]
    counts: dict[str, int] = {}
    for child in elements:
        name = local_name(child)
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    out: list[tuple[str, Element]] = []
    for child in elements:
        name = local_name(child)
        seen[name] = seen.get(name, 0) + 1
        if name in repeatable or counts[name] > 1:
            out.append((f"{base}/{name}[{seen[name]}]", child))
        else:
            out.append((f"{base}/{name}", child))
    return out


def text_of(element: Element | None) -> str:
    """All text inside ``element``, stripped; ``""`` for an absent element."""
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def finding(severity: Severity, code: str, message: str, path: str, element: Element) -> Finding:
    """A container finding placed on ``element``'s line (the column is left to the caller)."""
    return Finding(code, severity, message, path, element.sourceline)


def line_note(element: Element) -> str:
    return f" (line {element.sourceline})" if element.sourceline else ""


def cap_children(
    element: Element, base: str, label: str, kind: str
) -> tuple[list[FoundAlert], list[Finding]]:
    """The CAP alerts that are direct children of ``element``.

    An ``<alert>`` in a namespace that looks like CAP but names no version we know is reported
    rather than silently passed over. Several alerts in one place get labels ``label/alert[k]``.
    """
    found: list[tuple[Element, CapVersion]] = []
    problems: list[Finding] = []
    for path, child in children(element, base, frozenset({"alert"})):
        version = cap_version_of(child)
        if version is not None:
            found.append((child, version))
        elif local_name(child) == "alert" and namespace_of(child).startswith(_CAP_NAMESPACE_PREFIX):
            problems.append(
                finding(
                    Severity.ERROR,
                    f"{kind}.alert.unknown_version",
                    f"the <alert> in {label}{line_note(child)} is in namespace "
                    f"{namespace_of(child)!r}, which is no CAP version we know; use "
                    "urn:oasis:names:tc:emergency:cap:1.2 (or 1.1)",
                    path,
                    child,
                )
            )
    if len(found) == 1:
        return [FoundAlert(found[0][0], found[0][1], label)], problems
    alerts = [
        FoundAlert(el, version, f"{label}/alert[{k}]") for k, (el, version) in enumerate(found, 1)
    ]
    return alerts, problems


def is_cap_alert(element: Element) -> bool:
    return cap_version_of(element) is not None
