"""The AT dialogue with a GSM modem (3GPP TS 27.005 and 27.007), as a sans-IO state machine.

:class:`AtModem` never touches a port or a clock: feed it the bytes the modem sent and the
current monotonic time (:meth:`AtModem.receive`), call :meth:`AtModem.tick` when
:attr:`AtModem.deadline` has passed, and write what :meth:`AtModem.data_to_send` returns. It
answers with events. The same machine runs over a serial port, a pty, a TCP socket or a test's
byte strings.

The dialogue: ``AT`` (repeated until the modem answers), ``ATE0``, ``AT+CMEE=1``, ``AT+CPIN?``
(the PIN is entered once, never retried: three wrong PINs block the SIM), ``AT+CMGF=0``,
``AT+CNMI=2,0,0,1,0`` (status reports routed to us as ``+CDS``), ``AT+CSQ``, ``AT+CREG=1``,
then ``AT+CREG?``/``AT+CEREG?`` until the modem is registered (home or roaming). A send is
``AT+CMGS=<TPDU length>``, the ``> `` prompt (no line ending after it), the PDU in hex and
Ctrl-Z, then ``+CMGS: <mr>`` and ``OK``, or ``+CMS ERROR: <n>``. Unsolicited result codes
(``+CDS`` with its PDU on the next line, ``+CREG``, ``RING``, ``^SYSSTART``...) and echo are
handled at any point.

Once the PDU has been handed over for writing, a send can only end as sent, refused by the
modem, or :class:`SendOutcomeUnknown`: the message may have gone out, and whoever resends it
must count a possible duplicate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum, auto

from gateways.sms.cms_errors import ErrorClass, ErrorInfo, ErrorSource, parse_error_result
from gateways.sms.errors import SmsError

CTRL_Z = b"\x1a"
ESC = b"\x1b"

# +CREG/+CEREG <stat> values (TS 27.007 7.2) under which the modem can send SMS.
_REGISTERED = frozenset({1, 5, 6, 7, 9, 10})
_STAT_TEXT = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "not registered, searching",
    3: "registration denied",
    4: "unknown",
    5: "registered, roaming",
    6: "registered for SMS only, home network",
    7: "registered for SMS only, roaming",
    8: "attached for emergency bearer services only",
    9: "registered, home network (CSFB not preferred)",
    10: "registered, roaming (CSFB not preferred)",
}

_RESTART_MARKERS = ("^SYSSTART", "RDY")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_CSQ = re.compile(r"^\+CSQ:\s*(\d+)\s*,\s*(\d+)")
_CMGS = re.compile(r"^\+CMGS:\s*(\d+)")
_REG = re.compile(r"^\+(CREG|CEREG):\s*(.*)$", re.IGNORECASE)


class ModemSetupError(SmsError):
    """A modem cannot be used as configured (a PIN is needed but none was given...)."""


class ModemState(StrEnum):
    CLOSED = "closed"  # start() not called yet
    INITIALISING = "initialising"
    READY = "ready"
    SENDING = "sending"
    CHECKING = "checking"  # a status check (AT+CSQ, AT+CREG?) is running
    FAILED = "failed"  # the dialogue broke: reopen the link and start() again


@dataclass(frozen=True, slots=True)
class ModemSettings:
    """How patient to be, and what the SIM needs. Times are seconds."""

    pin: str | None = None
    command_timeout: float = 5.0
    sync_attempts: int = 3  # "AT" sent this many times before the modem is declared silent
    sim_timeout: float = 15.0  # how long the SIM may stay busy (after power-up or the PIN)
    registration_timeout: float = 60.0
    poll_interval: float = 1.0  # between registration and SIM checks
    prompt_timeout: float = 10.0
    send_timeout: float = 60.0  # from Ctrl-Z to +CMGS (networks can be slow)
    delivery_reports: bool = True  # ask for +CDS routing (AT+CNMI ... ds=1)


@dataclass(frozen=True, slots=True)
class SignalQuality:
    """``+CSQ``: rssi 0..31 (99 unknown), bit error rate 0..7 (99 unknown)."""

    rssi: int
    ber: int

    @property
    def dbm(self) -> int | None:
        return None if self.rssi == 99 else -113 + 2 * min(self.rssi, 31)

    def describe(self) -> str:
        return "unknown" if self.dbm is None else f"{self.dbm} dBm (rssi {self.rssi})"


@dataclass(frozen=True, slots=True)
class Registration:
    """``+CREG``/``+CEREG`` network registration."""

    status: int
    source: str = "+CREG"
    area: str | None = None
    cell: str | None = None

    @property
    def registered(self) -> bool:
        return self.status in _REGISTERED

    def describe(self) -> str:
        text = _STAT_TEXT.get(self.status, f"status {self.status}")
        return f"{text} ({self.source}: {self.status})"


# --- events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ready:
    """Initialisation finished: the modem can send."""

    signal: SignalQuality | None
    registration: Registration
    delivery_reports: bool  # whether +CDS routing was accepted
    echo: bool  # whether the modem still echoes (it ignored ATE0)


@dataclass(frozen=True, slots=True)
class InitFailed:
    reason: str
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    message_reference: int | None  # TP-MR from +CMGS (None if the modem gave none)


@dataclass(frozen=True, slots=True)
class SendFailed:
    """Not sent: the modem or network refused, or the dialogue broke before the PDU went out."""

    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class SendOutcomeUnknown:
    """The PDU was handed over but no final result came: it may have been sent."""

    reason: str


@dataclass(frozen=True, slots=True)
class DeliveryReportReceived:
    """``+CDS: <length>`` and its PDU (SMSC address included, as the modem gave it)."""

    pdu: bytes
    tpdu_length: int


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    registration: Registration


@dataclass(frozen=True, slots=True)
class StatusChecked:
    signal: SignalQuality | None
    registration: Registration | None


@dataclass(frozen=True, slots=True)
class LinkFailed:
    """The dialogue broke outside a send (timeout, restart): reopen and start() again."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unsolicited:
    """A line the modem sent on its own that needs no action (RING, ^SYSSTART, +CMTI...)."""

    line: str


ModemEvent = (
    Ready
    | InitFailed
    | Sent
    | SendFailed
    | SendOutcomeUnknown
    | DeliveryReportReceived
    | RegistrationChanged
    | StatusChecked
    | LinkFailed
    | Unsolicited
)


def local_error(meaning: str, error_class: ErrorClass = ErrorClass.MODEM) -> ErrorInfo:
    """An error we detected ourselves (timeout, link lost), in the same shape as the modem's."""
    return ErrorInfo(ErrorSource.LOCAL, None, meaning, error_class, "3GPP TS 27.005 3.5.1")


class _Step(Enum):
    SYNC = auto()
    ECHO_OFF = auto()
    CMEE = auto()
    CPIN_QUERY = auto()
    CPIN_ENTER = auto()
    CMGF = auto()
    CNMI = auto()
    CNMI_FALLBACK = auto()
    CSQ = auto()
    CREG_ENABLE = auto()
    CREG_QUERY = auto()
    CEREG_QUERY = auto()
    CMGS_PROMPT = auto()
    CMGS_RESULT = auto()
    CHECK_CSQ = auto()
    CHECK_CREG = auto()
    CHECK_CEREG = auto()


_INIT_STEPS = frozenset(
    {
        _Step.SYNC,
        _Step.ECHO_OFF,
        _Step.CMEE,
        _Step.CPIN_QUERY,
        _Step.CPIN_ENTER,
        _Step.CMGF,
        _Step.CNMI,
        _Step.CNMI_FALLBACK,
        _Step.CSQ,
        _Step.CREG_ENABLE,
        _Step.CREG_QUERY,
        _Step.CEREG_QUERY,
    }
)
# The "+XXX:" prefix of each step's information lines.
_INFO_PREFIX = {
    _Step.CPIN_QUERY: "+CPIN:",
    _Step.CSQ: "+CSQ:",
    _Step.CHECK_CSQ: "+CSQ:",
    _Step.CREG_QUERY: "+CREG:",
    _Step.CHECK_CREG: "+CREG:",
    _Step.CHECK_CEREG: "+CEREG:",
    _Step.CEREG_QUERY: "+CEREG:",
    _Step.CMGS_RESULT: "+CMGS:",
}


class AtModem:
    """One modem's AT dialogue. Not thread-safe: one driver owns it."""

    def __init__(self, settings: ModemSettings | None = None) -> None:
        self.settings = settings or ModemSettings()
        self.state = ModemState.CLOSED
        self.signal: SignalQuality | None = None
        self.registration: Registration | None = None
        self.delivery_reports = False
        self.echo = True
        self._out = bytearray()
        self._buffer = bytearray()
        self._step: _Step | None = None
        self._command = ""  # the command line in progress (to recognise its echo)
        self._pdu_hex = ""
        self._tpdu_length = 0
        self._pdu_handed_over = False
        self._deadline: float | None = None  # of the command in progress
        self._wait_until: float | None = None  # a pause before the next command
        self._wait_then: _Step | None = None
        self._info: list[str] = []
        self._sync_left = 0
        self._pin_entered = False
        self._sim_deadline = 0.0
        self._registration_deadline = 0.0
        self._expect_pdu: str | None = None  # "+CDS" or "+CMT": the next line is a PDU
        self._expect_length = 0
        self._pdu_queued = False  # in _out, not yet given to the driver
        self._events: list[ModemEvent] = []
        self._finished_step: _Step | None = None
        self._check_creg_result: Registration | None = None

    # --- what the driver calls ---------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin (or restart) initialisation. Call after the link is (re)opened."""
        self._reset_dialogue()
        self._buffer.clear()
        self._out.clear()
        self.state = ModemState.INITIALISING
        self.echo = True
        self.registration = None
        self.signal = None
        self.delivery_reports = False
        self._sync_left = max(1, self.settings.sync_attempts)
        self._pin_entered = False
        self._sim_deadline = now + self.settings.sim_timeout
        self._command_step(_Step.SYNC, now)
        self._sync_left -= 1

    def send(self, pdu_hex: str, tpdu_length: int, now: float) -> None:
        """Start sending one SMS-SUBMIT (``pdu_hex`` includes the SMSC octets)."""
        if self.state is not ModemState.READY:
            raise ModemSetupError(f"cannot send while the modem is {self.state.value}")
        if not _HEX.match(pdu_hex) or len(pdu_hex) % 2:
            raise ValueError("the PDU must be an even number of hexadecimal digits")
        if not 1 <= tpdu_length <= 164:
            raise ValueError(f"TPDU length {tpdu_length} is outside 1..164 octets")
        self.state = ModemState.SENDING
        self._pdu_hex = pdu_hex.upper()
        self._tpdu_length = tpdu_length
        self._pdu_handed_over = False
        self._command_step(_Step.CMGS_PROMPT, now)

    def check(self, now: float) -> None:
        """Ask for signal and registration again (a health check between sends)."""
        if self.state is not ModemState.READY:
            raise ModemSetupError(f"cannot check the modem while it is {self.state.value}")
        self.state = ModemState.CHECKING
        self._check_creg_result = None
        self._command_step(_Step.CHECK_CSQ, now)

    def receive(self, data: bytes, now: float) -> list[ModemEvent]:
        """Bytes from the modem; returns what happened."""
        self._buffer += data
        while True:
            cut = _line_end(self._buffer)
            if cut < 0:
                break
            raw = bytes(self._buffer[:cut])
            del self._buffer[: cut + 1]
            self._line(raw.decode("latin-1").strip(), now)
        if self._step is _Step.CMGS_PROMPT and self._buffer.lstrip().startswith(b">"):
            self._buffer.clear()
            self._prompt(now)
        elif len(self._buffer) > 4096:  # a partial line this long is noise, not a modem
            self._buffer.clear()
        self._expire(now)
        return self._take_events()

    def tick(self, now: float) -> list[ModemEvent]:
        """Let time pass: timeouts and pauses that ended by ``now``."""
        self._expire(now)
        return self._take_events()

    def connection_lost(self, reason: str) -> list[ModemEvent]:
        """The port vanished or the socket closed: end whatever was in progress."""
        state = self.state
        if state is ModemState.SENDING:
            if self._pdu_handed_over:
                self._emit(
                    SendOutcomeUnknown(f"the link was lost after the PDU was written: {reason}")
                )
            else:
                self._emit(
                    SendFailed(local_error(f"the link was lost before the PDU went out: {reason}"))
                )
        elif state is ModemState.INITIALISING:
            self._emit(InitFailed(f"the link was lost during initialisation: {reason}"))
        elif state in (ModemState.READY, ModemState.CHECKING):
            self._emit(LinkFailed(f"the link was lost: {reason}"))
        self._fail()
        return self._take_events()

    def data_to_send(self) -> bytes:
        """The bytes to write to the modem now (and forget them)."""
        data = bytes(self._out)
        self._out.clear()
        if self._pdu_queued:
            self._pdu_queued = False
            self._pdu_handed_over = True  # from here on, a lost answer means "maybe sent"
        return data

    @property
    def deadline(self) -> float | None:
        """When :meth:`tick` must be called at the latest, or None if nothing is timed."""
        times = [t for t in (self._deadline, self._wait_until) if t is not None]
        return min(times) if times else None

    @property
    def registered(self) -> bool:
        return self.registration is not None and self.registration.registered

    @property
    def pdu_handed_over(self) -> bool:
        """Whether the current send's PDU has been given out by :meth:`data_to_send`."""
        return self._pdu_handed_over

    # --- the dialogue ----------------------------------------------------------------

    def _command_text(self, step: _Step) -> str:
        s = self.settings
        texts = {
            _Step.SYNC: "AT",
            _Step.ECHO_OFF: "ATE0",
            _Step.CMEE: "AT+CMEE=1",
            _Step.CPIN_QUERY: "AT+CPIN?",
            _Step.CPIN_ENTER: f'AT+CPIN="{s.pin}"',
            _Step.CMGF: "AT+CMGF=0",
            _Step.CNMI: "AT+CNMI=2,0,0,1,0",
            _Step.CNMI_FALLBACK: "AT+CNMI=1,0,0,1,0",
            _Step.CSQ: "AT+CSQ",
            _Step.CHECK_CSQ: "AT+CSQ",
            _Step.CREG_ENABLE: "AT+CREG=1",
            _Step.CREG_QUERY: "AT+CREG?",
            _Step.CHECK_CREG: "AT+CREG?",
            _Step.CHECK_CEREG: "AT+CEREG?",
            _Step.CEREG_QUERY: "AT+CEREG?",
            _Step.CMGS_PROMPT: f"AT+CMGS={self._tpdu_length}",
        }
        return texts[step]

    def _timeout_for(self, step: _Step) -> float:
        if step is _Step.CMGS_PROMPT:
            return self.settings.prompt_timeout
        if step is _Step.CMGS_RESULT:
            return self.settings.send_timeout
        return self.settings.command_timeout

    def _command_step(self, step: _Step, now: float) -> None:
        self._step = step
        self._command = self._command_text(step)
        self._info = []
        self._deadline = now + self._timeout_for(step)
        self._wait_until = None
        self._wait_then = None
        self._out += self._command.encode("ascii") + b"\r"

    def _pause_then(self, step: _Step, now: float) -> None:
        self._step = None
        self._deadline = None
        self._wait_until = now + self.settings.poll_interval
        self._wait_then = step

    def _prompt(self, now: float) -> None:
        self._step = _Step.CMGS_RESULT
        self._info = []
        self._deadline = now + self._timeout_for(_Step.CMGS_RESULT)
        self._out += self._pdu_hex.encode("ascii") + CTRL_Z
        self._pdu_queued = True

    def _line(self, line: str, now: float) -> None:
        if not line:
            return
        if self._expect_pdu is not None:
            kind, length = self._expect_pdu, self._expect_length
            self._expect_pdu = None
            if _HEX.match(line) and len(line) % 2 == 0:
                if kind == "+CDS":
                    self._emit(DeliveryReportReceived(bytes.fromhex(line), length))
                else:
                    self._emit(Unsolicited(f"{kind} PDU {line}"))
                return
        upper = line.upper()
        if self._is_echo(line):
            self.echo = True
            return
        if self._step is _Step.CMGS_PROMPT and line == ">":
            self._prompt(now)
            return
        if upper.startswith(("+CDS:", "+CMT:")):
            self._expect_pdu = upper[:4]
            self._expect_length = _first_int(line.split(":", 1)[1].split(",")[-1])
            return
        registration = _match_registration(line)
        if registration is not None:
            is_reply, reg = registration
            prefix = _INFO_PREFIX.get(self._step) if self._step else None
            if is_reply and prefix is not None and upper.startswith(prefix):
                self._info.append(line)
            else:
                self._registration_changed(reg, now)
            return
        if self._step is not None:
            if upper == "OK":
                self._finished(None, now)
                return
            error = parse_error_result(line)
            if error is not None:
                self._finished(error, now)
                return
            prefix = _INFO_PREFIX.get(self._step)
            if prefix is not None and upper.startswith(prefix):
                self._info.append(line)
                return
        if upper in ("OK",) or parse_error_result(line) is not None:
            return  # a late answer to a command given up on
        if upper.startswith(_RESTART_MARKERS) and self.state in (
            ModemState.READY,
            ModemState.CHECKING,
        ):
            self._emit(Unsolicited(line))
            self._emit(LinkFailed("the modem restarted (its settings are lost): initialise again"))
            self._fail()
            return
        self._emit(Unsolicited(line))

    def _is_echo(self, line: str) -> bool:
        text = line.replace("\x1a", "").strip().upper()
        if not text:
            return False
        if self._command and text == self._command.upper():
            return True
        return bool(self._pdu_hex) and self._step is _Step.CMGS_RESULT and text == self._pdu_hex

    def _registration_changed(self, reg: Registration, now: float) -> None:
        before = self.registration
        self.registration = reg
        if before is None or before.status != reg.status:
            self._emit(RegistrationChanged(reg))
        waiting = self._wait_then in (_Step.CREG_QUERY, _Step.CEREG_QUERY)
        if self.state is ModemState.INITIALISING and reg.registered and waiting:
            self._become_ready()

    def _finished(self, error: ErrorInfo | None, now: float) -> None:
        step = self._step
        info = self._info
        self._step = None
        self._deadline = None
        self._info = []
        if step is None:
            return
        self._finished_step = step
        handler = {
            _Step.SYNC: self._after_sync,
            _Step.ECHO_OFF: self._after_echo_off,
            _Step.CMEE: lambda e, i, n: self._command_step(_Step.CPIN_QUERY, n),
            _Step.CPIN_QUERY: self._after_cpin_query,
            _Step.CPIN_ENTER: self._after_cpin_enter,
            _Step.CMGF: self._after_cmgf,
            _Step.CNMI: self._after_cnmi,
            _Step.CNMI_FALLBACK: self._after_cnmi,
            _Step.CSQ: self._after_csq,
            _Step.CREG_ENABLE: lambda e, i, n: self._command_step(_Step.CREG_QUERY, n),
            _Step.CREG_QUERY: self._after_creg_query,
            _Step.CEREG_QUERY: self._after_cereg_query,
            _Step.CMGS_PROMPT: self._after_cmgs_prompt,
            _Step.CMGS_RESULT: self._after_cmgs_result,
            _Step.CHECK_CSQ: self._after_check_csq,
            _Step.CHECK_CREG: self._after_check_reg,
            _Step.CHECK_CEREG: self._after_check_reg,
        }[step]
        handler(error, info, now)

    def _after_sync(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        self._command_step(_Step.ECHO_OFF, now)  # even ERROR proves the modem is listening

    def _after_echo_off(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        if error is None:
            self.echo = False
        self._command_step(_Step.CMEE, now)

    def _after_cpin_query(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        if error is not None:
            if error.code in (14, 314) or error.source is ErrorSource.PLAIN:
                self._retry_sim(now, f"the SIM stays busy ({error.describe()})")
                return
            self._init_failed(f"the SIM cannot be used: {error.describe()}", error)
            return
        answer = " ".join(line.split(":", 1)[1].strip().upper() for line in info)
        if answer == "READY":
            self._command_step(_Step.CMGF, now)
        elif answer == "SIM PIN":
            if self._pin_entered:
                self._init_failed(
                    "the SIM still asks for its PIN after it was entered: check the 'pin' option "
                    "(not retried, so that the SIM is not blocked)"
                )
            elif self.settings.pin is None:
                self._init_failed(
                    "the SIM asks for a PIN and none is configured: set the modem's 'pin' "
                    "option, or remove the PIN lock with a phone"
                )
            else:
                self._command_step(_Step.CPIN_ENTER, now)
        elif answer in ("SIM PUK", "SIM PUK2"):
            self._init_failed(
                "the SIM is blocked (it asks for its PUK): unblock it in a phone with the PUK "
                "from the operator"
            )
        elif not answer:
            self._retry_sim(now, "the modem does not say whether the SIM is ready")
        else:
            self._init_failed(f"the SIM asks for {answer!r}, which this gateway cannot enter")

    def _retry_sim(self, now: float, reason: str) -> None:
        if now >= self._sim_deadline:
            self._init_failed(f"{reason} after {self.settings.sim_timeout:g} s")
        else:
            self._pause_then(_Step.CPIN_QUERY, now)

    def _after_cpin_enter(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        self._pin_entered = True
        if error is not None:
            self._init_failed(
                f"the SIM refused the configured PIN ({error.describe()}): correct the 'pin' "
                "option; not retried, so that the SIM is not blocked",
                error,
            )
            return
        self._sim_deadline = now + self.settings.sim_timeout
        self._pause_then(_Step.CPIN_QUERY, now)

    def _after_cmgf(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        if error is not None:
            self._init_failed(f"the modem refuses PDU mode (AT+CMGF=0): {error.describe()}", error)
        elif self.settings.delivery_reports:
            self._command_step(_Step.CNMI, now)
        else:
            self._command_step(_Step.CSQ, now)

    def _after_cnmi(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        if error is None:
            self.delivery_reports = True
            self._command_step(_Step.CSQ, now)
        elif self._command == self._command_text(_Step.CNMI):
            self._command_step(_Step.CNMI_FALLBACK, now)
        else:
            self.delivery_reports = False  # sending still works; only reports are missing
            self._command_step(_Step.CSQ, now)

    def _after_csq(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        self.signal = _parse_csq(info) if error is None else None
        self._registration_deadline = now + self.settings.registration_timeout
        self._command_step(_Step.CREG_ENABLE, now)

    def _after_creg_query(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        self._note_registration(info)
        if self.registered:
            self._become_ready()
        else:
            self._command_step(_Step.CEREG_QUERY, now)

    def _after_cereg_query(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        self._note_registration(info)
        if self.registered:
            self._become_ready()
        elif now >= self._registration_deadline:
            status = self.registration.describe() if self.registration else "no answer"
            self._init_failed(
                f"not registered on a network after {self.settings.registration_timeout:g} s "
                f"({status}): check the antenna, the SIM's subscription and coverage"
            )
        else:
            self._pause_then(_Step.CREG_QUERY, now)

    def _note_registration(self, info: list[str]) -> None:
        for line in info:
            match = _match_registration(line)
            if match is not None:
                reg = match[1]
                if self.registration is None or not self.registration.registered or reg.registered:
                    self.registration = reg

    def _become_ready(self) -> None:
        self._step = None
        self._deadline = None
        self._wait_until = None
        self._wait_then = None
        self.state = ModemState.READY
        assert self.registration is not None
        self._emit(Ready(self.signal, self.registration, self.delivery_reports, self.echo))

    def _after_cmgs_prompt(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        # A final result instead of the prompt: refused before the PDU was asked for.
        self._end_send(SendFailed(error or local_error("OK instead of the '> ' prompt")))

    def _after_cmgs_result(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        if error is not None:
            self._end_send(SendFailed(error))
            return
        reference = None
        for line in info:
            match = _CMGS.match(line)
            if match:
                reference = int(match.group(1))
        self._end_send(Sent(reference))

    def _end_send(self, event: ModemEvent) -> None:
        self.state = ModemState.READY
        self._pdu_hex = ""
        self._pdu_handed_over = False
        self._pdu_queued = False
        self._command = ""
        self._emit(event)

    def _after_check_csq(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        if error is None:
            self.signal = _parse_csq(info)
        self._command_step(_Step.CHECK_CREG, now)

    def _after_check_reg(self, error: ErrorInfo | None, info: list[str], now: float) -> None:
        found = [m[1] for m in map(_match_registration, info) if m is not None]
        if self._finished_step is _Step.CHECK_CREG and found and not found[-1].registered:
            self._check_creg_result = found[-1]
            self._command_step(_Step.CHECK_CEREG, now)  # an LTE-only modem answers there
            return
        latest = found[-1] if found and found[-1].registered else None
        latest = latest or self._check_creg_result or (found[-1] if found else None)
        self._check_creg_result = None
        if latest is not None:
            before = self.registration
            self.registration = latest
            if before is None or before.status != latest.status:
                self._emit(RegistrationChanged(latest))
        self.state = ModemState.READY
        self._emit(StatusChecked(self.signal, self.registration))

    def _init_failed(self, reason: str, error: ErrorInfo | None = None) -> None:
        self._emit(InitFailed(reason, error))
        self._fail()

    def _fail(self) -> None:
        self._reset_dialogue()
        self.state = ModemState.FAILED

    def _reset_dialogue(self) -> None:
        self._step = None
        self._deadline = None
        self._wait_until = None
        self._wait_then = None
        self._info = []
        self._command = ""
        self._pdu_hex = ""
        self._pdu_handed_over = False
        self._pdu_queued = False
        self._expect_pdu = None

    def _expire(self, now: float) -> None:
        if self._wait_until is not None and now >= self._wait_until:
            step = self._wait_then
            self._wait_until = None
            self._wait_then = None
            if step is not None:
                self._command_step(step, now)
            return
        if self._deadline is None or now < self._deadline:
            return
        step = self._step
        waited = self._timeout_for(step) if step else 0.0
        if step is _Step.SYNC and self._sync_left > 0:
            self._sync_left -= 1
            self._out += ESC  # leave a '> ' prompt a previous program may have left open
            self._command_step(_Step.SYNC, now)
        elif step is _Step.SYNC:
            self._init_failed(
                f"the modem does not answer 'AT' ({self.settings.sync_attempts} tries, "
                f"{waited:g} s each): check the port, its speed, and that the modem is powered"
            )
        elif step in _INIT_STEPS:
            self._init_failed(f"no answer to {self._command} within {waited:g} s")
        elif step is _Step.CMGS_PROMPT:
            self._out += ESC
            self._end_send(SendFailed(local_error(f"no '> ' prompt within {waited:g} s")))
            self._fail()
        elif step is _Step.CMGS_RESULT and not self._pdu_handed_over:
            self._end_send(SendFailed(local_error("the PDU was never taken for writing")))
            self._fail()
        elif step is _Step.CMGS_RESULT:
            self._end_send(
                SendOutcomeUnknown(f"no +CMGS result within {waited:g} s after the PDU was written")
            )
            self._fail()
        else:
            self._emit(LinkFailed(f"no answer to {self._command} within {waited:g} s"))
            self._fail()

    def _emit(self, event: ModemEvent) -> None:
        self._events.append(event)

    def _take_events(self) -> list[ModemEvent]:
        events, self._events = self._events, []
        return events


def _line_end(buffer: bytearray) -> int:
    cr = buffer.find(b"\r")
    lf = buffer.find(b"\n")
    ends = [i for i in (cr, lf) if i >= 0]
    return min(ends) if ends else -1


def _first_int(text: str) -> int:
    match = re.search(r"\d+", text)
    return int(match.group()) if match else 0


def _parse_csq(info: list[str]) -> SignalQuality | None:
    for line in info:
        match = _CSQ.match(line)
        if match:
            return SignalQuality(int(match.group(1)), int(match.group(2)))
    return None


def _match_registration(line: str) -> tuple[bool, Registration] | None:
    """``+CREG``/``+CEREG`` as (is a reply to a read command, registration), or None.

    The read reply is ``<n>,<stat>[,<lac>,<ci>...]``; the unsolicited form is
    ``<stat>[,<lac>,<ci>...]`` where <lac> is a quoted string: an unquoted number in the second
    place means a reply."""
    match = _REG.match(line.strip())
    if match is None:
        return None
    source = "+" + match.group(1).upper()
    fields = [f.strip() for f in match.group(2).split(",")]
    if not fields or not fields[0].isdigit():
        return None
    is_reply = len(fields) >= 2 and fields[1].isdigit()
    rest = fields[2:] if is_reply else fields[1:]
    status = int(fields[1] if is_reply else fields[0])
    area = rest[0].strip('"') if rest else None
    cell = rest[1].strip('"') if len(rest) > 1 else None
    return is_reply, Registration(status, source, area or None, cell or None)
