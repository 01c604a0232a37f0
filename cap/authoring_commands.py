"""``tocsin new``, ``tocsin update`` and ``tocsin cancel``: authoring from the command line.

Every alert written is validated first (schema, specification rules and any ``--profile``);
an alert with errors is not written and the command exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from cap.authoring import alert_from_description, cancel_alert, update_alert
from cap.cli import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    RawDefaultsFormatter,
    UsageError,
    add_format_option,
    emit_json,
    parse_pairs,
)
from cap.config import load_config
from cap.descriptions import (
    apply_options,
    description_format_for,
    description_from_alert,
    load_description,
)
from cap.errors import CapAuthoringError
from cap.model import Alert
from cap.parsing import parse_alert
from cap.serialize import serialize_alert
from cap.sources import read_source
from cap.templates import list_templates, render_template, template_info
from cap.validate_command import format_report, selected_profiles
from cap.validation import validate_document

# Command-line option -> description key, for the options every authoring command shares.
ALERT_OPTIONS = ("status", "scope", "restriction", "addresses", "note", "source")
INFO_OPTIONS = (
    "language", "event", "urgency", "severity", "certainty", "audience", "effective", "onset",
    "expires", "sender_name", "headline", "description", "instruction", "web", "contact",
)  # fmt: skip
INFO_LISTS = ("category", "response_type")
PAIR_OPTIONS = ("event_code", "parameter", "geocode")
AREA_OPTIONS = ("area_desc", "altitude", "ceiling")
AREA_LISTS = ("polygon", "circle")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = sub.add_parser(
        "new",
        help="author a new alert from options, a template or a TOML/YAML/JSON description",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Write a new CAP 1.2 alert. Start from a template (--template), a description "
            "file (--from) or nothing, then lay command-line options over it. Times take an "
            "offset (2024-05-01T18:00:00-05:00) or a duration from now (+6h, 90m, PT2H). "
            "The alert is validated before it is written."
        ),
        epilog=(
            "examples:\n"
            "  tocsin new --list-templates\n"
            "  tocsin new --template flood --set area='Lower Valley' \\\n"
            "      --set polygon='38.47,-120.14 38.34,-119.95 38.52,-119.74 38.47,-120.14'\n"
            "  tocsin new --from heatwave.yaml --expires +24h -o heat.xml\n"
            "  tocsin new --event 'Boil water' --category Health --urgency Immediate \\\n"
            "      --severity Moderate --certainty Observed --area-desc 'Old Town' \\\n"
            "      --geocode FIPS6=006109 --headline 'Boil water before drinking'"
        ),
    )
    new.add_argument("--template", metavar="NAME", help="start from a shipped template")
    new.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fill a template placeholder",
    )
    new.add_argument("--list-templates", action="store_true", help="list templates and exit")
    new.add_argument("--from", dest="from_file", metavar="FILE", help="a description file")
    new.add_argument("--sender", help="<sender> (default: [authority] sender of the config)")
    _content_options(new)
    _output_options(new)
    new.set_defaults(handler=run_new)

    update = sub.add_parser(
        "update",
        help="write an Update of an earlier alert (references the whole chain)",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Write an Update of REF (a file, URL or - holding the earlier alert): its content "
            "with your changes, msgType Update, and <references> naming the earlier alert and "
            "everything it referenced."
        ),
        epilog=(
            "examples:\n"
            "  tocsin update flood.xml --expires +12h --severity Extreme -o flood-2.xml\n"
            "  tocsin update flood-2.xml --from changes.toml"
        ),
    )
    update.add_argument("ref", metavar="REF", help="the earlier alert (FILE|URL|-)")
    update.add_argument(
        "--from", dest="from_file", metavar="FILE", help="changes as a description file"
    )
    _content_options(update)
    _output_options(update)
    update.set_defaults(handler=run_update)

    cancel = sub.add_parser(
        "cancel",
        help="write a Cancel of an earlier alert",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Write a Cancel of REF: msgType Cancel, <references> naming REF and everything it "
            "referenced, and for each earlier info block one saying the warning is cancelled "
            "(urgency Past, response AllClear)."
        ),
        epilog="examples:\n  tocsin cancel flood-2.xml --note 'River levels have fallen'",
    )
    cancel.add_argument("ref", metavar="REF", help="the alert to cancel (FILE|URL|-)")
    cancel.add_argument("--note", help="why it is cancelled (<note>)")
    _output_options(cancel)
    cancel.set_defaults(handler=run_cancel)


def _content_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("alert content (laid over the template or file)")
    for name in ALERT_OPTIONS + INFO_OPTIONS + AREA_OPTIONS:
        g.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="TEXT")
    g.add_argument("--code", action="append", metavar="CODE", help="<code> (repeatable)")
    for name in INFO_LISTS + AREA_LISTS:
        g.add_argument(f"--{name.replace('_', '-')}", dest=name, action="append", help="repeatable")
    for name in PAIR_OPTIONS:
        g.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            action="append",
            metavar="NAME=VALUE",
            help="repeatable",
        )


def _output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", metavar="FILE", help="write the alert here, not to stdout")
    p.add_argument("--identifier", help="use this identifier instead of a new unique one")
    p.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME",
        help="also check the alert against a profile before writing it",
    )
    add_format_option(p)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The content options given on the command line, as description keys."""
    options: dict[str, Any] = {}
    for name in ALERT_OPTIONS + INFO_OPTIONS + AREA_OPTIONS + INFO_LISTS + AREA_LISTS:
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    if getattr(args, "code", None):
        options["codes"] = args.code
    for name in PAIR_OPTIONS:
        values = getattr(args, name, None)
        if values:
            flag = f"--{name.replace('_', '-')}"
            options[name] = [f"{n}={v}" for n, v in parse_pairs(values, flag)]
    return options


def _read_description(path: str) -> dict[str, Any]:
    if path == "-":
        raise UsageError("--from needs a file name (its extension tells TOML, YAML or JSON)")
    document = read_source(path)
    try:
        text = document.data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: a description file must be UTF-8 text") from None
    return load_description(text, description_format_for(path))


def _now() -> datetime:
    return datetime.now().astimezone()


def run_new(args: argparse.Namespace) -> int:
    if args.list_templates:
        return _print_templates(args.format)
    config = load_config(args.config)
    desc: dict[str, Any] = {}
    options = _options(args)
    if args.template:
        values = dict(parse_pairs(args.set, "--set"))
        try:
            filled = _placeholders_from_options(args.template, options, values)
            desc = render_template(args.template, {**values, **filled})
        except CapAuthoringError as exc:
            raise UsageError(str(exc)) from None
        # An option that filled a placeholder is not laid over the result a second time.
        for option, placeholder in _PLACEHOLDER_OPTIONS.items():
            if placeholder in filled:
                options.pop(option, None)
    elif args.set:
        raise UsageError("--set fills template placeholders; give --template NAME too")
    if args.from_file:
        from_file = _read_description(args.from_file)
        desc = {**desc, **from_file} if desc else from_file
    desc = apply_options(desc, options)
    if args.sender:
        desc["sender"] = args.sender
    authority = config.authority
    info_defaults: dict[str, Any] = {"language": authority.language}
    if authority.sender_name:
        info_defaults["sender_name"] = authority.sender_name
    defaults = {"sender": authority.sender, "info": info_defaults}
    alert = alert_from_description(desc, now=_now(), identifier=args.identifier, defaults=defaults)
    return _write(alert, args)


# Options that can stand in for a template placeholder of the same meaning.
_PLACEHOLDER_OPTIONS = {"area_desc": "area", "polygon": "polygon", "circle": "circle"}


def _placeholders_from_options(
    template: str, options: dict[str, Any], values: dict[str, str]
) -> dict[str, str]:
    """The template placeholders ``area``, ``polygon`` and ``circle`` that ``--area-desc`` and a
    single ``--polygon``/``--circle`` fill, where ``--set`` did not."""
    names = {p.name for p in template_info(template).placeholders}
    filled: dict[str, str] = {}
    for option, placeholder in _PLACEHOLDER_OPTIONS.items():
        given = options.get(option)
        if placeholder not in names or placeholder in values or not given:
            continue
        if isinstance(given, list):
            if len(given) != 1:
                continue
            given = given[0]
        filled[placeholder] = str(given)
    return filled


def run_update(args: argparse.Namespace) -> int:
    earlier = _earlier(args.ref)
    changes: dict[str, Any] = _read_description(args.from_file) if args.from_file else {}
    options = _options(args)
    if options:
        laid = apply_options(description_from_alert(earlier), options)
        for key in ("status", "scope", "restriction", "addresses", "note", "source", "codes"):
            if key in options:
                changes[key] = laid[key]
        if set(options) - set(ALERT_OPTIONS) - {"codes"}:
            changes["info"] = laid["info"]
    alert = update_alert(earlier, changes, now=_now(), identifier=args.identifier)
    return _write(alert, args)


def run_cancel(args: argparse.Namespace) -> int:
    earlier = _earlier(args.ref)
    alert = cancel_alert(earlier, now=_now(), identifier=args.identifier, note=args.note)
    return _write(alert, args)


def _earlier(ref: str) -> Alert:
    document = read_source(ref)
    return parse_alert(document.data).alert


def _write(alert: Alert, args: argparse.Namespace) -> int:
    xml = serialize_alert(alert)
    label = args.output or "-"
    report = validate_document(xml, source=label, profiles=selected_profiles(args.profile))[0]
    if report.valid and args.output:
        Path(args.output).write_bytes(xml)
    if args.format == "json":
        emit_json(
            {
                "identifier": alert.identifier,
                "valid": report.valid,
                "output": args.output,
                "issues": [f.as_json() for f in report.findings],
                "xml": xml.decode("utf-8") if report.valid and not args.output else None,
            }
        )
    elif report.valid:
        if not args.output:
            sys.stdout.buffer.write(xml)
        warnings = [f for f in report.findings if f.severity != "error"]
        if warnings:
            sys.stderr.write(format_report(report))
    else:
        sys.stderr.write("tocsin: the alert was not written because it is invalid:\n")
        sys.stderr.write(format_report(report))
    return EXIT_OK if report.valid else EXIT_BAD_INPUT


def _print_templates(fmt: str) -> int:
    templates = list_templates()
    if fmt == "json":
        emit_json(
            [
                {
                    "name": t.name,
                    "title": t.title,
                    "description": t.description,
                    "placeholders": [
                        {"name": p.name, "help": p.help, "default": p.default}
                        for p in t.placeholders
                    ],
                }
                for t in templates
            ]
        )
        return EXIT_OK
    for t in templates:
        print(f"{t.name:<14} {t.title}: {t.description}")
        for p in t.placeholders:
            need = "required" if p.default is None else f"default {p.default!r}"
            print(f"{'':<16}--set {p.name}=...  {p.help} ({need})")
    return EXIT_OK
