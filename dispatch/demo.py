"""``tocsin demo``: the end-to-end exercise on the embedded defaults and local endpoints.

It authors a flood warning from a template, validates and previews it, starts the dispatch
service on a fresh outbox, submits the warning, an update and a cancel, shows each channel's
deliveries as they happen, and ends with a summary and the audit-log check.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cap.cli import EXIT_BAD_INPUT, EXIT_OK, RawDefaultsFormatter

if TYPE_CHECKING:
    from dispatch.store import DeliveryRow, Outbox
    from gateways.radio.direwolf import DirewolfError, LocalDirewolf

AREA = "Sacramento River delta from Freeport to Walnut Grove"
POLYGON = "38.46,-121.52 38.40,-121.45 38.22,-121.48 38.22,-121.62 38.40,-121.60 38.46,-121.52"
SAME_COUNTY = "006067"  # Sacramento County, California (FIPS 06067)
SMS_MODEMS = 3
SMS_RECIPIENTS = 60  # in the flooded valley; a few more live outside it


def _write_recipients(path: Path) -> None:
    """A small directory: residents along the valley (points), a council duty desk that gets
    every alert, and people outside the area who must get nothing."""
    lines = ["number,language,geocodes,lon,lat,name"]
    for n in range(SMS_RECIPIENTS):
        lat = 38.25 + 0.18 * n / SMS_RECIPIENTS
        language = "es" if n % 4 == 3 else "en"
        lines.append(f"+1916555{n:04d},{language},,-121.53,{lat:.4f},resident {n + 1}")
    lines.append("+19165559999,en,*,,,county duty desk")
    lines += [f"+1415555{n:04d},en,,-122.42,37.77,San Francisco resident {n + 1}" for n in range(5)]
    path.write_text("\n".join(lines) + "\n")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run the end-to-end exercise on local endpoints",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Author, validate and preview a flood warning; start the dispatch service on a "
            "fresh outbox with the built-in channels; send the warning, an update and a cancel; "
            "show every delivery as it happens; print a summary. Files go to --dir."
        ),
        epilog="examples:\n  tocsin demo\n  tocsin demo --dir /tmp/tocsin-demo",
    )
    p.add_argument("--dir", default="out/demo", help="working folder (emptied first)")
    p.set_defaults(handler=run_demo)


class _Progress:
    """Prints one line per delivery event, with the time since the demo started."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.lock = threading.Lock()

    def line(self, text: str) -> None:
        with self.lock:
            print(f"  [{time.monotonic() - self.start:6.3f}s] {text}", flush=True)

    def event(self, action: str, delivery: DeliveryRow, reason: str) -> None:
        what = delivery.purpose if delivery.round == 0 else f"{delivery.purpose}#{delivery.round}"
        tail = f" ({reason})" if reason and action not in ("sent", "confirmed", "withdrawn") else ""
        self.line(f"alert {delivery.alert_id} -> {delivery.channel:<8} {what:<9} {action}{tail}")


class _ConsoleChannel(logging.Handler):
    def __init__(self, progress: _Progress) -> None:
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.line(f"console says: {record.getMessage()}")


def _settle(outbox: Outbox, alert_ids: list[int], timeout: float = 30.0) -> bool:
    from dispatch.delivery import TERMINAL, DeliveryState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [d for a in alert_ids for d in outbox.deliveries(a)]
        if rows and all(d.state in TERMINAL or d.state is DeliveryState.SENT for d in rows):
            return True
        time.sleep(0.02)
    return False


def _radio_summary(radio: Path, tnc: LocalDirewolf | None) -> list[str]:
    """What the radio channels put on air, as real decoders hear it (multimon-ng for SAME,
    direwolf's atest for APRS) when they are installed."""
    import re
    import subprocess

    lines = []
    same = sorted((radio / "same").glob("*.wav"))
    lines.append(f"same: {len(same)} SAME/EAS messages as WAV files in {radio / 'same'}")
    if same and shutil.which("multimon-ng") and shutil.which("sox"):
        for wav in same:
            heard = subprocess.run(
                ["multimon-ng", "-q", "-r", "-a", "EAS", "-t", "wav", str(wav)],
                capture_output=True, text=True, check=False, timeout=60,
            ).stdout  # fmt: skip
            headers = [x[5:] for x in heard.splitlines() if x.startswith("EAS: ZCZC")]
            lines.append(f"  multimon-ng hears {wav.name}: {headers[0] if headers else 'nothing'}")
    if tnc is not None:
        tnc.write_wav(radio / "aprs-direwolf.wav")
        aprs = [radio / "aprs-direwolf.wav"]
        lines.append(f"aprs: sent over KISS to direwolf, whose transmissions are in {aprs[0]}")
    else:
        aprs = sorted((radio / "aprs").glob("*.wav"))
        lines.append(f"aprs: {len(aprs)} APRS transmissions as WAV files in {radio / 'aprs'}")
    if aprs and shutil.which("atest"):
        for wav in aprs:
            heard = subprocess.run(
                ["atest", str(wav)], capture_output=True, text=True, check=False, timeout=60
            ).stdout
            plain = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", heard)  # atest colours its output
            frames = [x for x in plain.splitlines() if x.startswith("[0] ")]
            first = frames[0][4:] if frames else "nothing"
            lines.append(f"  direwolf's atest hears {wav.name}: {len(frames)} frames, e.g. {first}")
    return lines


def run_demo(args: argparse.Namespace) -> int:
    from cap.authoring import alert_from_description, cancel_alert, update_alert
    from cap.model import Alert
    from cap.preview import describe_alert
    from cap.serialize import serialize_alert
    from cap.templates import render_template
    from cap.validation import validate_document
    from dispatch import audit
    from dispatch.accept import Acceptance, accept_alert
    from dispatch.config import ChannelConfig, RoutingRule, default_dispatch_config
    from dispatch.service import DispatchService
    from dispatch.store import Outbox
    from gateways.radio.direwolf import LocalDirewolf
    from gateways.registry import create_gateway
    from gateways.sms.emulator import EmulatorServer, EmulatorSettings
    from gateways.sms.pdu import decode_submit

    folder = Path(args.dir)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    data_dir = folder / "data"
    progress = _Progress()
    emulator = EmulatorServer(
        [EmulatorSettings(name=f"modem{i}", delay=0.05) for i in range(SMS_MODEMS)],
        pty_dir=folder / "modems",
        record=folder / "sms-pdus.jsonl",
    ).start()
    _write_recipients(folder / "recipients.csv")
    config = default_dispatch_config(data_dir)
    sms = ChannelConfig(
        name="sms",
        gateway="sms",
        options={
            "modems": emulator.addresses,
            "recipients": str(folder / "recipients.csv"),
            "min_interval": 0.1,
            "register_timeout": 10.0,
        },
        routing=RoutingRule(statuses=frozenset({"Actual", "Exercise"})),
        concurrency=1,
    )
    radio = folder / "radio"
    weather_radio = ChannelConfig(
        name="same",
        gateway="same",
        options={
            "station_id": "KXYZ/NWS",
            "wav_folder": str(radio / "same"),
            "attention_seconds": 8,
            "cancel": "announce",
            "lead_in": 0,
            "tail": 0,
        },
        routing=RoutingRule(),
    )
    # APRS frames go to a local direwolf over KISS when it is installed (its transmissions land
    # in a file), else they are modulated here into WAV files.
    tnc: LocalDirewolf | None = None
    aprs_options: dict[str, object] = {"callsign": "N0CALL-10", "lead_in": 0}
    if shutil.which("direwolf"):
        try:
            tnc = LocalDirewolf(radio / "direwolf").start()
            aprs_options["kiss"] = f"tcp:127.0.0.1:{tnc.kiss_port}"
        except DirewolfError as exc:
            print(f"   (direwolf could not start, APRS audio is made here instead: {exc})")
    if tnc is None:
        aprs_options["wav_folder"] = str(radio / "aprs")
    amateur = ChannelConfig(
        name="aprs", gateway="aprs", options=aprs_options, routing=RoutingRule()
    )
    config = replace(config, channels=(*config.channels, sms, weather_radio, amateur))
    now = datetime.now(UTC)

    print("== 1. author a flood warning from the 'flood' template")
    desc = render_template(
        "flood", {"area": AREA, "polygon": POLYGON, "river": "the Sacramento River"}
    )
    desc["info"][0]["areas"][0]["geocodes"] = [["SAME", SAME_COUNTY]]
    desc["info"][0]["event_codes"] = [["SAME", "FLW"]]  # what SAME radios wake on
    desc["info"].append(
        {
            **desc["info"][0],
            "language": "es-US",
            "event": "Inundación",
            "headline": f"Aviso de inundación para {AREA}",
            "description": "El nivel del río Sacramento sube y se esperan inundaciones.",
            "instruction": "Suba a un lugar alto ahora. No camine ni conduzca por el agua.",
        }
    )
    desc["sender"] = "alerts@demo.tocsin.invalid"
    warning = alert_from_description(desc, now=now)
    files = {"warning": folder / "1-flood-warning.xml"}
    files["warning"].write_bytes(serialize_alert(warning))
    print(f"   wrote {files['warning']}")

    print("== 2. validate it (OASIS schema, CAP 1.2 rules)")
    report = validate_document(files["warning"].read_bytes(), source=str(files["warning"]))[0]
    errors = sum(1 for f in report.findings if f.severity == "error")
    print(f"   {'valid' if report.valid else 'INVALID'}: {errors} errors, "
          f"{len(report.findings) - errors} warnings")  # fmt: skip
    if not report.valid:
        return EXIT_BAD_INPUT

    print("== 3. preview")
    sys.stdout.write("".join(f"   {line}\n" for line in describe_alert(warning).splitlines()))

    print(f"== 4. start the dispatch service (outbox {config.store.sqlite_path})")
    print(f"   channels: {', '.join(f'{c.name} ({c.gateway})' for c in config.channels)}")
    logging.getLogger("tocsin.channel").addHandler(_ConsoleChannel(progress))
    logging.getLogger("tocsin.channel").setLevel(logging.INFO)
    logging.getLogger("tocsin.channel").propagate = False
    outbox = Outbox(config.store.sqlite_path)
    gateways = {c.name: create_gateway(c.gateway, c.name, c.options) for c in config.channels}
    service = DispatchService(
        config, Outbox(config.store.sqlite_path), gateways, on_event=progress.event
    )
    service.start()
    accepted: list[tuple[str, Acceptance]] = []
    try:

        def send(label: str, alert: Alert, path: Path) -> Acceptance:
            path.write_bytes(serialize_alert(alert))
            acceptance = accept_alert(
                outbox, config.channels, path.read_bytes(), actor="demo",
                now=datetime.now(UTC), can_withdraw=lambda c: gateways[c].can_withdraw,
                source=str(path),
            )  # fmt: skip
            planned = ", ".join(
                f"{p.channel}:{p.purpose.value}"
                + (f" of alert {p.alert_id}" if p.alert_id != acceptance.alert_id else "")
                for p in acceptance.deliveries
            )
            progress.line(f"accepted {label} as alert {acceptance.alert_id} -> {planned}")
            accepted.append((label, acceptance))
            return acceptance

        print("== 5. send the warning, then an update, then a cancel")
        first = send("warning", warning, files["warning"])
        _settle(outbox, [first.alert_id])
        update = update_alert(
            warning,
            {"info_changes": {"severity": "Extreme", "expires": "+18h",
                              "headline": f"Severe flood warning for {AREA}: danger to life"}},
            now=datetime.now(UTC),
        )  # fmt: skip
        second = send("update", update, folder / "2-flood-update.xml")
        _settle(outbox, [first.alert_id, second.alert_id])
        cancel = cancel_alert(
            update, now=datetime.now(UTC), note="River levels have fallen below flood stage"
        )
        third = send("cancel", cancel, folder / "3-flood-cancel.xml")
        settled = _settle(outbox, [first.alert_id, second.alert_id, third.alert_id])
    finally:
        service.stop()
        for gateway in gateways.values():
            gateway.close()
        emulator.close()
        if tnc is not None:
            tnc.wait_quiet()
            tnc.stop()

    print("== 6. summary")
    print(f"   {'alert':<7}{'what':<9}{'channel':<10}{'purpose':<10}{'state':<11}attempts")
    for label, acceptance in accepted:
        for d in outbox.deliveries(acceptance.alert_id):
            print(f"   {acceptance.alert_id:<7}{label:<9}{d.channel:<10}{d.purpose:<10}"
                  f"{d.state.value:<11}{d.attempts}")  # fmt: skip
    check = audit.verify(outbox.connection())
    archive = sorted(p.name for p in (data_dir / "archive").glob("*.xml"))
    print(f"   archive: {len(archive)} CAP files in {data_dir / 'archive'}")
    records = [r for r in emulator.recorded() if r.result == "accepted"]
    firsts = [decode_submit(bytes.fromhex(r.pdu)).concat for r in records]
    messages = sum(c is None or c.sequence == 1 for c in firsts)
    per_modem = {m: sum(r.modem == m for r in records) for m in emulator.names}
    print(
        f"   sms: {messages} messages in {len(records)} segments to "
        f"{len({r.destination for r in records})} numbers through {SMS_MODEMS} emulated modems "
        f"({', '.join(f'{m}: {n}' for m, n in per_modem.items())}); PDUs in "
        f"{folder / 'sms-pdus.jsonl'}"
    )
    for line in _radio_summary(radio, tnc):
        print(f"   {line}")
    print(
        f"   audit log: {'intact' if check.ok else 'TAMPERED'}, {check.entries} entries; "
        f"head {audit.format_head(audit.head(outbox.connection()))}"
    )
    print(f"   all deliveries settled: {settled}")
    return EXIT_OK if settled and check.ok else EXIT_BAD_INPUT
