"""``tocsin sim modem``: emulated GSM modems for tests, the demo and training exercises.

Registered with the ``tocsin`` command through the ``tocsin.commands`` entry point. Only what
building the parser needs is imported here; the emulator loads when the command runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from cap.cli import EXIT_OK, RawDefaultsFormatter, UsageError, add_format_option, emit_json

if TYPE_CHECKING:
    from gateways.sms.emulator import EmulatorServer, EmulatorSettings, FailureRule

DEFAULT_REJECT_CODE = 1  # RP cause "unassigned (unallocated) number": permanent
DEFAULT_FLAKY_CODE = 42  # RP cause "congestion": temporary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser(
        "sim",
        help="simulated equipment for tests, the demo and training (emulated GSM modems)",
        formatter_class=RawDefaultsFormatter,
        description="Simulated equipment that speaks the same protocols as the real thing.",
        epilog="examples:\n  tocsin sim modem --count 3 --pty-dir /tmp/modems",
    )
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="WHAT")
    sim.set_defaults(handler=lambda _args: _usage(sim))

    modem = sim_sub.add_parser(
        "modem",
        help="emulated GSM modems on ptys or TCP ports, recording every PDU they receive",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Serve emulated GSM modems that speak the AT dialogue of a real one (3GPP TS "
            "27.005/27.007: echo until ATE0, +CPIN, +CMGF, +CNMI, +CSQ, +CREG, AT+CMGS with "
            "the '> ' prompt, +CMS ERROR, +CDS status reports). Each modem is a pty (a "
            "symlink DIR/<name> points at it; open it like /dev/ttyUSB0) or a TCP port. "
            "Every PDU received is appended to a JSON Lines record. While it runs, append "
            "lines to the control file to act on the modems: 'unplug NAME', 'replug NAME', "
            "'network-lost NAME', 'network-ok NAME' (NAME: a modem's name, index, or 'all'). "
            "Runs until Ctrl-C or SIGTERM."
        ),
        epilog=(
            "examples:\n"
            "  tocsin sim modem --count 3 --pty-dir /tmp/modems --delay 0.2\n"
            "  tocsin sim modem --tcp 127.0.0.1:7100 --count 2 --record pdus.jsonl\n"
            "  tocsin sim modem --reject '+25470000*' --flaky '+254711*:2:42' --pin 1234\n"
            "  tocsin sim modem --undeliverable '+254722*' --report-delay 5\n"
            "  tocsin sim modem --count 2 --vanish modem1:5 --format json\n"
            "  echo 'unplug modem1' >> /tmp/modems/control"
        ),
    )
    modem.add_argument("-n", "--count", type=int, default=1, help="how many modems")
    where = modem.add_mutually_exclusive_group()
    where.add_argument(
        "--pty-dir",
        type=Path,
        metavar="DIR",
        help="put the pty symlinks DIR/modem0... here (default: a new temporary directory)",
    )
    where.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="serve on TCP instead: modem i on PORT+i (PORT 0: any free ports)",
    )
    modem.add_argument("--name-prefix", default="modem", help="modem names: PREFIX0, PREFIX1...")
    modem.add_argument(
        "--delay",
        type=float,
        default=0.1,
        metavar="SECONDS",
        help="per message: from the PDU to the +CMGS answer (the modem is busy meanwhile)",
    )
    modem.add_argument(
        "--report-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="from +CMGS to the +CDS status report (for PDUs that ask for one)",
    )
    modem.add_argument("--pin", help="the SIMs ask for this PIN at power-up")
    modem.add_argument(
        "--reject",
        action="append",
        default=[],
        metavar="PATTERN[:CODE]",
        help=f"always fail sends to numbers matching PATTERN (shell-style, '+' optional) with "
        f"+CMS ERROR: CODE (default {DEFAULT_REJECT_CODE}, unassigned number: permanent)",
    )
    modem.add_argument(
        "--flaky",
        action="append",
        default=[],
        metavar="PATTERN[:K[:CODE]]",
        help=f"fail the first K sends (default 1) to each matching number with +CMS ERROR: "
        f"CODE (default {DEFAULT_FLAKY_CODE}, congestion: temporary), then accept them",
    )
    modem.add_argument(
        "--undeliverable",
        action="append",
        default=[],
        metavar="PATTERN",
        help="accept sends to numbers matching PATTERN, then report them undelivered (status "
        "report TP-ST 0x46: the phone stayed off until the validity period ran out)",
    )
    modem.add_argument(
        "--vanish",
        action="append",
        default=[],
        metavar="MODEM:N",
        help="MODEM (name or index) unplugs itself on receiving its N-th PDU, before answering",
    )
    modem.add_argument(
        "--network-lost",
        action="append",
        default=[],
        metavar="MODEM",
        help="MODEM (name, index or 'all') starts without network",
    )
    modem.add_argument(
        "--record", type=Path, metavar="FILE", help="JSON Lines record (default DIR/pdus.jsonl)"
    )
    modem.add_argument(
        "--control", type=Path, metavar="FILE", help="control file (default DIR/control)"
    )
    add_format_option(modem)
    modem.set_defaults(handler=run_sim_modem)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def parse_rule(value: str, *, flaky: bool) -> FailureRule:
    """``PATTERN[:CODE]`` (reject) or ``PATTERN[:K[:CODE]]`` (flaky) as a failure rule."""
    from gateways.sms.emulator import FailureRule

    option = "--flaky" if flaky else "--reject"
    pattern, *rest = value.split(":")
    numbers = [part for part in rest if part]
    if (
        not pattern
        or not all(part.isdigit() for part in numbers)
        or len(rest) > (2 if flaky else 1)
    ):
        form = "PATTERN[:K[:CODE]]" if flaky else "PATTERN[:CODE]"
        raise UsageError(f"{option} {value!r}: expected {form} with whole numbers")
    if flaky:
        attempts = int(numbers[0]) if numbers else 1
        code = int(numbers[1]) if len(numbers) > 1 else DEFAULT_FLAKY_CODE
        if attempts < 1:
            raise UsageError(f"{option} {value!r}: K must be at least 1")
        return FailureRule(pattern, code, attempts)
    return FailureRule(pattern, int(numbers[0]) if numbers else DEFAULT_REJECT_CODE)


def _modem_index(value: str, names: list[str], option: str) -> list[int]:
    if value == "all":
        return list(range(len(names)))
    if value.isdigit() and int(value) < len(names):
        return [int(value)]
    if value in names:
        return [names.index(value)]
    raise UsageError(f"{option} {value!r}: no such modem (modems: {', '.join(names)})")


def build_settings(args: argparse.Namespace) -> list[EmulatorSettings]:
    """The emulated modems the options describe."""
    from gateways.sms.emulator import EmulatorSettings

    if not 1 <= args.count <= 256:
        raise UsageError(f"--count {args.count}: give 1 to 256 modems")
    for option, value in (("--delay", args.delay), ("--report-delay", args.report_delay)):
        if not 0 <= value <= 3600:
            raise UsageError(f"{option} {value}: give seconds between 0 and 3600")
    rules = tuple(
        [parse_rule(v, flaky=False) for v in args.reject]
        + [parse_rule(v, flaky=True) for v in args.flaky]
    )
    names = [f"{args.name_prefix}{i}" for i in range(args.count)]
    vanish: dict[int, int] = {}
    for value in args.vanish:
        target, sep, count = value.rpartition(":")
        if not sep or not count.isdigit() or int(count) < 1:
            raise UsageError(f"--vanish {value!r}: expected MODEM:N with N >= 1")
        for index in _modem_index(target, names, "--vanish"):
            vanish[index] = int(count)
    return [
        EmulatorSettings(
            name=name,
            delay=args.delay,
            report_delay=args.report_delay,
            pin=args.pin,
            rules=rules,
            vanish_after=vanish.get(index),
            undeliverable=tuple(args.undeliverable),
        )
        for index, name in enumerate(names)
    ]


def _tcp(value: str, count: int) -> tuple[str, list[int]]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--tcp {value!r}: expected HOST:PORT")
    first = int(port)
    if first and first + count - 1 > 65535:
        raise UsageError(f"--tcp {value!r}: {count} ports from {first} go past 65535")
    return host.strip("[]"), [first + i if first else 0 for i in range(count)]


def _in(directory: Path | None, name: str) -> Path:
    assert directory is not None
    return directory / name


def run_sim_modem(args: argparse.Namespace) -> int:
    from gateways.sms.emulator import EmulatorError, EmulatorServer

    settings = build_settings(args)
    names = [s.name for s in settings]
    lost = {i for value in args.network_lost for i in _modem_index(value, names, "--network-lost")}
    host, ports = _tcp(args.tcp, len(settings)) if args.tcp else ("", [])
    pty_dir: Path | None = None
    if not args.tcp:
        pty_dir = args.pty_dir or Path(tempfile.mkdtemp(prefix="tocsin-modems-"))
    workdir = pty_dir
    if workdir is None and (args.record is None or args.control is None):
        workdir = Path(tempfile.mkdtemp(prefix="tocsin-modems-"))
    record = args.record or _in(workdir, "pdus.jsonl")
    control = args.control or _in(workdir, "control")
    try:
        server = EmulatorServer(
            settings,
            pty_dir=pty_dir,
            tcp_host=host if args.tcp else None,
            tcp_ports=ports if args.tcp else None,
            record=record,
            control=control,
        )
        server.open()
    except (EmulatorError, OSError) as exc:
        raise UsageError(f"sim modem: {exc}") from None

    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for index in lost:
            server.set_network(index, False)
        _announce(args, server, record, control)
        server.serve_forever()
    finally:
        server.close()
    received = len(server.recorded())
    print(
        f"tocsin sim modem: stopped; {received} PDUs received, recorded in {record}",
        file=sys.stderr,
    )
    return EXIT_OK


def _announce(
    args: argparse.Namespace, server: EmulatorServer, record: Path, control: Path
) -> None:
    modems = [
        {"name": name, "address": address, "device": device}
        for name, address, device in zip(
            server.names, server.addresses, server.devices, strict=True
        )
    ]
    if args.format == "json":
        emit_json({"modems": modems, "record": str(record), "control": str(control)})
    else:
        print(f"tocsin sim modem: {len(modems)} emulated modem(s); Ctrl-C to stop")
        for modem in modems:
            device = (
                f" -> {modem['device']}"
                if modem["device"] and modem["device"] != modem["address"]
                else ""
            )
            print(f"  {modem['name']}: {modem['address']}{device}")
        print(f"  record:  {record}")
        print(f"  control: {control} (e.g. echo 'unplug {server.names[-1]}' >> {control})")
    sys.stdout.flush()
