"""``tocsin send``, ``status``, ``withdraw``, ``audit verify`` and ``serve``.

Registered with the ``tocsin`` command through the ``tocsin.commands`` entry point, so that the
CAP core does not depend on dispatch.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from cap.cli import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    RawDefaultsFormatter,
    UsageError,
    add_format_option,
    emit_json,
)
from dispatch.errors import DispatchError, SubmissionError

# Only what building the parser needs is imported here: `tocsin` registers these commands on
# every run, and the outbox, routing (Shapely) and scheduler (SQLAlchemy) modules load slowly.
if TYPE_CHECKING:
    from dispatch.accept import Acceptance
    from dispatch.config import DispatchConfig
    from dispatch.store import Outbox
    from gateways.base import Gateway


def data_dir() -> Path:
    """Where the embedded defaults keep the outbox: $TOCSIN_DATA_DIR, else XDG data home."""
    explicit = os.environ.get("TOCSIN_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tocsin"


@dataclass(frozen=True, slots=True)
class Loaded:
    config: DispatchConfig
    outbox: Outbox


def load(args: argparse.Namespace) -> Loaded:
    from cap.config import load_config
    from dispatch.config import default_dispatch_config, parse_dispatch_config
    from dispatch.store import Outbox

    settings = load_config(args.config)
    try:
        if settings.path is None:
            config = default_dispatch_config(data_dir())
        else:
            config = parse_dispatch_config(
                settings.raw,
                base_dir=settings.path.parent,
                data_dir=data_dir(),
                source=settings.path,
            )
    except DispatchError as exc:
        raise UsageError(str(exc)) from None
    try:
        outbox = Outbox(config.store.sqlite_path)
    except DispatchError as exc:
        raise UsageError(str(exc)) from None
    return Loaded(config, outbox)


def can_withdraw_for(config: DispatchConfig) -> Callable[[str], bool]:
    """Whether a channel's gateway kind can withdraw, without opening its transport."""
    from gateways.base import GatewayConfigError
    from gateways.registry import gateway_factory

    kinds = {c.name: c.gateway for c in config.channels}

    def can_withdraw(channel: str) -> bool:
        try:
            factory = gateway_factory(kinds.get(channel, ""))
        except GatewayConfigError:
            return False
        return bool(getattr(factory, "can_withdraw", False))

    return can_withdraw


def actor_name(prefix: str = "cli") -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{prefix}:{user}@{socket.gethostname()}"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from dispatch import demo

    demo.register(sub)
    send = sub.add_parser(
        "send",
        help="accept an alert into the outbox for delivery on every routed channel",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Validate an alert and accept it into the outbox: one transaction stores the "
            "original bytes and one delivery per routed channel. Answers only after the commit. "
            "The same alert (sender, identifier, sent) sent twice is stored once. "
            "Delivery is done by 'tocsin serve'."
        ),
        epilog=(
            "examples:\n  tocsin send flood.xml\n  tocsin new --template heat ... | tocsin send -"
        ),
    )
    send.add_argument("source", metavar="FILE|-")
    add_format_option(send)
    send.set_defaults(handler=run_send)

    status = sub.add_parser(
        "status",
        help="per-channel delivery state of an alert (or of the latest alerts)",
        formatter_class=RawDefaultsFormatter,
        description="Show each channel's delivery state for an alert (outbox id or identifier).",
        epilog=(
            "examples:\n  tocsin status\n  tocsin status 12 --watch\n"
            "  tocsin status 12 --format json"
        ),
    )
    status.add_argument("ref", nargs="?", metavar="ID", help="outbox id or CAP identifier")
    status.add_argument("--watch", action="store_true", help="refresh until every delivery settles")
    status.add_argument("--limit", type=int, default=10, help="how many recent alerts (no ID)")
    add_format_option(status)
    status.set_defaults(handler=run_status)

    withdraw = sub.add_parser(
        "withdraw",
        help="stop an alert: no more deliveries or repeats; withdraw it where channels can",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Stop an alert now. Pending deliveries and repeats stop; channels that carried it "
            "and can withdraw (cell broadcast, MQTT) are asked to. Channels that cannot are "
            "listed: send a CAP Cancel ('tocsin cancel') for those."
        ),
        epilog="examples:\n  tocsin withdraw 12",
    )
    withdraw.add_argument("ref", metavar="ID")
    add_format_option(withdraw)
    withdraw.set_defaults(handler=run_withdraw)

    audit_cmd = sub.add_parser(
        "audit",
        help="check the hash-chained audit log",
        formatter_class=RawDefaultsFormatter,
        description="Verify that no audit entry was changed, removed or reordered.",
        epilog="examples:\n  tocsin audit verify\n  tocsin audit verify --head 1234:9f2c...",
    )
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="verify the hash chain")
    verify.add_argument(
        "--head", metavar="SEQ:HASH", help="a head noted earlier: also detects a cut-off tail"
    )
    add_format_option(verify)
    verify.set_defaults(handler=run_audit_verify)
    audit_cmd.set_defaults(handler=lambda _args: _audit_usage(audit_cmd))

    serve = sub.add_parser(
        "serve",
        help="run the dispatch service: scheduler, delivery workers, HTTP intake",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Deliver accepted alerts on their channels, repeat and expire them on schedule, "
            "and (when [intake] tokens are configured) accept alerts over HTTP. Resumes "
            "interrupted work on start; stops gracefully on SIGTERM or Ctrl-C."
        ),
        epilog="examples:\n  tocsin serve\n  tocsin --config /etc/tocsin/tocsin.toml serve -v",
    )
    serve.add_argument(
        "--listen", metavar="HOST:PORT", help="HTTP intake address (overrides config)"
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log each delivery")
    serve.set_defaults(handler=run_serve)


def _audit_usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _submit(loaded: Loaded, data: bytes, actor: str, source: str) -> Acceptance:
    from dispatch.accept import accept_alert

    return accept_alert(
        loaded.outbox,
        loaded.config.channels,
        data,
        actor=actor,
        now=datetime.now(UTC),
        can_withdraw=can_withdraw_for(loaded.config),
        source=source,
    )


def run_send(args: argparse.Namespace) -> int:
    from cap.sources import read_source

    loaded = load(args)
    document = read_source(args.source)
    try:
        acceptance = _submit(loaded, document.data, actor_name(), document.label)
    except SubmissionError as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.format == "json":
        emit_json(acceptance.as_json())
        return EXIT_OK
    if acceptance.duplicate:
        print(
            f"already accepted as alert {acceptance.alert_id} "
            f"({acceptance.identity.identifier}); nothing stored again"
        )
        return EXIT_OK
    routed = [d.channel for d in acceptance.deliveries]
    planned = ", ".join(f"{p.channel}:{p.purpose.value}" for p in acceptance.deliveries)
    print(
        f"accepted as alert {acceptance.alert_id} ({acceptance.identity.identifier}); "
        f"deliveries: {planned or 'none'}"
    )
    for decision in acceptance.decisions:
        if decision.channel not in routed:
            print(f"  not routed to {decision.channel}: {decision.reason}")
    if acceptance.superseded:
        print(f"  supersedes alert(s) {', '.join(map(str, acceptance.superseded))}")
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from dispatch.status import alert_status_json, format_alert_status

    loaded = load(args)
    outbox = loaded.outbox
    while True:
        if args.ref:
            alerts = outbox.find_alerts(args.ref)
            if not alerts:
                raise UsageError(f"no alert {args.ref!r} in the outbox {outbox.path}")
        else:
            alerts = outbox.recent_alerts(args.limit)
        reports = [alert_status_json(outbox, a) for a in alerts]
        if args.format == "json":
            emit_json(reports)
        else:
            if args.watch:
                sys.stdout.write("\x1b[2J\x1b[H")
            for stored in alerts:
                sys.stdout.write(format_alert_status(outbox, stored))
            if not alerts:
                print(f"the outbox {outbox.path} holds no alert yet")
        sys.stdout.flush()
        if not args.watch or all(r["settled"] for r in reports):
            return EXIT_OK
        time.sleep(1.0)


def run_withdraw(args: argparse.Namespace) -> int:
    from dispatch.withdrawal import stop_alert

    loaded = load(args)
    alerts = loaded.outbox.find_alerts(args.ref)
    if len(alerts) != 1:
        what = "no alert" if not alerts else f"{len(alerts)} alerts"
        raise UsageError(f"{what} match {args.ref!r}; give the outbox id")
    result = stop_alert(
        loaded.outbox,
        alerts[0].id,
        datetime.now(UTC),
        actor=actor_name(),
        action="withdrawn_by_operator",
        can_withdraw=can_withdraw_for(loaded.config),
    )
    if args.format == "json":
        emit_json(
            {
                "alert_id": result.alert_id,
                "pending_stopped": result.pending_stopped,
                "withdrawals": list(result.withdrawals),
                "cannot_withdraw": list(result.cannot_withdraw),
            }
        )
        return EXIT_OK
    print(f"alert {result.alert_id} stopped; {result.pending_stopped} pending deliveries stopped")
    if result.withdrawals:
        print(f"  withdrawal queued on: {', '.join(result.withdrawals)}")
    if result.cannot_withdraw:
        print(
            f"  cannot be withdrawn on: {', '.join(result.cannot_withdraw)}; "
            "send a CAP Cancel (tocsin cancel) to reach them"
        )
    return EXIT_OK


def run_audit_verify(args: argparse.Namespace) -> int:
    from dispatch import audit

    loaded = load(args)
    expected: tuple[int, str] | None = None
    if args.head:
        seq, _, digest = args.head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise UsageError("--head takes SEQ:HASH as printed by 'tocsin audit verify'")
        expected = (int(seq), digest)
    conn = loaded.outbox.connection()
    result = audit.verify(conn, expected_head=expected)
    head = audit.head(conn)
    if args.format == "json":
        emit_json(
            {
                "ok": result.ok,
                "entries": result.entries,
                "first_bad_seq": result.first_bad_seq,
                "reason": result.reason,
                "head": f"{head[0]}:{head[1]}",
            }
        )
    elif result.ok:
        print(f"audit log intact: {result.entries} entries; head {head[0]}:{head[1]}")
    else:
        print(f"AUDIT LOG TAMPERED: {result.reason}")
    return EXIT_OK if result.ok else EXIT_BAD_INPUT


def build_gateways(config: DispatchConfig) -> dict[str, Gateway]:
    from gateways.base import GatewayConfigError
    from gateways.registry import create_gateway

    gateways: dict[str, Gateway] = {}
    try:
        for channel in config.channels:
            gateways[channel.name] = create_gateway(channel.gateway, channel.name, channel.options)
    except GatewayConfigError as exc:
        for gateway in gateways.values():
            gateway.close()
        raise UsageError(str(exc)) from None
    return gateways


def run_serve(args: argparse.Namespace) -> int:
    from cap.errors import CapError
    from dispatch.intake import IntakeServer
    from dispatch.service import DispatchService

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    loaded = load(args)
    config = loaded.config
    gateways = build_gateways(config)
    service = DispatchService(config, loaded.outbox, gateways)

    def stop(signum: int, _frame: FrameType | None) -> None:
        service.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    intake: IntakeServer | None = None
    try:
        service.start()
        if config.intake.tokens:
            listen = args.listen or config.intake.listen

            def submit(data: bytes, actor: str) -> Acceptance:
                return _submit(loaded, data, actor, "http")

            intake = IntakeServer(listen, config.intake.tokens, submit, lambda: loaded.outbox)
            intake.start()
            host, port = intake.address
            print(f"tocsin serve: HTTP intake on http://{host}:{port}/alerts", file=sys.stderr)
        print(
            f"tocsin serve: outbox {loaded.outbox.path}; channels "
            f"{', '.join(c.name for c in config.channels) or 'none'}",
            file=sys.stderr,
        )
        sys.stderr.flush()
        service.wait()
    except (CapError, DispatchError, OSError) as exc:
        raise UsageError(f"serve: {exc}") from None
    finally:
        if intake is not None:
            intake.stop()
        service.stop()
    print("tocsin serve: stopped", file=sys.stderr)
    return EXIT_OK
