"""What a modem's ``+CMS ERROR`` and ``+CME ERROR`` codes mean, and what to do about them.

A failed send is only useful to a duty officer if it says whether trying again can help. Each
code is put in one of three classes:

* ``PERMANENT``: this message to this recipient will never go through (unassigned number,
  barred, a PDU the network refuses): give up and report the recipient as failed;
* ``TEMPORARY``: the network is busy or failing for a while (congestion, temporary failure):
  retry later, on any modem;
* ``MODEM``: this modem cannot send now (no SIM, PIN needed, no network service, storage or
  SMSC setup missing): move the message to another modem at once and take this one out of
  service until it has been checked again.

Sources (facts only, wording ours): 3GPP TS 27.005 clause 3.2.5 (the ``+CMS ERROR`` value
ranges and ME/TA codes 300..), TS 24.011 annex E (RP and CP cause values 0..127, reported in
``+CMS ERROR`` as is), TS 23.040 clause 9.2.3.22 (TP-Failure-Cause values 128..255), and
TS 27.007 clause 9.2 (``+CME ERROR`` codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ErrorClass(StrEnum):
    PERMANENT = "permanent"  # give up on this message/recipient
    TEMPORARY = "temporary"  # retry later, any modem
    MODEM = "modem"  # retry now on another modem; check this one

    @property
    def retryable(self) -> bool:
        return self is not ErrorClass.PERMANENT


class ErrorSource(StrEnum):
    CMS = "+CMS ERROR"
    CME = "+CME ERROR"
    PLAIN = "ERROR"  # no code (the modem ignores AT+CMEE=1)
    LOCAL = "local"  # found by us: a timeout, the link lost


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One error result: where it came from, its code, what it means and what to do."""

    source: ErrorSource
    code: int | None
    meaning: str
    error_class: ErrorClass
    reference: str  # the specification clause that defines the code

    @property
    def retryable(self) -> bool:
        return self.error_class.retryable

    def describe(self) -> str:
        """One line for a log or a receipt: ``+CMS ERROR: 42 (congestion; temporary: ...)``."""
        advice = _ADVICE[self.error_class]
        if self.source is ErrorSource.LOCAL:
            return f"{self.meaning} ({advice})"
        code = "" if self.code is None else f": {self.code}"
        return f"{self.source.value}{code} ({self.meaning}; {advice})"


_ADVICE = {
    ErrorClass.PERMANENT: "permanent: this recipient cannot be reached this way, not retried",
    ErrorClass.TEMPORARY: "temporary: retried later",
    ErrorClass.MODEM: "this modem cannot send now: retried on another modem",
}

P, T, M = ErrorClass.PERMANENT, ErrorClass.TEMPORARY, ErrorClass.MODEM

_RP = "3GPP TS 24.011 annex E"
_TP = "3GPP TS 23.040 9.2.3.22"
_MS = "3GPP TS 27.005 3.2.5"
_ME = "3GPP TS 27.007 9.2"

# +CMS ERROR 0..127: RP-cause (E.2) and CP-cause (E.1) values, as the network sent them.
_CMS_RP: dict[int, tuple[str, ErrorClass]] = {
    1: ("unassigned (unallocated) number", P),
    8: ("operator determined barring", P),
    10: ("call barred", P),
    17: ("network failure", T),
    21: ("short message transfer rejected", P),
    22: ("congestion", T),
    27: ("destination out of service", T),
    28: ("unidentified subscriber", P),
    29: ("facility rejected", P),
    30: ("unknown subscriber", P),
    38: ("network out of order", T),
    41: ("temporary failure", T),
    42: ("congestion", T),
    47: ("resources unavailable, unspecified", T),
    50: ("requested facility not subscribed", P),
    69: ("requested facility not implemented", P),
    81: ("invalid short message transfer reference value", T),
    95: ("invalid message, unspecified", P),
    96: ("invalid mandatory information", P),
    97: ("message type non-existent or not implemented", P),
    98: ("message not compatible with short message protocol state", T),
    99: ("information element non-existent or not implemented", P),
    111: ("protocol error, unspecified", T),
    127: ("interworking, unspecified", T),
}

# +CMS ERROR 128..255: TP-Failure-Cause, from the service centre.
_CMS_TP: dict[int, tuple[str, ErrorClass]] = {
    0x80: ("telematic interworking not supported", P),
    0x81: ("short message type 0 not supported", P),
    0x82: ("cannot replace short message", P),
    0x8F: ("unspecified TP-PID error", P),
    0x90: ("data coding scheme (alphabet) not supported", P),
    0x91: ("message class not supported", P),
    0x9F: ("unspecified TP-DCS error", P),
    0xA0: ("command cannot be actioned", P),
    0xA1: ("command unsupported", P),
    0xAF: ("unspecified TP-Command error", P),
    0xB0: ("TPDU not supported", P),
    0xC0: ("service centre busy", T),
    0xC1: ("no service centre subscription", M),
    0xC2: ("service centre system failure", T),
    0xC3: ("invalid SME address", P),
    0xC4: ("destination SME barred", P),
    0xC5: ("rejected: duplicate short message", P),
    0xC6: ("TP-VPF not supported", P),
    0xC7: ("TP-VP not supported", P),
    0xD0: ("(U)SIM SMS storage full", M),
    0xD1: ("no SMS storage capability in (U)SIM", M),
    0xD2: ("error in MS", M),
    0xD3: ("memory capacity exceeded", M),
    0xD4: ("(U)SIM application toolkit busy", T),
    0xD5: ("(U)SIM data download error", M),
    0xFF: ("unspecified error cause", T),
}

# +CMS ERROR 300..: errors of the modem (ME) or the adaptor (TA) itself.
_CMS_ME: dict[int, tuple[str, ErrorClass]] = {
    300: ("ME failure", M),
    301: ("SMS service of ME reserved", T),
    302: ("operation not allowed", M),
    303: ("operation not supported", M),
    304: ("invalid PDU mode parameter", P),
    305: ("invalid text mode parameter", P),
    310: ("(U)SIM not inserted", M),
    311: ("(U)SIM PIN required", M),
    312: ("PH-(U)SIM PIN required", M),
    313: ("(U)SIM failure", M),
    314: ("(U)SIM busy", T),
    315: ("(U)SIM wrong", M),
    316: ("(U)SIM PUK required", M),
    317: ("(U)SIM PIN2 required", M),
    318: ("(U)SIM PUK2 required", M),
    320: ("memory failure", M),
    321: ("invalid memory index", M),
    322: ("memory full", M),
    330: ("SMSC address unknown (set it with AT+CSCA)", M),
    331: ("no network service", M),
    332: ("network timeout", T),
    340: ("no +CNMA acknowledgement expected", M),
    500: ("unknown error", T),
}

_CME: dict[int, tuple[str, ErrorClass]] = {
    0: ("phone failure", M),
    1: ("no connection to phone", M),
    2: ("phone-adaptor link reserved", T),
    3: ("operation not allowed", M),
    4: ("operation not supported", M),
    5: ("PH-SIM PIN required", M),
    6: ("PH-FSIM PIN required", M),
    7: ("PH-FSIM PUK required", M),
    10: ("SIM not inserted", M),
    11: ("SIM PIN required", M),
    12: ("SIM PUK required", M),
    13: ("SIM failure", M),
    14: ("SIM busy", T),
    15: ("SIM wrong", M),
    16: ("incorrect password", M),
    17: ("SIM PIN2 required", M),
    18: ("SIM PUK2 required", M),
    20: ("memory full", M),
    21: ("invalid index", M),
    22: ("not found", M),
    23: ("memory failure", M),
    24: ("text string too long", P),
    25: ("invalid characters in text string", P),
    26: ("dial string too long", P),
    27: ("invalid characters in dial string", P),
    30: ("no network service", M),
    31: ("network timeout", T),
    32: ("network not allowed, emergency calls only", M),
    40: ("network personalisation PIN required", M),
    41: ("network personalisation PUK required", M),
    42: ("network subset personalisation PIN required", M),
    43: ("network subset personalisation PUK required", M),
    44: ("service provider personalisation PIN required", M),
    45: ("service provider personalisation PUK required", M),
    46: ("corporate personalisation PIN required", M),
    47: ("corporate personalisation PUK required", M),
    50: ("incorrect parameters", P),
    51: ("command implemented but currently disabled", M),
    52: ("command aborted by user", T),
    53: ("not attached to network due to MT functionality restrictions", M),
    54: ("modem not allowed, MT restricted to emergency calls only", M),
    55: ("operation not allowed because of MT functionality restrictions", M),
    56: ("fixed dial number only allowed", P),
    57: ("temporarily out of service due to other MT usage", T),
    58: ("language/alphabet not supported", P),
    59: ("unexpected data value", P),
    60: ("system failure", T),
    61: ("data missing", P),
    62: ("call barred", P),
    100: ("unknown", T),
    103: ("illegal MS", M),
    106: ("illegal ME", M),
    107: ("GPRS services not allowed", M),
    111: ("PLMN not allowed", M),
    112: ("location area not allowed", M),
    113: ("roaming not allowed in this location area", M),
}


def cms_error(code: int) -> ErrorInfo:
    """The meaning and class of ``+CMS ERROR: <code>``; unlisted codes are classed by range."""
    if 0 <= code <= 127:
        meaning, cls = _CMS_RP.get(code, (f"network cause {code} (unlisted)", T))
        return ErrorInfo(ErrorSource.CMS, code, meaning, cls, _RP)
    if 128 <= code <= 255:
        if code in _CMS_TP:
            meaning, cls = _CMS_TP[code]
        elif 0xE0 <= code <= 0xFE:
            meaning, cls = f"service-centre specific cause 0x{code:02X}", T
        else:
            meaning, cls = f"reserved TP-Failure-Cause 0x{code:02X}", T
        return ErrorInfo(ErrorSource.CMS, code, meaning, cls, _TP)
    if code in _CMS_ME:
        meaning, cls = _CMS_ME[code]
        return ErrorInfo(ErrorSource.CMS, code, meaning, cls, _MS)
    if code >= 512:
        return ErrorInfo(
            ErrorSource.CMS,
            code,
            f"manufacturer-specific error {code}",
            T,
            f"{_MS} (see the modem's manual)",
        )
    return ErrorInfo(ErrorSource.CMS, code, f"reserved ME/TA error {code}", T, _MS)


def cme_error(code: int) -> ErrorInfo:
    """The meaning and class of ``+CME ERROR: <code>``."""
    if code in _CME:
        meaning, cls = _CME[code]
        return ErrorInfo(ErrorSource.CME, code, meaning, cls, _ME)
    if code >= 256:
        return ErrorInfo(ErrorSource.CME, code, f"manufacturer-specific error {code}", T, _ME)
    return ErrorInfo(ErrorSource.CME, code, f"unlisted error {code}", T, _ME)


PLAIN_ERROR = ErrorInfo(
    ErrorSource.PLAIN,
    None,
    "the modem refused the command without a reason (it ignores AT+CMEE=1)",
    ErrorClass.TEMPORARY,
    "ITU-T V.250 5.7.1",
)

_VERBOSE: dict[str, int] = {}
for _table in (_CMS_ME, _CMS_RP, _CMS_TP):
    for _code, (_meaning, _) in _table.items():
        _VERBOSE.setdefault(_meaning.lower(), _code)
_VERBOSE_CME = {meaning.lower(): code for code, (meaning, _) in _CME.items()}
_RESULT = re.compile(r"^\+(CMS|CME) ERROR:\s*(.*)$", re.IGNORECASE)


def parse_error_result(line: str) -> ErrorInfo | None:
    """The error in a final result line (``+CMS ERROR: 42``, ``+CME ERROR: SIM busy``,
    ``ERROR``), or None if the line is not an error result. Verbose texts (``AT+CMEE=2``) are
    matched to their codes where we know them."""
    text = line.strip()
    if text.upper() == "ERROR":
        return PLAIN_ERROR
    match = _RESULT.match(text)
    if match is None:
        return None
    kind, value = match.group(1).upper(), match.group(2).strip()
    lookup = cms_error if kind == "CMS" else cme_error
    if value.isdigit():
        return lookup(int(value))
    known = (_VERBOSE if kind == "CMS" else _VERBOSE_CME).get(value.lower())
    if known is not None:
        return lookup(known)
    source = ErrorSource.CMS if kind == "CMS" else ErrorSource.CME
    return ErrorInfo(
        source,
        None,
        value or "no reason given",
        ErrorClass.TEMPORARY,
        _MS if kind == "CMS" else _ME,
    )
