"""SMS transfer-layer PDUs (3GPP TS 23.040): SMS-SUBMIT out, SMS-DELIVER and SMS-STATUS-REPORT in.

PDU mode as in TS 27.005: every PDU starts with the service centre address (a length octet of
0 means "the SMSC stored on the SIM"), then the TPDU. Encoders take text already planned into
segments by :func:`gateways.sms.gsm7.plan_segments`; decoders raise :class:`PduDecodeError`
naming the offset, the field and what is wrong.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final, Literal

from gateways.sms.errors import PduDecodeError, SmsEncodingError
from gateways.sms.gsm7 import (
    MAX_SEGMENTS,
    MAX_USER_DATA_OCTETS,
    DataCoding,
    NationalLanguage,
    SegmentPlan,
    TextEncoding,
    decode_gsm7,
    encode_gsm7,
    pack_septets,
    unpack_septets,
)
from gateways.sms.national_tables import LOCKING_SHIFT, SINGLE_SHIFT

# TP-MTI (TS 23.040 9.2.3.1), as seen by the mobile station.
_MTI_DELIVER: Final = 0b00
_MTI_SUBMIT: Final = 0b01
_MTI_STATUS_REPORT: Final = 0b10
_MTI_NAMES: Final = {0: "SMS-DELIVER", 1: "SMS-SUBMIT", 2: "SMS-STATUS-REPORT", 3: "reserved"}

# First-octet bits (TS 23.040 9.2.3).
_MMS_NO_MORE: Final = 0x04  # TP-MMS set: no more messages waiting (DELIVER, STATUS-REPORT)
_VPF_RELATIVE: Final = 0b10
_VPF_ABSOLUTE: Final = 0b11
_SRR: Final = 0x20
_UDHI: Final = 0x40

# User data header information elements (TS 23.040 9.2.3.24).
_IEI_CONCAT_8: Final = 0x00
_IEI_CONCAT_16: Final = 0x08
_IEI_SINGLE_SHIFT: Final = 0x24
_IEI_LOCKING_SHIFT: Final = 0x25

# Type of address (TS 23.040 9.1.2.5): extension bit, type of number, numbering plan.
_TOA_INTERNATIONAL: Final = 0x91
_TOA_UNKNOWN_ISDN: Final = 0x81
_TOA_ALPHANUMERIC: Final = 0xD0
_TON_INTERNATIONAL: Final = 1
_TON_ALPHANUMERIC: Final = 5

_MAX_ADDRESS_DIGITS: Final = 20
_MAX_ALPHANUMERIC_SEPTETS: Final = 11
_MAX_GSM7_SEPTETS: Final = 160
_BCD_DIGITS: Final = "0123456789*#abc"


@dataclass(frozen=True, slots=True)
class ConcatInfo:
    """Concatenated SMS IE (TS 23.040 9.2.3.24.1 / .8): which part of which message."""

    reference: int
    total: int
    sequence: int
    reference_bits: Literal[8, 16] = 8


@dataclass(frozen=True, slots=True)
class RelativeValidity:
    """TP-VP relative format. Encoded as the longest representable period not longer than
    ``period`` (so the message never outlives the alert), but at least 5 minutes."""

    period: timedelta


@dataclass(frozen=True, slots=True)
class AbsoluteValidity:
    """TP-VP absolute format: a timestamp with its UTC offset (quarter hours)."""

    until: datetime


Validity = RelativeValidity | AbsoluteValidity


@dataclass(frozen=True, slots=True)
class SubmitPdu:
    """One SMS-SUBMIT as written after AT+CMGS's "> " prompt (in hex)."""

    pdu: bytes
    tpdu_length: int
    """The <length> of AT+CMGS=<length>: octets after the SMSC part."""

    def hex(self) -> str:
        return self.pdu.hex().upper()


@dataclass(frozen=True, slots=True)
class DecodedSubmit:
    smsc: str | None
    message_reference: int
    destination: str
    status_report_requested: bool
    flash: bool
    validity: Validity | None
    encoding: TextEncoding
    concat: ConcatInfo | None
    text: str


@dataclass(frozen=True, slots=True)
class DecodedDeliver:
    smsc: str | None
    originator: str
    service_centre_time: datetime
    encoding: TextEncoding
    concat: ConcatInfo | None
    text: str
    flash: bool


class DeliveryOutcome(StrEnum):
    """What a status report means for the delivery (TS 23.040 9.2.3.15 groups)."""

    DELIVERED = "delivered"
    PENDING = "pending"  # temporary error, the service centre is still trying
    FAILED = "failed"  # permanent error, or temporary and the service centre gave up


@dataclass(frozen=True, slots=True)
class StatusReport:
    smsc: str | None
    message_reference: int
    recipient: str
    service_centre_time: datetime
    discharge_time: datetime
    status: int
    outcome: DeliveryOutcome
    reason: str


# ---------------------------------------------------------------------------------------------
# Fields shared by encoders and decoders


def _relative_periods() -> tuple[timedelta, ...]:
    """The period each TP-VP value 0..255 stands for (TS 23.040 9.2.3.12.1)."""
    periods = []
    for value in range(256):
        if value <= 143:
            periods.append(timedelta(minutes=5 * (value + 1)))
        elif value <= 167:
            periods.append(timedelta(hours=12, minutes=30 * (value - 143)))
        elif value <= 196:
            periods.append(timedelta(days=value - 166))
        else:
            periods.append(timedelta(weeks=value - 192))
    return tuple(periods)


_RELATIVE_PERIODS: Final = _relative_periods()


def relative_validity_octet(period: timedelta) -> int:
    """TP-VP for the longest representable period <= ``period`` (at least 5 minutes)."""
    if period <= timedelta(0):
        raise SmsEncodingError(
            f"validity period {period} is not positive: the alert has already expired, "
            "do not send it"
        )
    return max(bisect_right(_RELATIVE_PERIODS, period) - 1, 0)


def relative_validity_period(octet: int) -> timedelta:
    """The period a relative TP-VP octet stands for."""
    return _RELATIVE_PERIODS[octet]


def _semi_octets(digits: str) -> bytes:
    """Digits as swapped-nibble BCD, padded with F (TS 23.040 9.1.2.3)."""
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2)))


def _is_number(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _encode_address(address: str, field: str, *, alphanumeric_ok: bool = False) -> bytes:
    """TP-DA / TP-OA / TP-RA: length in useful semi-octets, type of address, value."""
    if address.startswith("+") and _is_number(address[1:]):
        digits, toa = address[1:], _TOA_INTERNATIONAL
    elif _is_number(address):
        digits, toa = address, _TOA_UNKNOWN_ISDN
    elif alphanumeric_ok and address:
        septets = encode_gsm7(address)
        if len(septets) > _MAX_ALPHANUMERIC_SEPTETS:
            raise SmsEncodingError(
                f"{field} {address!r} is {len(septets)} septets long; an alphanumeric "
                f"address holds at most {_MAX_ALPHANUMERIC_SEPTETS}"
            )
        packed = pack_septets(septets)
        return bytes((-(-7 * len(septets) // 4), _TOA_ALPHANUMERIC)) + packed
    else:
        raise SmsEncodingError(
            f"{field} {address!r} is not a phone number: use '+' and the digits of an "
            "international number (e.g. +447700900123) or the digits of a national one"
        )
    if len(digits) > _MAX_ADDRESS_DIGITS:
        raise SmsEncodingError(
            f"{field} {address!r} has {len(digits)} digits; an SMS address holds at most "
            f"{_MAX_ADDRESS_DIGITS}"
        )
    return bytes((len(digits), toa)) + _semi_octets(digits)


def _encode_smsc(smsc: str | None) -> bytes:
    """The SMSC part of a PDU-mode PDU (TS 24.011 RP address: length counts octets)."""
    if smsc is None:
        return b"\x00"
    if smsc.startswith("+") and _is_number(smsc[1:]):
        digits, toa = smsc[1:], _TOA_INTERNATIONAL
    elif _is_number(smsc):
        digits, toa = smsc, _TOA_UNKNOWN_ISDN
    else:
        raise SmsEncodingError(
            f"SMSC {smsc!r} is not a phone number: give '+' and digits, or omit it to use "
            "the SMSC stored on the SIM"
        )
    if not 1 <= len(digits) <= _MAX_ADDRESS_DIGITS:
        raise SmsEncodingError(f"SMSC {smsc!r} must have 1..{_MAX_ADDRESS_DIGITS} digits")
    value = _semi_octets(digits)
    return bytes((1 + len(value), toa)) + value


def _encode_timestamp(moment: datetime, field: str) -> bytes:
    """A 7-octet semi-octet timestamp with its zone in quarter hours (TS 23.040 9.2.3.11)."""
    offset = moment.utcoffset()
    if offset is None:
        raise SmsEncodingError(
            f"{field} {moment.isoformat()} has no time zone; give a timezone-aware datetime"
        )
    quarters, remainder = divmod(int(offset.total_seconds()), 900)
    if remainder or abs(quarters) > 79:
        moment = moment.astimezone(UTC)
        quarters = 0
    if not 2000 <= moment.year <= 2099:
        raise SmsEncodingError(
            f"{field} {moment.isoformat()} is outside 2000..2099, which SMS timestamps can carry"
        )
    digits = moment.strftime("%y%m%d%H%M%S")
    zone = abs(quarters)
    zone_octet = ((zone % 10) << 4) | (zone // 10) | (0x08 if quarters < 0 else 0)
    return _semi_octets(digits) + bytes((zone_octet,))


def _data_coding_scheme(encoding: TextEncoding, flash: bool) -> int:
    """General data coding group (TS 23.038 4): alphabet bits 3-2, class 0 when flashing."""
    dcs = 0x08 if encoding.coding is DataCoding.UCS2 else 0x00
    return dcs | 0x10 if flash else dcs


def _check_concat(concat: ConcatInfo) -> None:
    limit = 0xFF if concat.reference_bits == 8 else 0xFFFF
    if concat.reference_bits not in (8, 16) or not 0 <= concat.reference <= limit:
        raise SmsEncodingError(
            f"concatenation reference {concat.reference} does not fit "
            f"{concat.reference_bits} bits (8-bit: 0..255, 16-bit: 0..65535)"
        )
    if not 1 <= concat.total <= MAX_SEGMENTS or not 1 <= concat.sequence <= concat.total:
        raise SmsEncodingError(
            f"concatenation part {concat.sequence} of {concat.total} is impossible: parts are "
            f"numbered 1..total and total is 1..{MAX_SEGMENTS}"
        )


def _user_data(
    text: str, encoding: TextEncoding, concat: ConcatInfo | None
) -> tuple[bool, int, bytes]:
    """(UDHI, TP-UDL, TP-UD) for one segment."""
    header = bytearray()
    if concat is not None:
        _check_concat(concat)
        if concat.reference_bits == 8:
            header += bytes((_IEI_CONCAT_8, 3, concat.reference, concat.total, concat.sequence))
        else:
            header += bytes((_IEI_CONCAT_16, 4, concat.reference >> 8, concat.reference & 0xFF))
            header += bytes((concat.total, concat.sequence))
    if encoding.single_shift is not None:
        header += bytes((_IEI_SINGLE_SHIFT, 1, encoding.single_shift))
    if encoding.locking_shift is not None:
        header += bytes((_IEI_LOCKING_SHIFT, 1, encoding.locking_shift))
    udh = bytes((len(header),)) + header if header else b""

    if encoding.coding is DataCoding.GSM7:
        septets = encode_gsm7(text, encoding.locking_shift, encoding.single_shift)
        header_septets = -(-8 * len(udh) // 7)
        udl = header_septets + len(septets)
        if udl > _MAX_GSM7_SEPTETS:
            raise _too_long(len(septets), _MAX_GSM7_SEPTETS - header_septets, "septets", concat)
        fill_bits = 7 * header_septets - 8 * len(udh)
        return bool(udh), udl, udh + pack_septets(septets, fill_bits)
    try:
        data = text.encode("utf-16-be")
    except UnicodeEncodeError as error:
        raise SmsEncodingError(
            f"character U+{ord(text[error.start]):04X} at index {error.start} is a lone "
            "surrogate and cannot be sent as text"
        ) from None
    udl = len(udh) + len(data)
    if udl > MAX_USER_DATA_OCTETS:
        room = (MAX_USER_DATA_OCTETS - len(udh)) // 2
        raise _too_long(len(data) // 2, room, "UCS-2 units", concat)
    return bool(udh), udl, udh + data


def _too_long(units: int, room: int, what: str, concat: ConcatInfo | None) -> SmsEncodingError:
    hint = (
        " (a 16-bit reference takes one more octet: plan with reference_bits=16)"
        if concat is not None and concat.reference_bits == 16
        else ""
    )
    return SmsEncodingError(
        f"segment text is {units} {what} but one SMS has room for {room}{hint}; "
        "split the text with plan_segments"
    )


# ---------------------------------------------------------------------------------------------
# Encoders


@dataclass(frozen=True, slots=True)
class _SubmitFields:
    """What every segment of one message to one recipient shares, encoded once."""

    smsc: bytes
    first: int
    address: bytes
    dcs: int
    validity: bytes

    @classmethod
    def make(
        cls,
        destination: str,
        encoding: TextEncoding,
        validity: Validity | None,
        status_report: bool,
        flash: bool,
        smsc: str | None,
    ) -> _SubmitFields:
        first = _MTI_SUBMIT | (_SRR if status_report else 0)
        if isinstance(validity, RelativeValidity):
            first |= _VPF_RELATIVE << 3
            validity_field = bytes((relative_validity_octet(validity.period),))
        elif isinstance(validity, AbsoluteValidity):
            first |= _VPF_ABSOLUTE << 3
            validity_field = _encode_timestamp(validity.until, "validity")
        else:
            validity_field = b""
        return cls(
            smsc=_encode_smsc(smsc),
            first=first,
            address=_encode_address(destination, "destination"),
            dcs=_data_coding_scheme(encoding, flash),
            validity=validity_field,
        )

    def submit(
        self, text: str, encoding: TextEncoding, message_reference: int, concat: ConcatInfo | None
    ) -> SubmitPdu:
        udhi, udl, user_data = _user_data(text, encoding, concat)
        tpdu = b"".join(
            (
                bytes((self.first | _UDHI if udhi else self.first, message_reference)),
                self.address,
                bytes((0x00, self.dcs)),
                self.validity,
                bytes((udl,)),
                user_data,
            )
        )
        return SubmitPdu(self.smsc + tpdu, len(tpdu))


def _check_message_reference(message_reference: int) -> None:
    if not 0 <= message_reference <= 0xFF:
        raise SmsEncodingError(f"message_reference must be 0..255, not {message_reference}")


def encode_submit(
    destination: str,
    text: str,
    encoding: TextEncoding,
    *,
    message_reference: int = 0,
    concat: ConcatInfo | None = None,
    validity: Validity | None = None,
    status_report: bool = False,
    flash: bool = False,
    smsc: str | None = None,
) -> SubmitPdu:
    """One SMS-SUBMIT carrying ``text`` (one segment) to ``destination``."""
    _check_message_reference(message_reference)
    fields = _SubmitFields.make(destination, encoding, validity, status_report, flash, smsc)
    return fields.submit(text, encoding, message_reference, concat)


def encode_message(
    destination: str,
    plan: SegmentPlan,
    *,
    concat_reference: int,
    message_reference: int = 0,
    validity: Validity | None = None,
    status_report: bool = False,
    flash: bool = False,
    smsc: str | None = None,
) -> tuple[SubmitPdu, ...]:
    """One SMS-SUBMIT per segment of ``plan``; a concatenation IE when there are several.

    Segment i gets TP-MR ``message_reference + i`` (mod 256). The reference is 16-bit when
    the plan was made for 16-bit references or ``concat_reference`` exceeds 255; the latter
    with a plan made for 8-bit references is refused, as its segments may not fit.
    """
    count = plan.count
    if count > MAX_SEGMENTS:
        raise SmsEncodingError(
            f"the text needs {count} SMS but concatenation allows at most {MAX_SEGMENTS}; "
            "shorten it"
        )
    if not 0 <= concat_reference <= 0xFFFF:
        raise SmsEncodingError(f"concat_reference must be 0..65535, not {concat_reference}")
    _check_message_reference(message_reference)
    encoding = plan.encoding
    fields = _SubmitFields.make(destination, encoding, validity, status_report, flash, smsc)
    if count == 1:
        return (fields.submit(plan.segments[0], encoding, message_reference, None),)
    bits: Literal[8, 16] = plan.reference_bits
    if concat_reference > 0xFF and bits == 8:
        raise SmsEncodingError(
            f"concat_reference {concat_reference} needs a 16-bit reference but the text was "
            "planned for 8-bit references; plan it with reference_bits=16 or use a reference "
            "below 256"
        )
    return tuple(
        fields.submit(
            segment,
            encoding,
            (message_reference + index) & 0xFF,
            ConcatInfo(concat_reference, count, index + 1, bits),
        )
        for index, segment in enumerate(plan.segments)
    )


def encode_deliver(
    originator: str,
    text: str,
    encoding: TextEncoding,
    *,
    service_centre_time: datetime,
    concat: ConcatInfo | None = None,
    smsc: str | None = None,
) -> bytes:
    """An SMS-DELIVER (with its SMSC part), as a modem reports a received message. An
    originator that is not a number is sent as an alphanumeric address."""
    address = _encode_address(originator, "originator", alphanumeric_ok=True)
    udhi, udl, user_data = _user_data(text, encoding, concat)
    first = _MTI_DELIVER | _MMS_NO_MORE | (_UDHI if udhi else 0)
    return b"".join(
        (
            _encode_smsc(smsc),
            bytes((first,)),
            address,
            bytes((0x00, _data_coding_scheme(encoding, False))),
            _encode_timestamp(service_centre_time, "service_centre_time"),
            bytes((udl,)),
            user_data,
        )
    )


def encode_status_report(
    *,
    message_reference: int,
    recipient: str,
    service_centre_time: datetime,
    discharge_time: datetime,
    status: int = 0,
    smsc: str | None = None,
) -> bytes:
    """An SMS-STATUS-REPORT (with its SMSC part), as a modem reports it in +CDS."""
    _check_message_reference(message_reference)
    if not 0 <= status <= 0xFF:
        raise SmsEncodingError(f"status must be 0..255, not {status}")
    return b"".join(
        (
            _encode_smsc(smsc),
            bytes((_MTI_STATUS_REPORT | _MMS_NO_MORE, message_reference)),
            _encode_address(recipient, "recipient"),
            _encode_timestamp(service_centre_time, "service_centre_time"),
            _encode_timestamp(discharge_time, "discharge_time"),
            bytes((status,)),
        )
    )


# ---------------------------------------------------------------------------------------------
# Decoders


class _Reader:
    """Walks a PDU octet by octet so every error can say where it happened."""

    __slots__ = ("data", "kind", "pos")

    def __init__(self, data: bytes, kind: str) -> None:
        self.data = data
        self.kind = kind
        self.pos = 0

    def error(self, field: str, why: str, at: int | None = None) -> PduDecodeError:
        where = self.pos if at is None else at
        return PduDecodeError(f"{self.kind} PDU, octet {where} ({field}): {why}")

    def take(self, count: int, field: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            left = len(self.data) - self.pos
            raise self.error(field, f"truncated PDU: needs {count} octet(s), {left} left")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def octet(self, field: str) -> int:
        return self.take(1, field)[0]

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk


def _nibbles(value: bytes) -> list[int]:
    """Semi-octets in transmission order: low nibble first (TS 23.040 9.1.2.3)."""
    nibbles = []
    for octet in value:
        nibbles.append(octet & 0x0F)
        nibbles.append(octet >> 4)
    return nibbles


def _bcd_text(reader: _Reader, nibbles: list[int], field: str, at: int) -> str:
    if 0x0F in nibbles:
        raise reader.error(field, "the filler F appears inside the number", at)
    return "".join(_BCD_DIGITS[n] for n in nibbles)


def _read_smsc(reader: _Reader, with_smsc: bool) -> str | None:
    if not with_smsc:
        return None
    start = reader.pos
    length = reader.octet("SMSC address length")
    if length == 0:
        return None
    if length > 12:
        raise reader.error(
            "SMSC address length", f"{length} octets; an SMSC address has at most 12", start
        )
    toa = reader.octet("SMSC type of address")
    at = reader.pos
    nibbles = _nibbles(reader.take(length - 1, "SMSC address"))
    if nibbles and nibbles[-1] == 0x0F:
        nibbles.pop()
    digits = _bcd_text(reader, nibbles, "SMSC address", at)
    return "+" + digits if (toa >> 4) & 0x07 == _TON_INTERNATIONAL else digits


def _read_address(reader: _Reader, field: str) -> str:
    start = reader.pos
    length = reader.octet(f"{field} length")
    if length > _MAX_ADDRESS_DIGITS:
        raise reader.error(
            f"{field} length",
            f"{length} semi-octets; an address has at most {_MAX_ADDRESS_DIGITS}",
            start,
        )
    toa = reader.octet(f"{field} type of address")
    at = reader.pos
    value = reader.take((length + 1) // 2, field)
    ton = (toa >> 4) & 0x07
    if ton == _TON_ALPHANUMERIC:
        return decode_gsm7(unpack_septets(value, 4 * length // 7))
    digits = _bcd_text(reader, _nibbles(value)[:length], field, at)
    return "+" + digits if ton == _TON_INTERNATIONAL else digits


def _read_timestamp(reader: _Reader, field: str) -> datetime:
    start = reader.pos
    value = reader.take(7, field)
    numbers = []
    for octet in value[:6]:
        tens, units = octet & 0x0F, octet >> 4
        if tens > 9 or units > 9:
            raise reader.error(field, f"{value.hex().upper()} is not a BCD timestamp", start)
        numbers.append(10 * tens + units)
    zone = value[6]
    tens, units = zone & 0x07, zone >> 4
    if units > 9:
        raise reader.error(field, f"time zone octet {zone:02X} is not BCD", start + 6)
    quarters = (10 * tens + units) * (-1 if zone & 0x08 else 1)
    year, month, day, hour, minute, second = numbers
    try:
        return datetime(
            2000 + year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(timedelta(minutes=15 * quarters)),
        )
    except ValueError as error:
        raise reader.error(
            field, f"{value.hex().upper()} is no valid time: {error}", start
        ) from None


def _read_dcs(reader: _Reader) -> tuple[DataCoding, int | None]:
    """Alphabet and message class (None: no class) of TP-DCS (TS 23.038 4)."""
    start = reader.pos
    dcs = reader.octet("TP-DCS")
    group = dcs >> 4
    alphabet: int
    message_class: int | None
    if group <= 0x7:  # general data coding, with or without automatic deletion
        if dcs & 0x20:
            raise reader.error("TP-DCS", f"0x{dcs:02X} marks compressed text, not supported", start)
        alphabet = (dcs >> 2) & 0x03
        message_class = dcs & 0x03 if dcs & 0x10 else None
    elif group in (0xC, 0xD):  # message waiting indication, GSM 7-bit
        alphabet, message_class = 0, None
    elif group == 0xE:  # message waiting indication, UCS-2
        alphabet, message_class = 2, None
    elif group == 0xF:  # data coding / message class
        alphabet = (dcs >> 2) & 0x01
        message_class = dcs & 0x03
    else:
        raise reader.error("TP-DCS", f"0x{dcs:02X} is a reserved coding group", start)
    if alphabet == 0:
        return DataCoding.GSM7, message_class
    if alphabet == 2:
        return DataCoding.UCS2, message_class
    what = "8-bit data" if alphabet == 1 else "a reserved alphabet"
    raise reader.error("TP-DCS", f"0x{dcs:02X} announces {what}, not text", start)


def _national(reader: _Reader, value: int, at: int, iei: int) -> NationalLanguage:
    table = SINGLE_SHIFT if iei == _IEI_SINGLE_SHIFT else LOCKING_SHIFT
    kind = "single" if iei == _IEI_SINGLE_SHIFT else "locking"
    if value not in table:
        raise reader.error(
            f"UDH national language {kind} shift IE",
            f"language {value} has no {kind} shift table in TS 23.038",
            at,
        )
    return NationalLanguage(value)


def _read_user_data(
    reader: _Reader, udhi: bool, coding: DataCoding
) -> tuple[TextEncoding, ConcatInfo | None, str]:
    udl_at = reader.pos
    udl = reader.octet("TP-UDL")
    limit = _MAX_GSM7_SEPTETS if coding is DataCoding.GSM7 else MAX_USER_DATA_OCTETS
    if udl > limit:
        unit = "septets" if coding is DataCoding.GSM7 else "octets"
        raise reader.error("TP-UDL", f"{udl} {unit}; at most {limit} fit an SMS", udl_at)
    octets = -(-7 * udl // 8) if coding is DataCoding.GSM7 else udl
    ud_at = reader.pos
    user_data = reader.take(octets, "TP-UD")
    if reader.pos != len(reader.data):
        extra = len(reader.data) - reader.pos
        raise reader.error("TP-UD", f"bad length: {extra} octet(s) beyond what TP-UDL announces")

    concat: ConcatInfo | None = None
    locking: NationalLanguage | None = None
    single: NationalLanguage | None = None
    header_length = 0
    if udhi:
        if not user_data:
            raise reader.error("TP-UDH", "TP-UDHI is set but there is no user data", ud_at)
        header_length = 1 + user_data[0]
        if header_length > len(user_data):
            raise reader.error(
                "TP-UDHL",
                f"header of {user_data[0]} octets does not fit {len(user_data) - 1}",
                ud_at,
            )
        index = 1
        while index < header_length:
            at = ud_at + index
            if index + 2 > header_length:
                raise reader.error("TP-UDH", "information element cut off by the header end", at)
            iei, length = user_data[index], user_data[index + 1]
            body = user_data[index + 2 : index + 2 + length]
            if index + 2 + length > header_length:
                raise reader.error(
                    "TP-UDH", f"IE 0x{iei:02X} of {length} octets overruns the header", at
                )
            if iei in (_IEI_CONCAT_8, _IEI_CONCAT_16):
                concat = _read_concat(reader, iei, body, at)
            elif iei in (_IEI_SINGLE_SHIFT, _IEI_LOCKING_SHIFT):
                if length != 1:
                    raise reader.error(
                        "TP-UDH", f"IE 0x{iei:02X} must be 1 octet, not {length}", at
                    )
                language = _national(reader, body[0], at, iei)
                if iei == _IEI_SINGLE_SHIFT:
                    single = language
                else:
                    locking = language
            index += 2 + length

    if coding is DataCoding.GSM7:
        header_septets = -(-8 * header_length // 7)
        if header_septets > udl:
            raise reader.error(
                "TP-UDL", f"{udl} septets cannot hold a {header_length}-octet header", udl_at
            )
        fill_bits = 7 * header_septets - 8 * header_length
        septets = unpack_septets(user_data[header_length:], udl - header_septets, fill_bits)
        text = decode_gsm7(septets, locking, single)
        return TextEncoding(DataCoding.GSM7, locking, single), concat, text
    body = user_data[header_length:]
    if len(body) % 2:
        raise reader.error("TP-UD", f"UCS-2 text of {len(body)} octets is not whole units")
    try:
        text = body.decode("utf-16-be")
    except UnicodeDecodeError as error:
        raise reader.error(
            "TP-UD", f"UCS-2 text is not valid UTF-16: {error.reason}", ud_at + header_length
        ) from None
    return TextEncoding(DataCoding.UCS2), concat, text


def _read_concat(reader: _Reader, iei: int, body: bytes, at: int) -> ConcatInfo:
    bits: Literal[8, 16] = 8 if iei == _IEI_CONCAT_8 else 16
    if len(body) != bits // 8 + 2:
        raise reader.error(
            "TP-UDH concatenation IE",
            f"{len(body)} octets; a {bits}-bit reference IE has {bits // 8 + 2}",
            at,
        )
    reference = body[0] if bits == 8 else (body[0] << 8) | body[1]
    total, sequence = body[-2], body[-1]
    if total == 0 or not 1 <= sequence <= total:
        raise reader.error(
            "TP-UDH concatenation IE", f"part {sequence} of {total} is impossible", at
        )
    return ConcatInfo(reference, total, sequence, bits)


def _first_octet(reader: _Reader, expected: int) -> int:
    first = reader.octet("first octet")
    if first & 0x03 != expected:
        raise reader.error(
            "first octet",
            f"TP-MTI says {_MTI_NAMES[first & 0x03]}, expected {_MTI_NAMES[expected]}",
            reader.pos - 1,
        )
    return first


def decode_submit(pdu: bytes, *, with_smsc: bool = True) -> DecodedSubmit:
    """Read an SMS-SUBMIT (what a modem is given after AT+CMGS)."""
    reader = _Reader(bytes(pdu), "SMS-SUBMIT")
    smsc = _read_smsc(reader, with_smsc)
    first = _first_octet(reader, _MTI_SUBMIT)
    message_reference = reader.octet("TP-MR")
    destination = _read_address(reader, "TP-DA")
    reader.octet("TP-PID")
    coding, message_class = _read_dcs(reader)
    vpf = (first >> 3) & 0x03
    validity: Validity | None = None
    if vpf == _VPF_RELATIVE:
        validity = RelativeValidity(relative_validity_period(reader.octet("TP-VP")))
    elif vpf == _VPF_ABSOLUTE:
        validity = AbsoluteValidity(_read_timestamp(reader, "TP-VP"))
    elif vpf != 0:
        raise reader.error("TP-VP", "enhanced validity period format is not supported")
    encoding, concat, text = _read_user_data(reader, bool(first & _UDHI), coding)
    return DecodedSubmit(
        smsc=smsc,
        message_reference=message_reference,
        destination=destination,
        status_report_requested=bool(first & _SRR),
        flash=message_class == 0,
        validity=validity,
        encoding=encoding,
        concat=concat,
        text=text,
    )


def decode_deliver(pdu: bytes, *, with_smsc: bool = True) -> DecodedDeliver:
    """Read an SMS-DELIVER (a received message, as +CMGR/+CMGL/+CMT give it in PDU mode)."""
    reader = _Reader(bytes(pdu), "SMS-DELIVER")
    smsc = _read_smsc(reader, with_smsc)
    first = _first_octet(reader, _MTI_DELIVER)
    originator = _read_address(reader, "TP-OA")
    reader.octet("TP-PID")
    coding, message_class = _read_dcs(reader)
    service_centre_time = _read_timestamp(reader, "TP-SCTS")
    encoding, concat, text = _read_user_data(reader, bool(first & _UDHI), coding)
    return DecodedDeliver(
        smsc=smsc,
        originator=originator,
        service_centre_time=service_centre_time,
        encoding=encoding,
        concat=concat,
        text=text,
        flash=message_class == 0,
    )


# TS 23.040 9.2.3.15 TP-Status, in words a duty officer can use.
_STATUS_REASONS: Final = {
    0x00: "short message received by the recipient",
    0x01: "forwarded to the recipient, the service centre cannot confirm delivery",
    0x02: "replaced by the service centre",
    0x20: "congestion; the service centre is still trying",
    0x21: "recipient busy; the service centre is still trying",
    0x22: "no response from the recipient; the service centre is still trying",
    0x23: "service rejected; the service centre is still trying",
    0x24: "quality of service not available; the service centre is still trying",
    0x25: "error in the recipient's phone; the service centre is still trying",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by the recipient",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "validity period expired",
    0x47: "deleted by the sender",
    0x48: "deleted by the service centre's administration",
    0x49: "the message does not exist at the service centre",
    0x60: "congestion; the service centre gave up",
    0x61: "recipient busy; the service centre gave up",
    0x62: "no response from the recipient; the service centre gave up",
    0x63: "service rejected; the service centre gave up",
    0x64: "quality of service not available; the service centre gave up",
    0x65: "error in the recipient's phone; the service centre gave up",
}


def status_meaning(status: int) -> tuple[DeliveryOutcome, str]:
    """Outcome and reason of a TP-Status value, reserved and SC-specific values by range."""
    if status in _STATUS_REASONS:
        reason = _STATUS_REASONS[status]
    elif status >= 0x80:
        return DeliveryOutcome.FAILED, f"reserved status 0x{status:02X}, treated as rejected"
    else:
        kind = "service-centre specific" if status & 0x10 else "reserved"
        group = {
            0: "transaction completed",
            1: "temporary error, the service centre is still trying",
            2: "permanent error",
            3: "temporary error, the service centre gave up",
        }[status >> 5]
        reason = f"{kind} status 0x{status:02X} ({group})"
    outcome = (
        DeliveryOutcome.DELIVERED,
        DeliveryOutcome.PENDING,
        DeliveryOutcome.FAILED,
        DeliveryOutcome.FAILED,
    )[status >> 5]
    return outcome, reason


def decode_status_report(pdu: bytes, *, with_smsc: bool = True) -> StatusReport:
    """Read an SMS-STATUS-REPORT (+CDS, or stored and read with +CMGR). Optional parameters
    after TP-ST are not needed and not read."""
    reader = _Reader(bytes(pdu), "SMS-STATUS-REPORT")
    smsc = _read_smsc(reader, with_smsc)
    _first_octet(reader, _MTI_STATUS_REPORT)
    message_reference = reader.octet("TP-MR")
    recipient = _read_address(reader, "TP-RA")
    service_centre_time = _read_timestamp(reader, "TP-SCTS")
    discharge_time = _read_timestamp(reader, "TP-DT")
    status = reader.octet("TP-ST")
    outcome, reason = status_meaning(status)
    return StatusReport(
        smsc=smsc,
        message_reference=message_reference,
        recipient=recipient,
        service_centre_time=service_centre_time,
        discharge_time=discharge_time,
        status=status,
        outcome=outcome,
        reason=reason,
    )
