"""The ``tocsin`` command: CAP commands here, other packages' commands through entry points.

Exit codes: 0 success, 1 the input was judged bad, 2 usage or configuration error. No traceback
reaches the user: every failure is one message on standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any, TextIO

from cap import __version__
from cap.config import ConfigError
from cap.errors import CapError, CapInputError, CapParseError, CapProfileError

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

COMMAND_GROUP = "tocsin.commands"

Handler = Callable[[argparse.Namespace], int]


class UsageError(CapError):
    """Wrong options or configuration: exit status 2."""


class RawDefaultsFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples in epilogs as written."""


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default) or one JSON document on stdout",
    )


def emit_json(document: object, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    json.dump(document, stream, indent=2, ensure_ascii=False, default=str)
    stream.write("\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tocsin",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Tocsin: author, validate and deliver Common Alerting Protocol (CAP) alerts "
            "over every channel that still works."
        ),
        epilog=(
            "examples:\n"
            "  tocsin validate alert.xml --profile ipaws\n"
            "  tocsin new --template flood --set area='Lower Valley' > flood.xml\n"
            "  tocsin update flood.xml --expires +12h > flood-update.xml\n"
            "  tocsin cancel flood.xml --note 'Water has receded' > flood-cancel.xml\n"
            "  tocsin convert old-cap11.xml -o cap12.xml\n\n"
            "Run 'tocsin COMMAND --help' for each command's options."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tocsin {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML configuration (default: $TOCSIN_CONFIG, ~/.config/tocsin/tocsin.toml, "
        "else built-in defaults)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from cap import authoring_commands, convert_command, preview_command, validate_command

    validate_command.register(sub)
    authoring_commands.register(sub)
    convert_command.register(sub)
    preview_command.register(sub)
    for ep in entry_points(group=COMMAND_GROUP):
        register = ep.load()
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return handler(args)
    except KeyboardInterrupt:
        print("tocsin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except (UsageError, CapProfileError, ConfigError) as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CapInputError as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CapParseError as exc:
        print(f"tocsin: refused: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CapError as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        print(
            f"tocsin: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; please report it with the command you ran)",
            file=sys.stderr,
        )
        return EXIT_USAGE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def parse_pairs(values: Sequence[str] | None, option: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` options into pairs, with a usage error naming the bad one."""
    pairs: list[tuple[str, str]] = []
    for raw in values or ():
        name, sep, value = raw.partition("=")
        if not sep or not name:
            raise UsageError(f"{option} {raw!r}: expected NAME=VALUE")
        pairs.append((name, value))
    return pairs


def json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
