"""``tocsin preview``: what an alert says, laid out for the person about to send it."""

from __future__ import annotations

import argparse
import sys

from cap.cli import EXIT_OK, RawDefaultsFormatter, add_format_option, emit_json
from cap.parsing import parse_alert
from cap.preview import alert_summary, describe_alert
from cap.sources import read_source


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "preview",
        help="show what an alert says: who, what, where, when, per language",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Show an alert as its recipients and the approving officer see it. Channel "
            "previews (cell broadcast pages, SMS segments, SAME headers) are added by the "
            "gateway packages."
        ),
        epilog="examples:\n  tocsin preview flood.xml\n  tocsin preview - --format json",
    )
    p.add_argument("source", metavar="FILE|URL|-")
    add_format_option(p)
    p.set_defaults(handler=run_preview)


def run_preview(args: argparse.Namespace) -> int:
    document = read_source(args.source)
    parsed = parse_alert(document.data)
    if args.format == "json":
        emit_json(alert_summary(parsed.alert))
    else:
        sys.stdout.write(describe_alert(parsed.alert))
    return EXIT_OK
