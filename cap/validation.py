"""Validation of a document: schema, specification rules and profiles, for every alert in it.

A document may be one CAP alert, an Atom or RSS feed of alerts, or an EDXL-DE distribution.
Each alert found gets an :class:`AlertReport`; a container also gets one for itself, carrying
the feed-level findings, so that a feed with no alert in it still has a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from lxml import etree

from cap.containers import ContainerScan, scan_container
from cap.errors import CapError, CapParseError
from cap.findings import Finding, Severity, has_errors
from cap.hardened_xml import ParseLimits, parse_xml
from cap.model import Alert
from cap.parsing import ParsedAlert, build_alert, cap_version_of, local_name, not_cap_error
from cap.profiles import Profile
from cap.schema import check_schema
from cap.spec_rules import check_spec_rules
from cap.vocabulary import CapVersion

LinkFetcher = Callable[[str], bytes]

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class AlertReport:
    """The verdict on one alert (or on a feed/distribution as a whole, ``kind`` != "alert")."""

    source: str
    kind: str
    version: CapVersion | None
    profiles: tuple[str, ...]
    findings: tuple[Finding, ...]
    alert: Alert | None = None

    @property
    def valid(self) -> bool:
        return not has_errors(self.findings)

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "kind": self.kind,
            "valid": self.valid,
            "version": self.version,
            "profiles": list(self.profiles),
            "identifier": self.alert.identifier if self.alert else None,
            "issues": [f.as_json() for f in self.findings],
        }


def validate_alert(parsed: ParsedAlert, profiles: Sequence[Profile] = ()) -> list[Finding]:
    """Schema + specification rules + the given profiles, located and sorted."""
    smap = parsed.source_map
    rule_findings = check_spec_rules(parsed)
    for profile in profiles:
        rule_findings.extend(profile.check(parsed))
    located = [_located(f, *smap.locate(f.path)) for f in rule_findings]

    violations = check_schema(parsed.element, parsed.version)
    reverse = {smap.element(p): p for p in smap.paths()} if violations else {}
    flagged = {f.path for f in located if f.severity is Severity.ERROR}
    for violation in violations:
        el = violation.element
        path = reverse.get(el) if el is not None else None
        if path is None and el is not None:
            path = _generic_path(el, parsed.element)
        finding = violation.finding
        if path is not None and path in flagged:
            continue  # a specification rule already explains this element, more precisely
        line, column = smap.position_of(el) if el is not None else (finding.line, None)
        located.append(replace(finding, path=path or "/alert", line=line, column=column))
    located.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.line or 0, f.column or 0))
    return located


def _located(finding: Finding, line: int | None, column: int | None) -> Finding:
    return Finding(finding.code, finding.severity, finding.message, finding.path, line, column)


def _generic_path(element: etree._Element, alert: etree._Element) -> str:
    """An XPath for an element the model does not hold (e.g. a misplaced or foreign one)."""
    steps: list[str] = []
    el: etree._Element | None = element
    while el is not None and el is not alert:
        parent = el.getparent()
        name = local_name(el)
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == el.tag]
            steps.append(f"{name}[{same.index(el) + 1}]" if len(same) > 1 else name)
        el = parent
    return "/".join(["/alert", *reversed(steps)])


def validate_document(
    data: bytes,
    *,
    source: str,
    profiles: Sequence[Profile] = (),
    limits: ParseLimits | None = None,
    fetch_link: LinkFetcher | None = None,
) -> list[AlertReport]:
    """Every alert in ``data`` with its findings. Never raises for bad input: a document that
    cannot be parsed yields one report with the parse error as its finding."""
    names = tuple(p.name for p in profiles)
    try:
        tree = parse_xml(data, limits)
    except CapParseError as exc:
        return [_refused(source, exc, names)]
    root = tree.getroot()
    encoding = tree.docinfo.encoding
    version = cap_version_of(root)
    if version is not None:
        parsed = build_alert(root, version, data, encoding)
        findings = validate_alert(parsed, profiles)
        return [AlertReport(source, "alert", version, names, tuple(findings), parsed.alert)]
    scan = scan_container(root)
    if scan is None:
        return [_refused(source, not_cap_error(root), names)]
    return _validate_container(scan, data, encoding, source, profiles, limits, fetch_link)


def _validate_container(
    scan: ContainerScan,
    data: bytes,
    encoding: str | None,
    source: str,
    profiles: Sequence[Profile],
    limits: ParseLimits | None,
    fetch_link: LinkFetcher | None,
) -> list[AlertReport]:
    names = tuple(p.name for p in profiles)
    container_findings = list(scan.findings)
    reports: list[AlertReport] = []
    for found in scan.alerts:
        parsed = build_alert(found.element, found.version, data, encoding)
        findings = validate_alert(parsed, profiles)
        reports.append(
            AlertReport(
                f"{source}#{found.label}",
                "alert",
                found.version,
                names,
                tuple(findings),
                parsed.alert,
            )
        )
    for link in scan.links:
        if fetch_link is None:
            container_findings.append(
                Finding(
                    "feed.link.not_followed",
                    Severity.INFO,
                    f"{link.label} links to a CAP alert at {link.url}; it was not fetched "
                    "(use --follow-links to validate linked alerts)",
                    f"{_container_root(scan.kind)}/{link.label}",
                )
            )
            continue
        try:
            linked = fetch_link(link.url)
        except CapError as exc:
            container_findings.append(
                Finding(
                    "feed.link.unreachable",
                    Severity.ERROR,
                    f"{link.label} links to {link.url}, which could not be fetched: {exc}",
                    f"{_container_root(scan.kind)}/{link.label}",
                )
            )
            continue
        for report in validate_document(linked, source=link.url, profiles=profiles, limits=limits):
            reports.append(report)
    container_findings.sort(key=lambda f: (_SEVERITY_ORDER[f.severity], f.line or 0))
    head = AlertReport(source, scan.kind, None, names, tuple(container_findings))
    return [head, *reports]


def _container_root(kind: str) -> str:
    return {"atom": "/feed", "rss": "/rss/channel", "edxl-de": "/EDXLDistribution"}.get(kind, "")


def _refused(source: str, exc: CapParseError, profiles: tuple[str, ...]) -> AlertReport:
    finding = Finding(exc.reason, Severity.ERROR, str(exc), "/", exc.line, exc.column)
    return AlertReport(source, "document", None, profiles, (finding,))
