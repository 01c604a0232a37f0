"""The AT state machine driven with byte strings, and the +CMS/+CME error tables."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways.sms.at_modem import (
    AtModem,
    DeliveryReportReceived,
    InitFailed,
    LinkFailed,
    ModemEvent,
    ModemSettings,
    ModemSetupError,
    ModemState,
    Ready,
    RegistrationChanged,
    SendFailed,
    SendOutcomeUnknown,
    Sent,
    StatusChecked,
    Unsolicited,
)
from gateways.sms.cms_errors import (
    ErrorClass,
    ErrorSource,
    cme_error,
    cms_error,
    parse_error_result,
)

PDU_HEX = "0011000B915121551532F40000AA0AE8329BFD4697D9EC37"
TPDU_LENGTH = len(PDU_HEX) // 2 - 1
CDS_PDU = "0006D60B911326880736F4111011719551401110117195714000"

INIT_SCRIPT = [
    ("AT", "\r\nOK\r\n"),
    ("ATE0", "\r\nOK\r\n"),
    ("AT+CMEE=1", "\r\nOK\r\n"),
    ("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n"),
    ("AT+CMGF=0", "\r\nOK\r\n"),
    ("AT+CNMI=2,0,0,1,0", "\r\nOK\r\n"),
    ("AT+CSQ", "\r\n+CSQ: 17,99\r\n\r\nOK\r\n"),
    ("AT+CREG=1", "\r\nOK\r\n"),
    ("AT+CREG?", "\r\n+CREG: 1,1\r\n\r\nOK\r\n"),
]


class Script:
    """Plays the modem's side: checks each command the machine writes, answers it."""

    def __init__(self, settings: ModemSettings | None = None) -> None:
        self.modem = AtModem(settings or ModemSettings(command_timeout=1.0, poll_interval=0.5))
        self.now = 100.0
        self.events: list[ModemEvent] = []

    def expect(self, command: str) -> None:
        written = self.modem.data_to_send()
        assert written == command.encode() + b"\r", f"expected {command!r}, got {written!r}"

    def feed(self, text: str | bytes) -> list[ModemEvent]:
        data = text.encode("latin-1") if isinstance(text, str) else text
        events = self.modem.receive(data, self.now)
        self.events += events
        return events

    def advance(self, seconds: float) -> list[ModemEvent]:
        self.now += seconds
        events = self.modem.tick(self.now)
        self.events += events
        return events

    def play(self, script: list[tuple[str, str]]) -> list[ModemEvent]:
        events: list[ModemEvent] = []
        for command, answer in script:
            self.expect(command)
            events += self.feed(answer)
        return events

    def start(self) -> list[ModemEvent]:
        self.modem.start(self.now)
        return self.play(INIT_SCRIPT)


def ready_modem(settings: ModemSettings | None = None) -> Script:
    script = Script(settings)
    events = script.start()
    assert isinstance(events[-1], Ready)
    return script


# --- initialisation --------------------------------------------------------------------


def test_init_runs_the_dialogue_in_order_and_reports_signal_and_registration() -> None:
    script = Script()
    events = script.start()
    ready = events[-1]
    assert isinstance(ready, Ready)
    assert ready.signal is not None and ready.signal.dbm == -113 + 34
    assert ready.registration.registered and ready.registration.status == 1
    assert ready.delivery_reports and not ready.echo
    assert script.modem.state is ModemState.READY
    assert script.modem.data_to_send() == b""


def test_init_accepts_roaming_registration() -> None:
    script = Script()
    script.modem.start(script.now)
    events = script.play([*INIT_SCRIPT[:-1], ("AT+CREG?", "\r\n+CREG: 0,5\r\n\r\nOK\r\n")])
    assert isinstance(events[-1], Ready) and events[-1].registration.status == 5


def test_echo_on_is_tolerated_when_the_modem_ignores_ate0() -> None:
    script = Script()
    script.modem.start(script.now)
    for command, answer in INIT_SCRIPT:
        script.expect(command)
        script.feed(command + "\r" + answer)  # every command echoed back
    assert isinstance(script.events[-1], Ready)
    script.modem.send(PDU_HEX, TPDU_LENGTH, script.now)
    script.expect(f"AT+CMGS={TPDU_LENGTH}")
    script.feed(f"AT+CMGS={TPDU_LENGTH}\r\r\n> ")
    assert script.modem.data_to_send() == PDU_HEX.encode() + b"\x1a"
    events = script.feed(PDU_HEX + "\x1a\r\n+CMGS: 3\r\n\r\nOK\r\n")
    assert events == [Sent(3)]


def test_sync_retries_with_escape_then_gives_up_with_advice() -> None:
    script = Script(ModemSettings(command_timeout=1.0, sync_attempts=3))
    script.modem.start(script.now)
    script.expect("AT")
    assert script.advance(1.0) == []
    assert script.modem.data_to_send() == b"\x1bAT\r"
    script.advance(1.0)
    assert script.modem.data_to_send() == b"\x1bAT\r"
    events = script.advance(1.0)
    assert len(events) == 1 and isinstance(events[0], InitFailed)
    assert "does not answer 'AT'" in events[0].reason and "3 tries" in events[0].reason
    assert script.modem.state is ModemState.FAILED


def test_pin_is_entered_once_when_configured() -> None:
    script = Script(ModemSettings(pin="1234", command_timeout=1.0, poll_interval=0.5))
    script.modem.start(script.now)
    script.play(INIT_SCRIPT[:3])
    script.expect("AT+CPIN?")
    script.feed("\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")
    script.expect('AT+CPIN="1234"')
    script.feed("\r\nOK\r\n")
    assert script.modem.data_to_send() == b""  # the SIM is given time before asking again
    script.advance(0.5)
    script.expect("AT+CPIN?")
    script.feed("\r\n+CME ERROR: 14\r\n")  # SIM busy: ask again later
    script.advance(0.5)
    events = script.play([("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n"), *INIT_SCRIPT[4:]])
    assert isinstance(events[-1], Ready)


def test_pin_required_without_a_configured_pin_fails_clearly() -> None:
    script = Script()
    script.modem.start(script.now)
    events = script.play([*INIT_SCRIPT[:3], ("AT+CPIN?", "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")])
    assert isinstance(events[-1], InitFailed)
    assert "asks for a PIN and none is configured" in events[-1].reason
    assert script.modem.data_to_send() == b""


def test_wrong_pin_is_never_retried() -> None:
    script = Script(ModemSettings(pin="0000"))
    script.modem.start(script.now)
    script.play([*INIT_SCRIPT[:3], ("AT+CPIN?", "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")])
    script.expect('AT+CPIN="0000"')
    events = script.feed("\r\n+CME ERROR: 16\r\n")
    assert isinstance(events[-1], InitFailed)
    assert "refused the configured PIN" in events[-1].reason
    assert events[-1].error is not None and events[-1].error.code == 16
    script.advance(10)
    assert script.modem.data_to_send() == b""


def test_blocked_sim_and_missing_sim_fail_with_the_reason() -> None:
    script = Script()
    script.modem.start(script.now)
    events = script.play([*INIT_SCRIPT[:3], ("AT+CPIN?", "\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n")])
    assert isinstance(events[-1], InitFailed) and "PUK" in events[-1].reason
    script = Script()
    script.modem.start(script.now)
    events = script.play([*INIT_SCRIPT[:3], ("AT+CPIN?", "\r\n+CME ERROR: 10\r\n")])
    assert isinstance(events[-1], InitFailed) and "SIM not inserted" in events[-1].reason


def test_registration_is_awaited_and_an_unsolicited_creg_ends_the_wait() -> None:
    script = Script()
    script.modem.start(script.now)
    script.play(INIT_SCRIPT[:-1])
    script.expect("AT+CREG?")
    script.feed("\r\n+CREG: 1,2\r\n\r\nOK\r\n")
    script.expect("AT+CEREG?")
    script.feed("\r\nERROR\r\n")  # not an LTE modem
    assert script.modem.data_to_send() == b""
    script.advance(0.5)
    script.expect("AT+CREG?")
    script.feed("\r\n+CREG: 1,2\r\n\r\nOK\r\n")
    script.expect("AT+CEREG?")
    script.feed("\r\nERROR\r\n")
    events = script.feed('\r\n+CREG: 1,"00C3","0010"\r\n')
    assert isinstance(events[0], RegistrationChanged)
    assert isinstance(events[-1], Ready)
    assert events[-1].registration.area == "00C3"


def test_registration_on_lte_only_counts() -> None:
    script = Script()
    script.modem.start(script.now)
    script.play(INIT_SCRIPT[:-1])
    script.expect("AT+CREG?")
    script.feed("\r\n+CREG: 0,0\r\n\r\nOK\r\n")
    script.expect("AT+CEREG?")
    events = script.feed("\r\n+CEREG: 0,1\r\n\r\nOK\r\n")
    assert isinstance(events[-1], Ready) and events[-1].registration.source == "+CEREG"


def test_registration_timeout_fails_with_the_last_status() -> None:
    settings = ModemSettings(command_timeout=1.0, poll_interval=1.0, registration_timeout=3.0)
    script = Script(settings)
    script.modem.start(script.now)
    script.play(INIT_SCRIPT[:-1])
    failed: list[InitFailed] = []
    for _ in range(10):
        script.expect("AT+CREG?")
        script.feed("\r\n+CREG: 1,3\r\n\r\nOK\r\n")
        script.expect("AT+CEREG?")
        events = script.feed("\r\nERROR\r\n")
        failed = [e for e in events if isinstance(e, InitFailed)]
        if failed:
            break
        script.advance(1.0)
    assert failed, "the registration wait never ended"
    assert "not registered on a network after 3 s" in failed[0].reason
    assert "registration denied" in failed[0].reason
    assert script.now - 100.0 <= 4.0


def test_a_command_timeout_during_init_fails_it() -> None:
    script = Script()
    script.modem.start(script.now)
    script.play(INIT_SCRIPT[:4])
    script.expect("AT+CMGF=0")
    events = script.advance(1.0)
    assert isinstance(events[-1], InitFailed) and "AT+CMGF=0" in events[-1].reason


def test_delivery_report_routing_falls_back_then_goes_without() -> None:
    script = Script()
    script.modem.start(script.now)
    script.play(INIT_SCRIPT[:5])
    script.expect("AT+CNMI=2,0,0,1,0")
    script.feed("\r\n+CMS ERROR: 303\r\n")
    script.expect("AT+CNMI=1,0,0,1,0")
    script.feed("\r\n+CMS ERROR: 303\r\n")
    events = script.play(INIT_SCRIPT[6:])
    assert isinstance(events[-1], Ready) and not events[-1].delivery_reports


def test_pdu_mode_refused_fails_init() -> None:
    script = Script()
    script.modem.start(script.now)
    events = script.play([*INIT_SCRIPT[:4], ("AT+CMGF=0", "\r\n+CMS ERROR: 303\r\n")])
    assert isinstance(events[-1], InitFailed) and "PDU mode" in events[-1].reason


# --- sending -----------------------------------------------------------------------------


def start_send(script: Script) -> None:
    script.modem.send(PDU_HEX, TPDU_LENGTH, script.now)
    script.expect(f"AT+CMGS={TPDU_LENGTH}")


def test_send_writes_the_pdu_only_after_the_prompt_and_returns_the_reference() -> None:
    script = ready_modem()
    start_send(script)
    assert script.feed("\r\n") == []
    assert script.modem.data_to_send() == b""
    assert not script.modem.pdu_handed_over
    script.feed("> ")  # no line ending after the prompt
    assert script.modem.data_to_send() == PDU_HEX.encode() + b"\x1a"
    assert script.modem.pdu_handed_over
    assert script.feed("\r\n+CMGS: 42\r\n") == []
    assert script.feed("\r\nOK\r\n") == [Sent(42)]
    assert script.modem.state is ModemState.READY


def test_send_refused_before_the_prompt_never_writes_the_pdu() -> None:
    script = ready_modem()
    start_send(script)
    events = script.feed("\r\n+CMS ERROR: 331\r\n")
    assert len(events) == 1 and isinstance(events[0], SendFailed)
    assert events[0].error.error_class is ErrorClass.MODEM
    assert "no network service" in events[0].error.describe()
    assert script.modem.data_to_send() == b""
    assert script.modem.state is ModemState.READY


@pytest.mark.parametrize(
    ("code", "error_class", "meaning"),
    [
        (1, ErrorClass.PERMANENT, "unassigned"),
        (10, ErrorClass.PERMANENT, "call barred"),
        (42, ErrorClass.TEMPORARY, "congestion"),
        (38, ErrorClass.TEMPORARY, "network out of order"),
        (0xC3, ErrorClass.PERMANENT, "invalid SME address"),
        (0xC0, ErrorClass.TEMPORARY, "service centre busy"),
        (314, ErrorClass.TEMPORARY, "busy"),
        (310, ErrorClass.MODEM, "not inserted"),
    ],
)
def test_send_errors_after_the_pdu_are_classified(
    code: int, error_class: ErrorClass, meaning: str
) -> None:
    script = ready_modem()
    start_send(script)
    script.feed("\r\n> ")
    script.modem.data_to_send()
    events = script.feed(f"\r\n+CMS ERROR: {code}\r\n")
    assert len(events) == 1 and isinstance(events[0], SendFailed)
    error = events[0].error
    assert error.code == code and error.error_class is error_class
    assert meaning in error.meaning
    assert error.retryable is (error_class is not ErrorClass.PERMANENT)
    assert script.modem.state is ModemState.READY


def test_status_reports_arriving_mid_send_are_reported_and_the_send_completes() -> None:
    script = ready_modem()
    start_send(script)
    events = script.feed(f"\r\n+CDS: 25\r\n{CDS_PDU}\r\n")  # before the prompt
    assert events == [DeliveryReportReceived(bytes.fromhex(CDS_PDU), 25)]
    script.feed("\r\n> ")
    assert script.modem.data_to_send().endswith(b"\x1a")
    events = script.feed("\r\n+CD")
    events += script.feed(f"S: 25\r\n{CDS_PDU[:10]}")
    events += script.feed(f"{CDS_PDU[10:]}\r\n\r\n+CMGS: 9\r\n\r\nOK\r\n")
    assert events == [DeliveryReportReceived(bytes.fromhex(CDS_PDU), 25), Sent(9)]


def test_no_prompt_times_out_escapes_and_fails_without_writing_the_pdu() -> None:
    script = ready_modem(ModemSettings(prompt_timeout=2.0))
    start_send(script)
    script.advance(1.9)
    assert script.modem.data_to_send() == b""
    events = script.advance(0.1)
    assert len(events) == 1 and isinstance(events[0], SendFailed)
    assert "prompt" in events[0].error.meaning
    assert events[0].error.error_class is ErrorClass.MODEM
    assert script.modem.data_to_send() == b"\x1b"
    assert script.modem.state is ModemState.FAILED


def test_no_result_after_the_pdu_is_an_unknown_outcome() -> None:
    script = ready_modem(ModemSettings(send_timeout=5.0))
    start_send(script)
    script.feed("> ")
    script.modem.data_to_send()
    assert script.modem.deadline == pytest.approx(script.now + 5.0)
    events = script.advance(5.0)
    assert len(events) == 1 and isinstance(events[0], SendOutcomeUnknown)
    assert script.modem.state is ModemState.FAILED


def test_link_lost_before_and_after_the_pdu() -> None:
    script = ready_modem()
    start_send(script)
    events = script.modem.connection_lost("EOF")
    assert len(events) == 1 and isinstance(events[0], SendFailed)
    assert events[0].error.source is ErrorSource.LOCAL
    script = ready_modem()
    start_send(script)
    script.feed("> ")
    script.modem.data_to_send()
    events = script.modem.connection_lost("EOF")
    assert len(events) == 1 and isinstance(events[0], SendOutcomeUnknown)
    assert "after the PDU was written" in events[0].reason


def test_send_requires_a_ready_modem_and_a_sane_pdu() -> None:
    with pytest.raises(ModemSetupError):
        AtModem().send(PDU_HEX, TPDU_LENGTH, 0.0)
    script = ready_modem()
    with pytest.raises(ValueError, match="hexadecimal"):
        script.modem.send("0G", 1, script.now)
    with pytest.raises(ValueError, match="TPDU length"):
        script.modem.send(PDU_HEX, 0, script.now)


# --- unsolicited codes and noise ---------------------------------------------------------


def test_registration_loss_while_ready_is_reported() -> None:
    script = ready_modem()
    events = script.feed("\r\n+CREG: 2\r\n")
    assert len(events) == 1 and isinstance(events[0], RegistrationChanged)
    assert not script.modem.registered
    script.feed("\r\n+CREG: 1\r\n")
    assert script.modem.registered


def test_ring_and_unknown_lines_are_unsolicited_and_harmless() -> None:
    script = ready_modem()
    events = script.feed('\r\nRING\r\n\r\n+CMTI: "SM",3\r\n\r\n\r\n')
    assert events == [Unsolicited("RING"), Unsolicited('+CMTI: "SM",3')]
    assert script.modem.state is ModemState.READY


def test_a_restart_while_ready_asks_for_initialisation_again() -> None:
    script = ready_modem()
    events = script.feed("\r\n^SYSSTART\r\n")
    assert isinstance(events[-1], LinkFailed) and "restarted" in events[-1].reason
    assert script.modem.state is ModemState.FAILED


def test_garbage_before_and_during_a_send_does_not_derail_it() -> None:
    script = ready_modem()
    script.feed(b"\x00\xff\xfe garbage \x80\r\n+++\r\n" + b"z" * 5000)
    start_send(script)
    script.feed(b"\r\nnoise\xff\r\n> ")
    assert script.modem.data_to_send().endswith(b"\x1a")
    events = script.feed(b"\r\n\x00\r\n+CMGS: 1\r\n\r\nOK\r\n")
    assert events[-1] == Sent(1)


def test_status_check_reports_signal_and_lost_registration() -> None:
    script = ready_modem()
    script.modem.check(script.now)
    events = script.play(
        [
            ("AT+CSQ", "\r\n+CSQ: 99,99\r\n\r\nOK\r\n"),
            ("AT+CREG?", "\r\n+CREG: 1,2\r\n\r\nOK\r\n"),
            ("AT+CEREG?", "\r\n+CEREG: 0,4\r\n\r\nOK\r\n"),
        ]
    )
    assert isinstance(events[-1], StatusChecked)
    assert events[-1].signal is not None and events[-1].signal.dbm is None
    assert not script.modem.registered
    assert script.modem.state is ModemState.READY


SEND_CONVERSATION = (
    f"\r\n+CDS: 25\r\n{CDS_PDU}\r\n\r\n> ".encode(),
    f"\r\nRING\r\n\r\n+CMGS: 77\r\n\r\nOK\r\n+CDS: 25\r\n{CDS_PDU}\r\n".encode(),
)


@given(st.data())
def test_events_do_not_depend_on_how_the_bytes_are_chunked(data: st.DataObject) -> None:
    """However the modem's bytes are cut up by the transport, the same events come out."""
    script = ready_modem()
    start_send(script)
    before_prompt, after_pdu = SEND_CONVERSATION
    events: list[ModemEvent] = []
    for part, is_prompt in ((before_prompt, True), (after_pdu, False)):
        cuts = sorted(data.draw(st.sets(st.integers(1, len(part) - 1), max_size=8)))
        bounds = [0, *cuts, len(part)]
        for a, b in itertools.pairwise(bounds):
            events += script.feed(part[a:b])
        if is_prompt:
            assert script.modem.data_to_send() == PDU_HEX.encode() + b"\x1a"
    report = DeliveryReportReceived(bytes.fromhex(CDS_PDU), 25)
    assert events == [report, Unsolicited("RING"), Sent(77), report]


# --- the error tables -------------------------------------------------------------------------


def test_error_result_lines_are_parsed() -> None:
    assert parse_error_result("OK") is None
    assert parse_error_result("+CMGS: 4") is None
    plain = parse_error_result("ERROR")
    assert plain is not None and plain.source is ErrorSource.PLAIN and plain.retryable
    cms = parse_error_result("+CMS ERROR: 42")
    assert cms is not None and cms.code == 42 and cms.error_class is ErrorClass.TEMPORARY
    assert "TS 24.011" in cms.reference
    cme = parse_error_result("+CME ERROR: 10")
    assert cme is not None and cme.source is ErrorSource.CME and cme.error_class is ErrorClass.MODEM
    verbose = parse_error_result("+CMS ERROR: Unassigned (unallocated) number")
    assert verbose is not None and verbose.code == 1 and not verbose.retryable
    unknown_text = parse_error_result("+CME ERROR: something odd")
    assert unknown_text is not None and unknown_text.code is None and unknown_text.retryable


@given(st.integers(min_value=0, max_value=100_000))
def test_every_cms_code_has_a_meaning_a_class_and_a_reference(code: int) -> None:
    info = cms_error(code)
    assert info.meaning and info.reference.startswith("3GPP")
    assert f": {code} (" in info.describe()
    if 128 <= code <= 255:
        assert "23.040" in info.reference
    elif code <= 127:
        assert "24.011" in info.reference
    else:
        assert "27.005" in info.reference
    assert cme_error(code).meaning


def test_the_classes_follow_the_specification_meanings() -> None:
    permanent = [1, 8, 10, 21, 28, 29, 30, 50, 69, 96, 0x81, 0xC3, 0xC4, 304]
    temporary = [17, 22, 27, 38, 41, 42, 47, 0xC0, 0xC2, 314, 332, 500, 512]
    modem = [0xC1, 300, 302, 310, 311, 313, 316, 322, 330, 331]
    assert all(cms_error(c).error_class is ErrorClass.PERMANENT for c in permanent)
    assert all(cms_error(c).error_class is ErrorClass.TEMPORARY for c in temporary)
    assert all(cms_error(c).error_class is ErrorClass.MODEM for c in modem)
    assert cme_error(14).error_class is ErrorClass.TEMPORARY  # SIM busy
    assert cme_error(11).error_class is ErrorClass.MODEM  # SIM PIN required
