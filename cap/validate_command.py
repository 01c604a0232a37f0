"""``tocsin validate``: schema, specification and profile checks for alerts, feeds and EDXL-DE."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cap.cli import EXIT_BAD_INPUT, EXIT_OK, RawDefaultsFormatter, add_format_option, emit_json
from cap.errors import CapInputError
from cap.findings import Severity
from cap.hardened_xml import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, ParseLimits
from cap.profiles import PROFILES, Profile, get_profile
from cap.sources import fetch_url, read_source
from cap.validation import AlertReport, validate_document


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    names = ", ".join(PROFILES)
    p = sub.add_parser(
        "validate",
        help="check CAP alerts, feeds and EDXL-DE distributions",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Validate CAP 1.0/1.1/1.2 alerts, Atom/RSS feeds of them and EDXL-DE distributions: "
            "the official OASIS schema, every rule of the CAP specification the schema does "
            "not enforce, and the profiles you name. Exit status 1 if any alert is invalid."
        ),
        epilog=(
            "examples:\n"
            "  tocsin validate alert.xml\n"
            "  tocsin validate --profile ipaws --format json nws.xml\n"
            "  curl -s https://example.org/cap.atom | tocsin validate -\n"
            "  tocsin validate feed.atom --follow-links\n\n"
            f"profiles: {names}"
        ),
    )
    p.add_argument("sources", nargs="+", metavar="FILE|URL|-", help="documents to check")
    p.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME",
        help=f"also check a profile (repeatable or comma-separated): {names}",
    )
    add_format_option(p)
    p.add_argument(
        "--follow-links",
        action="store_true",
        help="fetch and validate alerts that feed entries link to",
    )
    p.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help=f"refuse documents larger than this (default {DEFAULT_MAX_BYTES})",
    )
    p.add_argument(
        "--max-depth",
        type=int,
        default=DEFAULT_MAX_DEPTH,
        help=f"refuse elements nested deeper than this (default {DEFAULT_MAX_DEPTH})",
    )
    p.set_defaults(handler=run_validate)


def selected_profiles(values: Sequence[str]) -> list[Profile]:
    profiles: list[Profile] = []
    for value in values:
        for name in value.split(","):
            if name.strip():
                profile = get_profile(name.strip())
                if profile not in profiles:
                    profiles.append(profile)
    return profiles


def run_validate(args: argparse.Namespace) -> int:
    profiles = selected_profiles(args.profile)
    try:
        limits = ParseLimits(max_bytes=args.max_bytes, max_depth=args.max_depth)
    except CapInputError as exc:
        from cap.cli import UsageError

        raise UsageError(str(exc)) from None

    def fetch(url: str) -> bytes:
        return fetch_url(url, max_bytes=limits.max_bytes)

    reports: list[AlertReport] = []
    for spec in args.sources:
        document = read_source(spec, max_bytes=limits.max_bytes)
        reports.extend(
            validate_document(
                document.data,
                source=document.label,
                profiles=profiles,
                limits=limits,
                fetch_link=fetch if args.follow_links else None,
            )
        )
    if args.format == "json":
        emit_json([r.as_json() for r in reports])
    else:
        for report in reports:
            sys.stdout.write(format_report(report))
    return EXIT_OK if all(r.valid for r in reports) else EXIT_BAD_INPUT


def format_report(report: AlertReport) -> str:
    """A report for people: a verdict line, then one line per finding."""
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    if report.kind == "document":
        finding = report.findings[0]
        return f"{report.source}: refused: {finding.message}\n"
    what = f"CAP {report.version}" if report.version else report.kind.upper()
    if report.profiles:
        what += f", profiles {', '.join(report.profiles)}"
    verdict = "valid" if report.valid else "INVALID"
    lines = [
        f"{report.source}: {verdict} ({what}): {counts[Severity.ERROR]} errors, "
        f"{counts[Severity.WARNING]} warnings"
    ]
    for f in report.findings:
        where = f"line {f.line}" if f.line else "line ?"
        if f.column:
            where += f":{f.column}"
        lines.append(f"  {f.severity.value:<7} {where:<12} {f.code}  {f.message}  [{f.path}]")
    return "\n".join(lines) + "\n"
