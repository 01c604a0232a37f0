"""``tocsin convert``: the explicit upgrade of CAP 1.0/1.1 alerts to canonical CAP 1.2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cap.cli import EXIT_BAD_INPUT, EXIT_OK, RawDefaultsFormatter, add_format_option, emit_json
from cap.conversion import upgrade_to_cap12
from cap.findings import Severity
from cap.parsing import parse_alert
from cap.serialize import serialize_alert
from cap.sources import read_source
from cap.validate_command import format_report
from cap.validation import validate_document


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "convert",
        help="upgrade a CAP 1.0/1.1 alert to canonical CAP 1.2",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Re-write an alert as canonical CAP 1.2, saying on stderr what changed (renamed "
            "values, removed elements). The result is validated; exit status 1 if it is not "
            "valid CAP 1.2 (for instance a CAP 1.0 alert without <scope>: give --scope)."
        ),
        epilog=(
            "examples:\n"
            "  tocsin convert nws-cap11.xml -o nws-cap12.xml\n"
            "  tocsin convert old.xml --scope Public > new.xml"
        ),
    )
    p.add_argument("source", metavar="FILE|URL|-")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--scope", choices=("Public", "Restricted", "Private"))
    add_format_option(p)
    p.set_defaults(handler=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    document = read_source(args.source)
    parsed = parse_alert(document.data)
    conversion = upgrade_to_cap12(parsed, scope=args.scope)
    xml = serialize_alert(conversion.alert)
    report = validate_document(xml, source=args.output or "-")[0]
    if args.output:
        Path(args.output).write_bytes(xml)
    if args.format == "json":
        emit_json(
            {
                "source": document.label,
                "from_version": parsed.version,
                "to_version": "1.2",
                "notes": list(conversion.notes),
                "valid": report.valid,
                "issues": [f.as_json() for f in report.findings],
                "xml": None if args.output else xml.decode("utf-8"),
            }
        )
    else:
        if not args.output:
            sys.stdout.buffer.write(xml)
        for note in conversion.notes:
            print(f"tocsin convert: {note}", file=sys.stderr)
        if any(f.severity is Severity.ERROR for f in report.findings):
            sys.stderr.write(format_report(report))
    return EXIT_OK if report.valid else EXIT_BAD_INPUT
