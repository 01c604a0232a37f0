"""``tocsin preview``: what an alert says, laid out for the person about to send it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import cast

from cap.cli import EXIT_OK, RawDefaultsFormatter, UsageError, add_format_option, emit_json
from cap.model import Alert
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
        epilog=(
            "examples:\n  tocsin preview flood.xml\n  tocsin preview - --format json\n"
            "  tocsin preview flood.xml --channel sms"
        ),
    )
    p.add_argument("source", metavar="FILE|URL|-")
    p.add_argument(
        "--channel",
        metavar="KIND",
        help="show what one channel kind will carry (installed: "
        + (", ".join(sorted(ep.name for ep in entry_points(group=PREVIEW_GROUP))) or "none")
        + ")",
    )
    add_format_option(p)
    p.set_defaults(handler=run_preview)


PREVIEW_GROUP = "tocsin.channel_previews"

ChannelPreview = Callable[[Alert], tuple[str, dict[str, object]]]
"""A gateway package's preview: the alert as its channel will carry it, as text and as JSON
data; it raises a :class:`cap.errors.CapError` subclass (or a gateway error) saying why not."""


def channel_preview(kind: str) -> ChannelPreview:
    found = [ep for ep in entry_points(group=PREVIEW_GROUP) if ep.name == kind]
    if not found:
        known = ", ".join(sorted(ep.name for ep in entry_points(group=PREVIEW_GROUP)))
        raise UsageError(f"--channel {kind}: no such channel preview (installed: {known})")
    return cast(ChannelPreview, found[0].load())


def run_preview(args: argparse.Namespace) -> int:
    document = read_source(args.source)
    parsed = parse_alert(document.data)
    if args.channel:
        text, data = channel_preview(args.channel)(parsed.alert)
        if args.format == "json":
            emit_json(data)
        else:
            sys.stdout.write(text)
        return EXIT_OK
    if args.format == "json":
        emit_json(alert_summary(parsed.alert))
    else:
        sys.stdout.write(describe_alert(parsed.alert))
    return EXIT_OK
