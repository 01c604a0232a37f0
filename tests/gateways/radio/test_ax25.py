"""AX.25 UI frames: addresses, bit layout, FCS vectors, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways.radio.ax25 import (
    FCS_GOOD_RESIDUE,
    Ax25Address,
    Ax25Error,
    Ax25Frame,
    decode_frame,
    encode_frame,
    fcs16,
    parse_path,
    parse_tnc2,
    strip_fcs,
    to_tnc2,
    with_fcs,
)

# The frame below as direwolf 1.6 printed it (``atest -h``) after decoding audio that direwolf
# itself generated from this frame received on its KISS port: a real peer's byte layout.
DIREWOLF_LINE = "N0CALL-1>APZTOC,WIDE1-1,WIDE2-2::BLN1     :Test bulletin one"
DIREWOLF_HEX = (
    "82a0b4a89e86e0"  # APZTOC, C bit set (command), reserved bits 11
    "9c608682989862"  # N0CALL-1, C bit clear
    "ae92888a624062"  # WIDE1-1, H bit clear
    "ae92888a644065"  # WIDE2-2, last address: extension bit set
    "03f0"  # UI, no layer 3
    "3a424c4e3120202020203a546573742062756c6c6574696e206f6e65"
)


def test_encoding_matches_direwolfs_bytes() -> None:
    assert encode_frame(parse_tnc2(DIREWOLF_LINE)).hex() == DIREWOLF_HEX


def test_decoding_direwolfs_bytes() -> None:
    frame = decode_frame(bytes.fromhex(DIREWOLF_HEX))
    assert frame.destination == Ax25Address("APZTOC")
    assert frame.source == Ax25Address("N0CALL", 1)
    assert frame.path == (Ax25Address("WIDE1", 1), Ax25Address("WIDE2", 2))
    assert frame.info == b":BLN1     :Test bulletin one"
    assert frame.command
    assert to_tnc2(frame) == DIREWOLF_LINE


def test_has_been_repeated_bit_is_bit_7_of_the_digipeater_ssid_octet() -> None:
    frame = parse_tnc2("N0CALL>APRS,WIDE1-1*,WIDE2-1:>hi")
    octets = encode_frame(frame)
    assert octets[20] == 0xE2  # 0x80 H | 0x60 reserved | SSID 1 << 1
    assert octets[27] == 0x63  # not repeated, last
    assert decode_frame(octets).path[0].repeated
    assert to_tnc2(decode_frame(octets)) == "N0CALL>APRS,WIDE1-1*,WIDE2-1:>hi"


# FCS vectors. CRC-16/X-25 (= CRC-16/IBM-SDLC, the HDLC FCS): the check value over the ASCII
# string "123456789" is 0x906E (Greg Cook's "Catalogue of parametrised CRC algorithms", entry
# CRC-16/IBM-SDLC). RFC 1662 (PPP in HDLC-like framing) appendix C.2: running the FCS over a
# frame and its own FCS leaves the "good FCS" 0xF0B8 in the register, i.e. 0x0F47 after the
# final complement our fcs16 applies.
@pytest.mark.parametrize(
    ("data", "fcs"),
    [(b"123456789", 0x906E), (b"", 0x0000)],
)
def test_fcs_known_vectors(data: bytes, fcs: int) -> None:
    assert fcs16(data) == fcs


def test_fcs_is_sent_low_octet_first() -> None:
    assert with_fcs(b"123456789")[-2:] == bytes([0x6E, 0x90])
    assert fcs16(with_fcs(b"123456789")) == FCS_GOOD_RESIDUE == 0xF0B8 ^ 0xFFFF


@given(st.binary(min_size=1, max_size=300))
def test_fcs_residue_holds_for_every_frame(data: bytes) -> None:
    framed = with_fcs(data)
    assert fcs16(framed) == FCS_GOOD_RESIDUE
    assert strip_fcs(framed) == data


@given(st.binary(min_size=1, max_size=300), st.data())
def test_fcs_detects_every_single_bit_error(data: bytes, draw: st.DataObject) -> None:
    framed = bytearray(with_fcs(data))
    bit = draw.draw(st.integers(0, len(framed) * 8 - 1))
    framed[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(Ax25Error, match="FCS mismatch"):
        strip_fcs(bytes(framed))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("N0CALL", Ax25Address("N0CALL")),
        ("n0call-7", Ax25Address("N0CALL", 7)),
        ("WIDE2-2", Ax25Address("WIDE2", 2)),
        ("WIDE1-1*", Ax25Address("WIDE1", 1, repeated=True)),
        ("A-0", Ax25Address("A")),
    ],
)
def test_address_parsing(text: str, expected: Ax25Address) -> None:
    assert Ax25Address.parse(text) == expected


@pytest.mark.parametrize("text", ["", "TOOLONG1", "N0CALL-16", "N0 CALL", "N0CALL-", "É1"])
def test_bad_addresses_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(Ax25Error, match=r"AX\.25"):
        Ax25Address.parse(text)


def test_address_constructor_is_strict() -> None:
    with pytest.raises(Ax25Error, match="upper-case"):
        Ax25Address("n0call")
    with pytest.raises(Ax25Error, match="0 to 15"):
        Ax25Address("N0CALL", 16)


def test_frame_limits() -> None:
    source, dest = Ax25Address("N0CALL"), Ax25Address("APZTOC")
    assert len(Ax25Frame(dest, source, parse_path("A,B,C,D,E,F,G,H")).path) == 8
    with pytest.raises(Ax25Error, match="at most 8"):
        Ax25Frame(dest, source, tuple(Ax25Address("D", n) for n in range(9)))
    with pytest.raises(Ax25Error, match="at most 8"):
        parse_path("A,B,C,D,E,F,G,H,I")
    with pytest.raises(Ax25Error, match="256"):
        Ax25Frame(dest, source, info=b"x" * 257)
    with pytest.raises(Ax25Error, match="not a UI frame"):
        Ax25Frame(dest, source, control=0x3F)


@pytest.mark.parametrize(
    ("octets", "message"),
    [
        (bytes.fromhex(DIREWOLF_HEX)[:10], "ends inside the address field"),
        (bytes.fromhex(DIREWOLF_HEX)[:7] + bytes.fromhex("9c608682989863"), "before its control"),
        (bytes.fromhex("82a0b4a89e86e1") + b"\x03\xf0", "no source"),
        (bytes.fromhex(DIREWOLF_HEX)[:28] + b"\x3f\xf0", "not a UI frame"),
        (bytes.fromhex("83a0b4a89e86e0") + bytes(30), "extension bit is set inside"),
        (bytes([0x40 << 1] * 6) + b"\x60" + bytes.fromhex(DIREWOLF_HEX)[7:], "upper-case"),
    ],
)
def test_decoding_errors_say_where(octets: bytes, message: str) -> None:
    with pytest.raises(Ax25Error, match=message):
        decode_frame(octets)


_CALLSIGNS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6)
_ADDRESSES = st.builds(Ax25Address, _CALLSIGNS, st.integers(0, 15))
_DIGIS = st.builds(Ax25Address, _CALLSIGNS, st.integers(0, 15), st.booleans())
_FRAMES = st.builds(
    Ax25Frame,
    _ADDRESSES,
    _ADDRESSES,
    st.lists(_DIGIS, max_size=8).map(tuple),
    st.binary(max_size=256),
    st.sampled_from([0x03, 0x13]),
    st.integers(0, 255),
    st.booleans(),
)


@given(_FRAMES)
def test_encode_decode_round_trip(frame: Ax25Frame) -> None:
    octets = encode_frame(frame)
    assert len(octets) == 7 * (2 + len(frame.path)) + 2 + len(frame.info)
    assert decode_frame(octets) == frame
    assert decode_frame(strip_fcs(with_fcs(octets))) == frame


@given(_FRAMES, st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200))
def test_monitor_line_round_trip(frame: Ax25Frame, info: str) -> None:
    ui = Ax25Frame(frame.destination, frame.source, frame.path, info.encode())
    assert parse_tnc2(to_tnc2(ui)) == ui
