"""The modem emulator: its core driven with bytes, against our own AT machine, through real
ptys, and as the ``tocsin sim modem`` command."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest

from cap.cli import UsageError
from gateways.commands import build_settings, parse_rule, register
from gateways.sms.at_modem import (
    AtModem,
    DeliveryReportReceived,
    ModemEvent,
    ModemSettings,
    Ready,
    SendFailed,
    Sent,
)
from gateways.sms.cms_errors import ErrorClass
from gateways.sms.emulator import (
    EmulatedModem,
    EmulatorError,
    EmulatorServer,
    EmulatorSettings,
    FailureRule,
    PduRecord,
    Vanish,
    parse_control,
)
from gateways.sms.gsm7 import GSM7_DEFAULT
from gateways.sms.modem_link import DeliveryReport, ModemLink, SendOutcome
from gateways.sms.pdu import (
    DeliveryOutcome,
    SubmitPdu,
    decode_status_report,
    decode_submit,
    encode_submit,
)
from gateways.sms.transport import SerialTransport

ORIGIN = (1000.0, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


def submit(
    number: str = "+15551230001", text: str = "Flood warning", *, status_report: bool = False
) -> SubmitPdu:
    return encode_submit(number, text, GSM7_DEFAULT, status_report=status_report)


class Core:
    """Drives an EmulatedModem with bytes on a fake clock."""

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.modem = EmulatedModem(settings or EmulatorSettings(), origin=ORIGIN)
        self.now = ORIGIN[0]
        self.events: list[PduRecord | Vanish] = []

    def say(self, data: bytes | str) -> bytes:
        raw = data.encode() if isinstance(data, str) else data
        self.events += self.modem.receive(raw, self.now)
        return self.modem.data_to_send(self.now)

    def wait(self, seconds: float) -> bytes:
        self.now += seconds
        self.events += self.modem.advance(self.now)
        return self.modem.data_to_send(self.now)

    def quiet_setup(self) -> None:
        assert self.say("ATE0\r") == b"ATE0\r\r\nOK\r\n"
        assert self.say("AT+CMEE=1\r") == b"\r\nOK\r\n"


def test_echo_until_ate0() -> None:
    core = Core()
    assert core.say("AT\r") == b"AT\r\r\nOK\r\n"
    assert core.say("ATE0\r") == b"ATE0\r\r\nOK\r\n"
    assert core.say("AT\r") == b"\r\nOK\r\n"
    assert core.say("garbage without at\r") == b""
    assert core.say("AT+NOSUCH\r") == b"\r\nERROR\r\n"


def test_sim_pin_flow_and_error_verbosity() -> None:
    core = Core(EmulatorSettings(pin="1234"))
    core.say("ATE0\r")
    assert b"+CPIN: SIM PIN" in core.say("AT+CPIN?\r")
    assert core.say("AT+CMGS=10\r") == b"\r\n+CMS ERROR: 311\r\n"
    assert core.say('AT+CPIN="0000"\r') == b"\r\nERROR\r\n"  # AT+CMEE=0: plain ERROR
    core.say("AT+CMEE=1\r")
    assert core.say('AT+CPIN="0000"\r') == b"\r\n+CME ERROR: 16\r\n"
    assert core.say('AT+CPIN="1234"\r') == b"\r\nOK\r\n"
    assert core.say("AT+CPIN?\r") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
    core.say("AT+CMEE=2\r")
    assert core.say('AT+CPIN="1234"\r') == b"\r\n+CME ERROR: operation not allowed\r\n"


def test_a_send_is_answered_after_the_delay_and_recorded() -> None:
    core = Core(EmulatorSettings(name="m7", delay=0.5))
    core.quiet_setup()
    pdu = submit()
    assert core.say(f"AT+CMGS={pdu.tpdu_length}\r") == b"\r\n> "
    assert core.say(pdu.hex().encode() + b"\x1a") == b""
    assert core.say("AT+CSQ\r") == b""  # busy: the command waits its turn
    assert core.wait(0.49) == b""
    assert core.wait(0.01) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n"
    [record] = core.events
    assert isinstance(record, PduRecord)
    assert record.modem == "m7" and record.destination == "+15551230001"
    assert record.message_reference == 0 and record.result == "accepted"
    assert record.pdu == pdu.hex() and record.tpdu_length == pdu.tpdu_length
    assert record.time == ORIGIN[1] and record.elapsed == 0.0
    line = json.loads(json.dumps(record.as_json()))
    assert line["destination"] == "+15551230001" and line["modem"] == "m7"


def test_status_report_follows_when_asked_for_and_routed() -> None:
    core = Core(EmulatorSettings(delay=0.1, report_delay=1.0))
    core.quiet_setup()
    pdu = submit(status_report=True)
    core.say(f"AT+CMGS={pdu.tpdu_length}\r")
    core.say(pdu.hex() + "\x1a")
    assert b"+CMGS: 0" in core.wait(0.1)
    assert core.wait(2.0) == b""  # +CNMI not set: no report routed to the TE
    core.say("AT+CNMI=2,0,0,1,0\r")
    core.say(f"AT+CMGS={pdu.tpdu_length}\r")
    core.say(pdu.hex() + "\x1a")
    assert core.modem.deadline == pytest.approx(core.now + 0.1)
    assert b"+CMGS: 1" in core.wait(0.1)
    assert core.say("AT\r") == b"\r\nOK\r\n"  # a pending report delays no answer
    output = core.wait(1.0).decode()
    assert output.startswith("\r\n+CDS: ")
    length_line, pdu_line = output.strip().split("\r\n")
    report = decode_status_report(bytes.fromhex(pdu_line))
    assert int(length_line.split(":")[1]) == len(bytes.fromhex(pdu_line)) - 1
    assert report.message_reference == 1 and report.recipient == "+15551230001"
    assert report.status == 0


def test_an_undeliverable_phone_gets_a_report_that_the_network_gave_up() -> None:
    core = Core(EmulatorSettings(delay=0.1, undeliverable=("1555123*",)))
    core.quiet_setup()
    core.say("AT+CNMI=2,0,0,1,0\r")
    reports = []
    for number in ("+15551230001", "+15559990001"):
        pdu = submit(number, status_report=True)
        core.say(f"AT+CMGS={pdu.tpdu_length}\r")
        core.say(pdu.hex() + "\x1a")
        lines = core.wait(0.2).decode().split()
        assert "+CMGS:" in lines  # accepted: the failure comes only in the report
        reports.append(decode_status_report(bytes.fromhex(lines[lines.index("+CDS:") + 2])))
    off, on = reports
    assert off.status == 0x46 and off.outcome is DeliveryOutcome.FAILED
    assert "validity period expired" in off.reason
    assert on.status == 0 and on.outcome is DeliveryOutcome.DELIVERED


def test_failure_rules_permanent_and_temporary() -> None:
    rules = (FailureRule("+1555999*", 1), FailureRule("1555888*", 42, attempts=2))
    core = Core(EmulatorSettings(rules=rules))
    core.quiet_setup()

    def send(number: str) -> bytes:
        pdu = submit(number)
        core.say(f"AT+CMGS={pdu.tpdu_length}\r")
        return core.say(pdu.hex() + "\x1a")

    assert send("+15559990000") == b"\r\n+CMS ERROR: 1\r\n"
    assert send("+15559990000") == b"\r\n+CMS ERROR: 1\r\n"
    assert send("+15558880000") == b"\r\n+CMS ERROR: 42\r\n"
    assert send("+15558880000") == b"\r\n+CMS ERROR: 42\r\n"
    assert send("+15558880000").startswith(b"\r\n+CMGS: ")
    assert send("+15558881111") == b"\r\n+CMS ERROR: 42\r\n"  # counted per number
    assert [r.result for r in core.events if isinstance(r, PduRecord)] == [
        "+CMS ERROR: 1",
        "+CMS ERROR: 1",
        "+CMS ERROR: 42",
        "+CMS ERROR: 42",
        "accepted",
        "+CMS ERROR: 42",
    ]


def test_network_lost_and_regained() -> None:
    core = Core()
    core.quiet_setup()
    core.say("AT+CREG=1\r")
    core.modem.set_network(False, core.now)
    assert core.modem.data_to_send(core.now) == b"\r\n+CREG: 2\r\n"
    assert core.say("AT+CREG?\r") == b"\r\n+CREG: 1,2\r\n\r\nOK\r\n"
    assert core.say("AT+CSQ\r") == b"\r\n+CSQ: 99,99\r\n\r\nOK\r\n"
    assert core.say("AT+CMGS=20\r") == b"\r\n+CMS ERROR: 331\r\n"
    core.modem.set_network(True, core.now)
    assert core.modem.data_to_send(core.now) == b"\r\n+CREG: 1\r\n"


def test_bad_pdus_are_refused_and_escape_cancels() -> None:
    core = Core()
    core.quiet_setup()
    pdu = submit()
    core.say(f"AT+CMGS={pdu.tpdu_length + 1}\r")
    assert core.say(pdu.hex() + "\x1a") == b"\r\n+CMS ERROR: 304\r\n"
    core.say(f"AT+CMGS={pdu.tpdu_length}\r")
    assert core.say("ZZ\x1a") == b"\r\n+CMS ERROR: 304\r\n"
    core.say(f"AT+CMGS={pdu.tpdu_length}\r")
    assert core.say(pdu.hex()[:10] + "\x1b") == b"\r\nOK\r\n"
    assert core.say("AT+CMGS=0\r") == b"\r\n+CMS ERROR: 304\r\n"
    core.say("AT+CMGF=1\r")
    assert core.say("AT+CMGS=5\r") == b"\r\n+CMS ERROR: 302\r\n"


def test_vanish_after_the_nth_pdu_without_answering() -> None:
    core = Core(EmulatorSettings(vanish_after=2))
    core.quiet_setup()
    pdu = submit()
    core.say(f"AT+CMGS={pdu.tpdu_length}\r")
    assert b"+CMGS" in core.say(pdu.hex() + "\x1a")
    core.say(f"AT+CMGS={pdu.tpdu_length}\r")
    assert core.say(pdu.hex() + "\x1a") == b""
    assert isinstance(core.events[-1], Vanish)
    assert isinstance(core.events[-2], PduRecord) and core.events[-2].result == "vanished"
    assert core.say("AT\r") == b""
    core.modem.power_cycle()
    assert core.say("AT\r") == b"AT\r\r\nOK\r\n"  # powered up again: echo is back on


def test_control_lines() -> None:
    assert parse_control("unplug modem1") is not None
    command = parse_control("network lost all  # the storm")
    assert command is not None and (command.action, command.target) == ("network-lost", "all")
    assert parse_control("   # nothing") is None
    with pytest.raises(EmulatorError, match="expected one of"):
        parse_control("explode modem1")


# --- our AT machine against the emulator, no IO ----------------------------------------------


def converse(
    machine: AtModem, core: EmulatedModem, now: float, until: float
) -> tuple[list[ModemEvent], float]:
    """Pump bytes both ways on a fake clock until ``until``."""
    events: list[ModemEvent] = []
    while now < until:
        out = machine.data_to_send()
        if out:
            core.receive(out, now)
        answer = core.data_to_send(now)
        events += machine.receive(answer, now) if answer else machine.tick(now)
        if not out and not answer:
            now += 0.01
    return events, now


def test_our_machine_and_the_emulator_agree_on_the_whole_dialogue() -> None:
    core = EmulatedModem(EmulatorSettings(pin="4321", delay=0.2, report_delay=0.3), origin=ORIGIN)
    machine = AtModem(ModemSettings(pin="4321", poll_interval=0.1))
    now = ORIGIN[0]
    machine.start(now)
    events, now = converse(machine, core, now, now + 1.0)
    ready = [e for e in events if isinstance(e, Ready)]
    assert ready and ready[0].delivery_reports and ready[0].signal is not None
    pdu = submit(status_report=True)
    machine.send(pdu.hex(), pdu.tpdu_length, now)
    events, now = converse(machine, core, now, now + 1.0)
    assert Sent(0) in events
    reports = [e for e in events if isinstance(e, DeliveryReportReceived)]
    assert len(reports) == 1
    assert decode_status_report(reports[0].pdu).message_reference == 0


def test_emulated_errors_reach_our_machine_classified() -> None:
    core = EmulatedModem(EmulatorSettings(rules=(FailureRule("*", 10),)), origin=ORIGIN)
    machine = AtModem()
    machine.start(0.0)
    _, now = converse(machine, core, 0.0, 1.0)
    pdu = submit()
    machine.send(pdu.hex(), pdu.tpdu_length, now)
    events, _ = converse(machine, core, now, now + 1.0)
    [failed] = [e for e in events if isinstance(e, SendFailed)]
    assert failed.error.code == 10 and failed.error.error_class is ErrorClass.PERMANENT


# --- through real ptys -----------------------------------------------------------------------


@pytest.mark.integration
def test_modem_link_over_a_pty_sends_and_the_record_holds_every_pdu(tmp_path: Path) -> None:
    record = tmp_path / "pdus.jsonl"
    settings = EmulatorSettings(name="modem0", delay=0.02, report_delay=0.02)
    with EmulatorServer([settings], pty_dir=tmp_path / "dev", record=record) as server:
        link_path = tmp_path / "dev" / "modem0"
        assert link_path.is_symlink() and str(link_path.readlink()) == server.devices[0]
        link = ModemLink("modem0", SerialTransport(str(link_path)))
        ready = link.open()
        assert ready.registration.registered and ready.delivery_reports
        numbers = [f"+1555123000{i}" for i in range(5)]
        results = [link.send(submit(n, f"Test {n}", status_report=True)) for n in numbers]
        assert [r.outcome for r in results] == [SendOutcome.SENT] * 5
        assert [r.message_reference for r in results] == [0, 1, 2, 3, 4]
        deadline = time.monotonic() + 5
        reports: list[DeliveryReport] = []
        while len(reports) < 5 and time.monotonic() < deadline:
            link.poll(0.05)
            reports += link.take_reports()
        link.close()
    assert sorted(r.report.message_reference for r in reports if r.report) == [0, 1, 2, 3, 4]
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["destination"] for line in lines] == numbers
    assert [line["message_reference"] for line in lines] == [0, 1, 2, 3, 4]
    for line, number in zip(lines, numbers, strict=True):
        decoded = decode_submit(bytes.fromhex(line["pdu"]))
        assert decoded.destination == number and decoded.text == f"Test {number}"
    assert not (tmp_path / "dev" / "modem0").exists()  # closed: the symlink is gone


@pytest.mark.integration
def test_unplugging_closes_the_device_and_replugging_brings_a_fresh_one(tmp_path: Path) -> None:
    with EmulatorServer([EmulatorSettings()], pty_dir=tmp_path) as server:
        link = ModemLink("modem0", SerialTransport(str(tmp_path / "modem0")))
        link.open()
        first_device = server.devices[0]
        server.unplug(0)
        link.poll(0.2)
        assert not link.is_ready
        assert not (tmp_path / "modem0").exists()
        server.replug(0)
        assert (tmp_path / "modem0").is_symlink()
        assert link.open().registration.registered
        assert link.send(submit()).outcome is SendOutcome.SENT
        link.close()
        assert first_device is not None


# --- the command -------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tocsin")
    register(top.add_subparsers(dest="command"))
    return top


def test_the_command_parses_options_into_modems() -> None:
    args = parser().parse_args(
        [
            "sim",
            "modem",
            "-n",
            "3",
            "--delay",
            "0.2",
            "--reject",
            "+1555999*",
            "--flaky",
            "1555888*:2:41",
            "--vanish",
            "modem2:5",
            "--undeliverable",
            "+1555777*",
        ]
    )
    modems = build_settings(args)
    assert all(m.undeliverable == ("+1555777*",) for m in modems)
    assert [m.name for m in modems] == ["modem0", "modem1", "modem2"]
    assert modems[0].delay == 0.2 and modems[2].vanish_after == 5 and modems[0].vanish_after is None
    assert modems[0].rules == (FailureRule("+1555999*", 1), FailureRule("1555888*", 41, 2))
    assert parse_rule("123*", flaky=True) == FailureRule("123*", 42, 1)
    for bad in ("", "x:y", "x:1:2"):
        with pytest.raises(UsageError):
            parse_rule(bad, flaky=False)
    with pytest.raises(UsageError, match="no such modem"):
        build_settings(parser().parse_args(["sim", "modem", "--vanish", "modem9:1"]))
    with pytest.raises(UsageError, match="--count"):
        build_settings(parser().parse_args(["sim", "modem", "-n", "0"]))


def test_the_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "modem", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "--pty-dir" in out and "unplug" in out


RUN_COMMAND = (
    "import argparse, sys\n"
    "from gateways.commands import register\n"
    "p = argparse.ArgumentParser(prog='tocsin')\n"
    "register(p.add_subparsers())\n"
    "a = p.parse_args(sys.argv[1:])\n"
    "sys.exit(a.handler(a))\n"
)


@pytest.mark.integration
def test_sim_modem_runs_until_sigterm_and_obeys_the_control_file(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    options = ["-n", "2", "--delay", "0.01", "--pty-dir", str(tmp_path), "--format", "json"]
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_COMMAND, "sim", "modem", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        announced = json.loads(_read_json_document(process.stdout))
        assert [m["name"] for m in announced["modems"]] == ["modem0", "modem1"]
        assert announced["modems"][0]["address"] == str(tmp_path / "modem0")
        link = ModemLink("modem1", SerialTransport(str(tmp_path / "modem1")))
        link.open()
        assert link.send(submit("+15550001111")).outcome is SendOutcome.SENT
        with Path(announced["control"]).open("a") as control:
            control.write("unplug modem1\n")
        deadline = time.monotonic() + 5
        while link.is_ready and time.monotonic() < deadline:
            link.poll(0.1)
        assert not link.is_ready
        assert not (tmp_path / "modem1").exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    err = process.stderr.read()
    assert "stopped; 1 PDUs received" in err and "Traceback" not in err
    record = [json.loads(x) for x in Path(announced["record"]).read_text().splitlines()]
    assert [r["destination"] for r in record] == ["+15550001111"]
    assert not (tmp_path / "modem0").exists()


def _read_json_document(stream: IO[str]) -> str:
    """The first JSON document the process prints (it keeps running afterwards)."""
    lines: list[str] = []
    while True:
        line = stream.readline()
        if not line:
            raise AssertionError("the emulator exited before announcing its modems")
        lines.append(line)
        if line.rstrip() == "}":
            return "".join(lines)


def test_usage_errors_reach_the_user_as_one_line_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cap.cli

    class EntryPoint:
        def load(self) -> object:
            return register

    monkeypatch.setattr(cap.cli, "entry_points", lambda group: [EntryPoint()])
    assert cap.cli.main(["sim", "modem", "--tcp", "no-port"]) == 2
    err = capsys.readouterr().err
    assert err == "tocsin: --tcp 'no-port': expected HOST:PORT\n"
    assert cap.cli.main(["sim", "modem", "--reject", "123:x"]) == 2
    assert "--reject '123:x'" in capsys.readouterr().err
