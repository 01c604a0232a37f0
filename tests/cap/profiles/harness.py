"""Small tools for profile tests: edit a known-good alert and look at what a profile says."""

from __future__ import annotations

from pathlib import Path

from cap import parse_alert
from cap.findings import Finding, Severity
from cap.parsing import ParsedAlert
from cap.profiles import Profile


def variant(doc: str, old: str, new: str) -> str:
    """``doc`` with ``old`` replaced; fails loudly if ``old`` is absent, so that a test can never
    pass by editing nothing."""
    assert old in doc, f"{old!r} not in the template"
    return doc.replace(old, new)


def run(profile: Profile, doc: str) -> list[Finding]:
    return profile.check(parse_alert(doc.encode("utf-8")))


def run_file(profile: Profile, path: Path) -> tuple[ParsedAlert, list[Finding]]:
    parsed = parse_alert(path.read_bytes())
    return parsed, profile.check(parsed)


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def errors(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings if f.severity is Severity.ERROR}


def only(findings: list[Finding], code: str) -> Finding:
    """The single finding with ``code``."""
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, f"expected one {code}, got {[f.code for f in findings]}"
    return matching[0]
