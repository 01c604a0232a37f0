"""A GSM modem emulator: the AT dialogue of a real modem, served on ptys or TCP ports.

:class:`EmulatedModem` is the sans-IO core: bytes in, bytes out when they are due (it keeps
its own schedule from the times passed in: the per-message delay, delivery reports after a
delay). It echoes until ``ATE0``, asks for a PIN if configured, answers ``+CSQ``, ``+CREG``,
``+CEREG``, ``+CPIN``, ``+CNMI``, ``+CMGF``, sends ``+CDS`` status reports when a PDU asked for
one, fails sends by rule (a permanent ``+CMS ERROR`` for some numbers, a temporary one for the
first attempts to others), loses its network on demand, and can vanish after N PDUs.

:class:`EmulatorServer` serves several of them on pty pairs (the slave paths are symlinked as
``DIR/modem0``...) or TCP ports, records every PDU received to a JSON Lines file, and lets
tests and trainers unplug, replug and cut the network of each modem while it runs
(:meth:`EmulatorServer.unplug`, or a line such as ``unplug modem1`` appended to a control file).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import os
import pty
import queue
import selectors
import socket
import sys
import threading
import time
import tty
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateways.sms.cms_errors import cme_error, cms_error
from gateways.sms.errors import SmsError
from gateways.sms.transport import TransportClosedError, TransportError

CTRL_Z = 0x1A
ESC = 0x1B
_VALIDITY_EXPIRED = 0x46  # TS 23.040 9.2.3.15: permanent error, validity period expired


class EmulatorError(SmsError):
    """The emulator cannot start or be controlled as asked (says which option and why)."""


@dataclass(frozen=True, slots=True)
class FailureRule:
    """Fail sends to numbers matching ``pattern`` (shell-style, ``+`` optional) with
    ``+CMS ERROR: code``; only the first ``attempts`` tries per number if given, else always."""

    pattern: str
    code: int
    attempts: int | None = None

    def matches(self, number: str) -> bool:
        bare = number.lstrip("+")
        return fnmatch.fnmatchcase(bare, self.pattern.lstrip("+"))


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    """One emulated modem. Times in seconds."""

    name: str = "modem0"
    delay: float = 0.0  # from Ctrl-Z to the +CMGS answer (the network's round trip)
    report_delay: float = 0.0  # from +CMGS to the +CDS status report
    pin: str | None = None  # the SIM asks for this PIN after power-up
    rules: tuple[FailureRule, ...] = ()
    vanish_after: int | None = None  # unplug itself on receiving this PDU, before answering
    # Numbers (shell-style, '+' optional) whose status report says the network gave up: the
    # phone stayed off until the message's validity ran out (TP-ST 0x46).
    undeliverable: tuple[str, ...] = ()
    rssi: int = 21
    smsc: str = "+15550000000"
    operator: str = "Tocsin Emulated Network"


@dataclass(frozen=True, slots=True)
class PduRecord:
    """One PDU the emulator received (what the JSON Lines record holds)."""

    modem: str
    time: datetime
    elapsed: float  # seconds since the emulator started (monotonic)
    pdu: str  # hex, SMSC octets included, as written after the prompt
    tpdu_length: int
    destination: str | None
    message_reference: int | None
    status_report: bool
    result: str  # "accepted", "+CMS ERROR: <n>", "vanished"

    def as_json(self) -> dict[str, object]:
        return {
            "time": self.time.isoformat(timespec="microseconds"),
            "elapsed": round(self.elapsed, 6),
            "modem": self.modem,
            "pdu": self.pdu,
            "tpdu_length": self.tpdu_length,
            "destination": self.destination,
            "message_reference": self.message_reference,
            "status_report": self.status_report,
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class Vanish:
    """The modem wants to disappear now (``vanish_after`` reached): the edge unplugs it."""

    modem: str


EmulatorEvent = PduRecord | Vanish


@dataclass(slots=True)
class _Power:
    """What a power cycle resets."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cnmi_ds: int = 0
    creg_n: int = 0
    cereg_n: int = 0
    pin_ok: bool = True


class EmulatedModem:
    """The sans-IO core of one emulated modem. ``origin`` pairs a monotonic time with the wall
    time it stands for, so record and report timestamps come without reading a clock."""

    def __init__(self, settings: EmulatorSettings, *, origin: tuple[float, datetime]) -> None:
        self.settings = settings
        self.origin = origin
        self.network = True
        self.pdus_received = 0
        self.attempts: dict[str, int] = {}
        self._mr = 0
        self._power = _Power(pin_ok=settings.pin is None)
        self._input = bytearray()
        self._pdu_mode_length: int | None = None  # set while taking a PDU after '> '
        self._busy_until = float("-inf")
        self._scheduled: list[tuple[float, int, bytes]] = []
        self._answer_due = float("-inf")  # when the last answer (not a +CDS) goes out
        self._seq = 0
        self._vanished = False

    # --- the driver's side -------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> list[EmulatorEvent]:
        """Bytes the TE wrote; answers become due by the emulator's schedule."""
        if self._vanished:
            return []
        self._input += data
        return self.advance(now)

    def advance(self, now: float) -> list[EmulatorEvent]:
        """Handle the input that can be handled by ``now`` (a busy modem queues commands)."""
        events: list[EmulatorEvent] = []
        while self._input and now >= self._busy_until and not self._vanished:
            if not self._consume(now, events):
                break
        return events

    def data_to_send(self, now: float) -> bytes:
        """The answers due by ``now``."""
        due = [item for item in self._scheduled if item[0] <= now]
        if not due:
            return b""
        self._scheduled = [item for item in self._scheduled if item[0] > now]
        return b"".join(item[2] for item in sorted(due))

    @property
    def deadline(self) -> float | None:
        """When :meth:`advance`/:meth:`data_to_send` next have something to do."""
        times = [item[0] for item in self._scheduled]
        if self._input and self._busy_until != float("-inf"):
            times.append(self._busy_until)
        return min(times) if times else None

    def set_network(self, available: bool, now: float) -> None:
        """Lose or regain the network: registration changes (+CREG URC), sends fail with 331."""
        if available == self.network:
            return
        self.network = available
        stat = 1 if available else 2
        if self._power.creg_n:
            self._say(now, f"+CREG: {stat}")
        if self._power.cereg_n:
            self._say(now, f"+CEREG: {stat}")

    def power_cycle(self) -> None:
        """Back to power-up settings (after a replug): echo on, SIM locked again, no routing."""
        self._power = _Power(pin_ok=self.settings.pin is None)
        self._input.clear()
        self._pdu_mode_length = None
        self._busy_until = float("-inf")
        self._answer_due = float("-inf")
        self._scheduled.clear()
        self._vanished = False

    # --- the dialogue ------------------------------------------------------------------

    def _consume(self, now: float, events: list[EmulatorEvent]) -> bool:
        """Handle one unit of input (a command line or a PDU); False if it is incomplete."""
        if self._pdu_mode_length is not None:
            ends = [i for i in (self._input.find(CTRL_Z), self._input.find(ESC)) if i >= 0]
            if not ends:
                return False
            cut = min(ends)
            body = bytes(self._input[:cut])
            terminator = self._input[cut]
            del self._input[: cut + 1]
            if self._power.echo:
                self._out(now, body + bytes([terminator]))
            length, self._pdu_mode_length = self._pdu_mode_length, None
            if terminator == ESC:
                self._final(now, "OK")
            else:
                self._submit(body, length, now, events)
            return True
        cut = self._input.find(b"\r")
        if cut < 0:
            if len(self._input) > 4096:
                self._input.clear()  # a line this long is noise: drop it like a modem would
            return False
        raw = bytes(self._input[:cut])
        del self._input[: cut + 1]
        if self._power.echo:
            self._out(now, raw + b"\r")
        self._command(raw.decode("latin-1").strip().lstrip("\n").strip(), now)
        return True

    def _command(self, line: str, now: float) -> None:
        if not line.upper().startswith("AT"):
            return  # not addressed to us: real modems ignore it
        cmd = line[2:].strip()
        upper = cmd.upper()
        if upper in ("", "Z", "&F", "Z0"):
            if upper:
                self._power = _Power(pin_ok=self._power.pin_ok)
            self._final(now, "OK")
        elif upper in ("E0", "E1", "E"):
            self._power.echo = upper == "E1"
            self._final(now, "OK")
        elif upper in ("I", "+CGMI", "+GMI"):
            self._info(now, "Tocsin", "Emulated GSM modem")
        elif upper in ("+CGMM", "+GMM"):
            self._info(now, "tocsin-sim")
        elif upper in ("+CGMR", "+GMR"):
            self._info(now, "1.0")
        elif upper in ("+CGSN", "+GSN"):
            self._info(now, f"35{zlib.crc32(self.settings.name.encode()) % 10**13:013d}")
        elif upper.startswith("+CMEE"):
            self._set_int(upper, "+CMEE", (0, 1, 2), "cmee", now)
        elif upper == "+CPIN?":
            if self._power.pin_ok:
                self._info(now, "+CPIN: READY")
            else:
                self._info(now, "+CPIN: SIM PIN")
        elif upper.startswith("+CPIN="):
            given = cmd.split("=", 1)[1].split(",")[0].strip().strip('"')
            if self._power.pin_ok:
                self._cme(now, 3)
            elif given == self.settings.pin:
                self._power.pin_ok = True
                self._final(now, "OK")
            else:
                self._cme(now, 16)
        elif upper.startswith("+CMGF"):
            self._set_int(upper, "+CMGF", (0, 1), "cmgf", now)
        elif upper.startswith("+CNMI="):
            values = [v.strip() for v in upper.split("=", 1)[1].split(",")]
            if len(values) < 4 or any(v and not v.isdigit() for v in values):
                self._cms(now, 303)
            else:
                self._power.cnmi_ds = int(values[3] or 0)
                self._final(now, "OK")
        elif upper == "+CNMI?":
            self._info(now, f"+CNMI: 2,0,0,{self._power.cnmi_ds},0")
        elif upper == "+CSQ":
            self._info(now, f"+CSQ: {self.settings.rssi if self.network else 99},99")
        elif upper.startswith(("+CREG", "+CEREG")):
            self._registration(upper, now)
        elif upper == "+COPS?":
            if self.network:
                self._info(now, f'+COPS: 0,0,"{self.settings.operator}"')
            else:
                self._info(now, "+COPS: 0")
        elif upper == "+CSCA?":
            self._info(now, f'+CSCA: "{self.settings.smsc}",145')
        elif upper.startswith("+CMGS="):
            self._cmgs(cmd.split("=", 1)[1].strip(), now)
        else:
            self._final(now, "ERROR")

    def _set_int(
        self, upper: str, name: str, allowed: tuple[int, ...], attr: str, now: float
    ) -> None:
        rest = upper[len(name) :]
        if rest == "?":
            self._info(now, f"{name}: {getattr(self._power, attr)}")
        elif rest.startswith("=") and rest[1:].strip().isdigit() and int(rest[1:]) in allowed:
            setattr(self._power, attr, int(rest[1:]))
            self._final(now, "OK")
        elif rest == "=?":
            self._info(now, f"{name}: ({','.join(map(str, allowed))})")
        else:
            self._cme(now, 50)

    def _registration(self, upper: str, now: float) -> None:
        name = "+CEREG" if upper.startswith("+CEREG") else "+CREG"
        attr = "cereg_n" if name == "+CEREG" else "creg_n"
        rest = upper[len(name) :]
        stat = 1 if self.network else 2
        if rest == "?":
            self._info(now, f"{name}: {getattr(self._power, attr)},{stat}")
        elif rest.startswith("=") and rest[1:].strip() in ("0", "1", "2"):
            setattr(self._power, attr, int(rest[1:]))
            self._final(now, "OK")
        else:
            self._cme(now, 50)

    def _cmgs(self, argument: str, now: float) -> None:
        if not self._power.pin_ok:
            self._cms(now, 311)
        elif self._power.cmgf != 0:
            self._cms(now, 302)  # text mode sends are not emulated
        elif not argument.isdigit() or not 1 <= int(argument) <= 164:
            self._cms(now, 304)
        elif not self.network:
            self._cms(now, 331)
        else:
            self._pdu_mode_length = int(argument)
            self._out(now, b"\r\n> ")

    def _submit(self, body: bytes, length: int, now: float, events: list[EmulatorEvent]) -> None:
        from gateways.sms.pdu import decode_submit, encode_status_report

        text = body.decode("latin-1").replace("\r", "").replace("\n", "").strip()
        self.pdus_received += 1
        destination: str | None = None
        wants_report = False
        code: int | None = None
        try:
            raw = bytes.fromhex(text)
            if not raw or len(raw) - 1 - raw[0] != length:
                raise ValueError("length")
            decoded = decode_submit(raw, with_smsc=True)
            destination = decoded.destination
            wants_report = decoded.status_report_requested
        except (ValueError, IndexError, SmsError):
            code = 304
        if (
            self.settings.vanish_after is not None
            and self.pdus_received == self.settings.vanish_after
        ):
            self._vanished = True
            events.append(
                self._record(now, text, length, destination, None, wants_report, "vanished")
            )
            events.append(Vanish(self.settings.name))
            return
        if code is None and destination is not None:
            tries = self.attempts.get(destination, 0) + 1
            self.attempts[destination] = tries
            for rule in self.settings.rules:
                if rule.matches(destination) and (rule.attempts is None or tries <= rule.attempts):
                    code = rule.code
                    break
        if code is None and not self.network:
            code = 331
        answer_at = now + self.settings.delay
        self._busy_until = answer_at
        if code is not None:
            self._out(answer_at, self._cms_text(code))
            events.append(
                self._record(
                    now, text, length, destination, None, wants_report, f"+CMS ERROR: {code}"
                )
            )
            return
        mr = self._mr
        self._mr = (self._mr + 1) % 256
        self._out(answer_at, f"\r\n+CMGS: {mr}\r\n\r\nOK\r\n".encode())
        events.append(self._record(now, text, length, destination, mr, wants_report, "accepted"))
        if wants_report and self._power.cnmi_ds == 1 and destination is not None:
            report_at = answer_at + self.settings.report_delay
            try:
                report = encode_status_report(
                    message_reference=mr,
                    recipient=destination,
                    service_centre_time=self._wall(now),
                    discharge_time=self._wall(report_at),
                    status=_VALIDITY_EXPIRED if self._undeliverable(destination) else 0,
                )
            except SmsError:
                return  # a destination a report cannot name (alphanumeric): no report
            tpdu_length = len(report) - 1 - report[0]
            self._schedule(
                report_at, f"\r\n+CDS: {tpdu_length}\r\n{report.hex().upper()}\r\n".encode()
            )

    def _undeliverable(self, number: str) -> bool:
        bare = number.lstrip("+")
        return any(fnmatch.fnmatchcase(bare, p.lstrip("+")) for p in self.settings.undeliverable)

    def _record(
        self,
        now: float,
        pdu: str,
        length: int,
        destination: str | None,
        mr: int | None,
        wants_report: bool,
        result: str,
    ) -> PduRecord:
        return PduRecord(
            modem=self.settings.name,
            time=self._wall(now),
            elapsed=now - self.origin[0],
            pdu=pdu.upper(),
            tpdu_length=length,
            destination=destination,
            message_reference=mr,
            status_report=wants_report,
            result=result,
        )

    def _wall(self, now: float) -> datetime:
        return self.origin[1] + timedelta(seconds=now - self.origin[0])

    # --- answers -------------------------------------------------------------------------

    def _schedule(self, when: float, data: bytes) -> None:
        self._seq += 1
        self._scheduled.append((when, self._seq, data))

    def _out(self, now: float, data: bytes) -> None:
        # Answers keep their order: none overtakes one still waiting for its delay.
        when = max(now, self._answer_due)
        self._answer_due = when
        self._schedule(when, data)

    def _say(self, now: float, line: str) -> None:
        self._out(now, f"\r\n{line}\r\n".encode())

    def _final(self, now: float, result: str) -> None:
        self._say(now, result)

    def _info(self, now: float, *lines: str) -> None:
        body = "".join(f"\r\n{line}\r\n" for line in lines)
        self._out(now, f"{body}\r\nOK\r\n".encode())

    def _cms_text(self, code: int) -> bytes:
        value = cms_error(code).meaning if self._power.cmee == 2 else str(code)
        return f"\r\n+CMS ERROR: {value}\r\n".encode()

    def _cms(self, now: float, code: int) -> None:
        self._out(now, self._cms_text(code))

    def _cme(self, now: float, code: int) -> None:
        if self._power.cmee == 0:
            self._final(now, "ERROR")
        elif self._power.cmee == 2:
            self._final(now, f"+CME ERROR: {cme_error(code).meaning}")
        else:
            self._final(now, f"+CME ERROR: {code}")


# --- control ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControlCommand:
    """``unplug``, ``replug``, ``network-lost``, ``network-ok`` for one modem or all."""

    action: str
    target: str  # a modem name, its index, or "all"


CONTROL_ACTIONS = ("unplug", "replug", "network-lost", "network-ok")


def parse_control(line: str) -> ControlCommand | None:
    """A control-file line (``unplug modem1``, ``network-lost all``); None for blank or
    comment lines. Raises EmulatorError for anything else."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    words = text.replace("network lost", "network-lost").replace("network ok", "network-ok").split()
    if len(words) != 2 or words[0] not in CONTROL_ACTIONS:
        raise EmulatorError(
            f"control line {line.strip()!r}: expected one of {', '.join(CONTROL_ACTIONS)} "
            "followed by a modem name, index or 'all'"
        )
    return ControlCommand(words[0], words[1])


# --- the edges -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Endpoint:
    """One modem's IO: a pty pair or a TCP listener (and its client)."""

    index: int
    core: EmulatedModem
    kind: str  # "pty" or "tcp"
    link: Path | None = None  # the symlink to the pty slave
    device: str | None = None  # the pty slave path
    master: int | None = None
    keep_slave: int | None = None  # held open so the master never sees a hang-up
    host: str = "127.0.0.1"
    port: int = 0
    listener: socket.socket | None = None
    client: socket.socket | None = None
    plugged: bool = False
    pending: bytearray = field(default_factory=bytearray)

    @property
    def address(self) -> str:
        if self.kind == "tcp":
            return f"tcp://{self.host}:{self.port}"
        return str(self.link or self.device)


class EmulatorServer:
    """Serves emulated modems on ptys (default) or TCP ports, in one selector loop.

    ``start()`` runs the loop in a background thread (tests); ``serve_forever()`` runs it in
    the calling thread until :meth:`stop` (the CLI, from its signal handler)."""

    def __init__(
        self,
        modems: Sequence[EmulatorSettings],
        *,
        pty_dir: Path | None = None,
        tcp_host: str | None = None,
        tcp_ports: Sequence[int] | None = None,
        record: Path | None = None,
        control: Path | None = None,
        on_record: Callable[[PduRecord], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not modems:
            raise EmulatorError("no modems to emulate: give at least one")
        names = [m.name for m in modems]
        if len(set(names)) != len(names):
            raise EmulatorError(f"modem names must differ: {', '.join(names)}")
        self.clock = clock
        self.pty_dir = pty_dir
        self.record_path = record
        self.control_path = control
        self.on_record = on_record
        self.records: list[PduRecord] = []
        self._records_lock = threading.Lock()
        origin = (clock(), wall())
        tcp = tcp_host is not None or tcp_ports is not None
        ports = list(tcp_ports or [0] * len(modems))
        if tcp and len(ports) != len(modems):
            raise EmulatorError(f"{len(modems)} modems but {len(ports)} TCP ports")
        self._endpoints = [
            _Endpoint(
                i,
                EmulatedModem(settings, origin=origin),
                "tcp" if tcp else "pty",
                host=tcp_host or "127.0.0.1",
                port=ports[i] if tcp else 0,
            )
            for i, settings in enumerate(modems)
        ]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._requests: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._control_offset = 0
        self._next_control_check = 0.0
        self._started = False
        self._closed = False

    # --- lifecycle ---------------------------------------------------------------------

    def open(self) -> None:
        """Create the ptys/listeners and the record file (the loop is not running yet)."""
        if self._started:
            return
        self._started = True
        if self.pty_dir is not None:
            self.pty_dir.mkdir(parents=True, exist_ok=True)
        if self.record_path is not None:
            self.record_path.parent.mkdir(parents=True, exist_ok=True)
        if self.control_path is not None:
            self.control_path.parent.mkdir(parents=True, exist_ok=True)
            self.control_path.touch()
            self._control_offset = self.control_path.stat().st_size
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            for endpoint in self._endpoints:
                self._plug(endpoint)
        except OSError as exc:
            self.close()
            raise EmulatorError(f"cannot create the emulated modems: {exc}") from None

    def start(self) -> EmulatorServer:
        """Open and run the loop in a background thread."""
        self.open()
        self._thread = threading.Thread(target=self._loop, name="modem-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Open and run the loop here until :meth:`stop`."""
        self.open()
        self._loop()

    def stop(self) -> None:
        """Ask the loop to end (safe from a signal handler or another thread)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Stop the loop, close every pty and socket, remove the symlinks."""
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self._closed:
            return
        self._closed = True
        for endpoint in self._endpoints:
            self._unplug(endpoint)
        self._selector.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- what tests and the control file call ---------------------------------------------

    @property
    def addresses(self) -> list[str]:
        """Each modem's address: the pty symlink (or slave path) or ``tcp://host:port``."""
        return [e.address for e in self._endpoints]

    @property
    def devices(self) -> list[str | None]:
        """Each modem's pty slave path now (None when unplugged or on TCP)."""
        return [e.device for e in self._endpoints]

    @property
    def names(self) -> list[str]:
        return [e.core.settings.name for e in self._endpoints]

    def modem(self, index: int) -> EmulatedModem:
        return self._endpoints[index].core

    def unplug(self, index: int) -> None:
        """Close the modem's pty (or socket): the other side sees the device vanish."""
        self._call(lambda: self._unplug(self._endpoints[index]))

    def replug(self, index: int) -> None:
        """A fresh pty (same symlink) or listener, with the modem powered up again."""

        def replug() -> None:
            endpoint = self._endpoints[index]
            if not endpoint.plugged:
                endpoint.core.power_cycle()
                self._plug(endpoint)

        self._call(replug)

    def set_network(self, index: int, available: bool) -> None:
        """Lose (False) or regain (True) the network on one modem."""
        self._call(lambda: self._endpoints[index].core.set_network(available, self.clock()))

    def recorded(self) -> list[PduRecord]:
        with self._records_lock:
            return list(self.records)

    # --- the loop --------------------------------------------------------------------------

    def _call(self, action: Callable[[], None]) -> None:
        if self._thread is None or not self._thread.is_alive():
            action()
            return
        done = threading.Event()
        self._requests.put((action, done))
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if not done.wait(timeout=5):
            raise EmulatorError("the emulator loop did not answer within 5 s")

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                now = self.clock()
                timeout = 0.2 if self.control_path is not None else 1.0
                for endpoint in self._endpoints:
                    deadline = endpoint.core.deadline
                    if deadline is not None and endpoint.plugged:
                        timeout = min(timeout, max(0.0, deadline - now))
                for key, events in self._selector.select(timeout):
                    self._guarded(key.data, functools.partial(self._ready, key, events))
                self._run_requests()
                self._read_control()
                now = self.clock()
                for endpoint in self._endpoints:
                    if endpoint.plugged:
                        self._guarded(endpoint, functools.partial(self._tick, endpoint, now))
        finally:
            self._run_requests()

    def _tick(self, endpoint: _Endpoint, now: float) -> None:
        self._handle(endpoint, endpoint.core.advance(now))
        self._write(endpoint, endpoint.core.data_to_send(now))

    def _guarded(self, endpoint: _Endpoint | None, action: Callable[[], None]) -> None:
        """One modem's failure must not stop the others: report it and unplug that one."""
        try:
            action()
        except Exception as exc:
            name = endpoint.core.settings.name if endpoint else "control"
            print(
                f"tocsin sim modem: internal error in {name} ({type(exc).__name__}: {exc}); "
                "it is unplugged (this is a bug; please report it)",
                file=sys.stderr,
                flush=True,
            )
            if endpoint is not None:
                self._unplug(endpoint)

    def _run_requests(self) -> None:
        while True:
            try:
                action, done = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                action()
            finally:
                done.set()

    def _ready(self, key: selectors.SelectorKey, events: int) -> None:
        endpoint: _Endpoint | None = key.data
        if endpoint is None:
            with contextlib.suppress(OSError):
                os.read(self._wake_r, 4096)
            return
        if not endpoint.plugged:
            return
        fileobj = key.fileobj
        if endpoint.listener is not None and fileobj is endpoint.listener:
            self._accept(endpoint)
            return
        if events & selectors.EVENT_WRITE:
            self._write(endpoint, b"")
        if not events & selectors.EVENT_READ:
            return
        try:
            if endpoint.kind == "pty":
                assert endpoint.master is not None
                data = os.read(endpoint.master, 4096)
            else:
                assert endpoint.client is not None
                data = endpoint.client.recv(4096)
                if not data:
                    self._drop_client(endpoint)
                    return
        except BlockingIOError:
            return
        except OSError:
            if endpoint.kind == "tcp":
                self._drop_client(endpoint)
            return
        self._handle(endpoint, endpoint.core.receive(data, self.clock()))
        self._write(endpoint, endpoint.core.data_to_send(self.clock()))

    def _handle(self, endpoint: _Endpoint, events: list[EmulatorEvent]) -> None:
        for event in events:
            if isinstance(event, PduRecord):
                self._record(event)
            elif isinstance(event, Vanish):
                self._unplug(endpoint)

    def _record(self, record: PduRecord) -> None:
        with self._records_lock:
            self.records.append(record)
        if self.record_path is not None:
            with self.record_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record.as_json(), ensure_ascii=False) + "\n")
        if self.on_record is not None:
            self.on_record(record)

    def _write(self, endpoint: _Endpoint, data: bytes) -> None:
        if not endpoint.plugged:
            return
        endpoint.pending += data
        if not endpoint.pending:
            return
        try:
            if endpoint.kind == "pty":
                assert endpoint.master is not None
                sent = os.write(endpoint.master, endpoint.pending)
            elif endpoint.client is not None:
                sent = endpoint.client.send(endpoint.pending)
            else:
                endpoint.pending.clear()  # nobody connected: the bytes go nowhere, as on a wire
                return
        except BlockingIOError:
            sent = 0
        except OSError:
            endpoint.pending.clear()
            if endpoint.kind == "tcp":
                self._drop_client(endpoint)
            return
        del endpoint.pending[:sent]
        fileobj: int | socket.socket | None = (
            endpoint.master if endpoint.kind == "pty" else endpoint.client
        )
        if fileobj is not None:
            mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if endpoint.pending else 0)
            self._selector.modify(fileobj, mask, endpoint)

    def _plug(self, endpoint: _Endpoint) -> None:
        if endpoint.kind == "pty":
            master, slave = pty.openpty()
            tty.setraw(slave)
            os.set_blocking(master, False)
            endpoint.master, endpoint.keep_slave = master, slave
            endpoint.device = os.ttyname(slave)
            if self.pty_dir is not None:
                link = self.pty_dir / endpoint.core.settings.name
                temporary = link.with_name(f".{link.name}.new")
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()
                temporary.symlink_to(endpoint.device)
                temporary.replace(link)
                endpoint.link = link
            self._selector.register(master, selectors.EVENT_READ, endpoint)
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((endpoint.host, endpoint.port))
            except OSError:
                listener.close()
                raise
            listener.listen(1)
            listener.setblocking(False)
            endpoint.port = listener.getsockname()[1]
            endpoint.listener = listener
            self._selector.register(listener, selectors.EVENT_READ, endpoint)
        endpoint.pending.clear()
        endpoint.plugged = True

    def _unplug(self, endpoint: _Endpoint) -> None:
        if not endpoint.plugged:
            return
        endpoint.plugged = False
        endpoint.pending.clear()
        if endpoint.kind == "pty":
            if endpoint.link is not None:
                with contextlib.suppress(FileNotFoundError):
                    endpoint.link.unlink()  # a stale link could reach a reused pty number
            for fd in (endpoint.master, endpoint.keep_slave):
                if fd is not None:
                    with contextlib.suppress(KeyError, ValueError):
                        self._selector.unregister(fd)
                    with contextlib.suppress(OSError):
                        os.close(fd)
            endpoint.master = endpoint.keep_slave = None
            endpoint.device = None
        else:
            self._drop_client(endpoint)
            if endpoint.listener is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(endpoint.listener)
                endpoint.listener.close()
                endpoint.listener = None

    def _accept(self, endpoint: _Endpoint) -> None:
        assert endpoint.listener is not None
        try:
            client, _ = endpoint.listener.accept()
        except BlockingIOError:
            return
        if endpoint.client is not None:
            client.close()  # one terminal per modem, as on a serial port
            return
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        endpoint.client = client
        self._selector.register(client, selectors.EVENT_READ, endpoint)

    def _drop_client(self, endpoint: _Endpoint) -> None:
        client, endpoint.client = endpoint.client, None
        if client is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(client)
            client.close()

    def _read_control(self) -> None:
        path = self.control_path
        if path is None:
            return
        now = self.clock()
        if now < self._next_control_check:
            return
        self._next_control_check = now + 0.2
        try:
            with path.open("rb") as handle:
                handle.seek(self._control_offset)
                data = handle.read()
        except OSError:
            return
        complete = data[: data.rfind(b"\n") + 1]
        self._control_offset += len(complete)
        for raw in complete.decode("utf-8", "replace").splitlines():
            try:
                command = parse_control(raw)
            except EmulatorError as exc:
                print(f"tocsin sim modem: {exc}", flush=True, file=sys.stderr)
                continue
            if command is not None:
                self._apply(command)

    def _apply(self, command: ControlCommand) -> None:
        targets = self._targets(command.target)
        if not targets:
            print(
                f"tocsin sim modem: control: no modem {command.target!r} "
                f"(modems: {', '.join(self.names)})",
                flush=True,
                file=sys.stderr,
            )
        for endpoint in targets:
            if command.action == "unplug":
                self._unplug(endpoint)
            elif command.action == "replug" and not endpoint.plugged:
                endpoint.core.power_cycle()
                self._plug(endpoint)
            elif command.action in ("network-lost", "network-ok"):
                endpoint.core.set_network(command.action == "network-ok", self.clock())

    def _targets(self, target: str) -> list[_Endpoint]:
        if target == "all":
            return list(self._endpoints)
        if target.isdigit() and int(target) < len(self._endpoints):
            return [self._endpoints[int(target)]]
        return [e for e in self._endpoints if e.core.settings.name == target]


class EmulatedTransport:
    """A transport wired straight to an :class:`EmulatedModem` in this process, no pty: for
    tests and benchmarks of what sits above the transport. Driven by the thread that reads."""

    def __init__(
        self,
        modem: EmulatedModem,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_record: Callable[[PduRecord], None] | None = None,
    ) -> None:
        self.modem = modem
        self.clock = clock
        self.on_record = on_record
        self.records: list[PduRecord] = []
        self.unplugged = False
        self._open = False
        self._wake = threading.Event()

    @property
    def name(self) -> str:
        return f"emulated:{self.modem.settings.name}"

    def open(self) -> None:
        if self.unplugged:
            raise TransportError(f"cannot open {self.name}: no such device (unplugged)")
        self._open = True

    def write(self, data: bytes) -> None:
        self._check()
        self._handle(self.modem.receive(data, self.clock()))

    def read(self, timeout: float) -> bytes:
        end = self.clock() + max(0.0, timeout)
        while True:
            self._check()
            now = self.clock()
            self._handle(self.modem.advance(now))
            self._check()
            data = self.modem.data_to_send(now)
            if data:
                return data
            deadline = self.modem.deadline
            wake = end if deadline is None else min(end, deadline)
            if wake <= now:
                return b""
            self._wake.wait(wake - now)
            self._wake.clear()

    def close(self) -> None:
        self._open = False

    def unplug(self) -> None:
        """The device vanishes: reads and writes fail, opening fails until :meth:`replug`."""
        self.unplugged = True
        self._wake.set()

    def replug(self) -> None:
        self.modem.power_cycle()
        self.unplugged = False

    def _check(self) -> None:
        if self.unplugged or not self._open:
            raise TransportClosedError(f"{self.name} vanished")

    def _handle(self, events: list[EmulatorEvent]) -> None:
        for event in events:
            if isinstance(event, PduRecord):
                self.records.append(event)
                if self.on_record is not None:
                    self.on_record(event)
            else:
                self.unplugged = True
