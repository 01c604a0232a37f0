"""KISS framing: escaping, the type octet, the streaming decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateways.radio.kiss import (
    FEND,
    FESC,
    KissCommand,
    KissDecoder,
    KissError,
    KissFrame,
    encode_kiss,
    kiss_data,
    kiss_escape,
    kiss_parameter,
    kiss_return,
    kiss_unescape,
)

# Bytes that exercise escaping: FEND and FESC themselves and the transposed codes.
_TRICKY = st.binary(max_size=300) | st.lists(
    st.sampled_from([0xC0, 0xDB, 0xDC, 0xDD, 0x00, 0x41]), max_size=60
).map(bytes)
_FRAMES = st.builds(KissFrame, st.integers(0, 15), st.integers(0, 15), _TRICKY)


def test_escaping_per_the_kiss_paper() -> None:
    assert kiss_escape(b"\xc0") == b"\xdb\xdc"
    assert kiss_escape(b"\xdb") == b"\xdb\xdd"
    assert kiss_escape(b"a\xdb\xdcb\xc0\xdd") == b"a\xdb\xdd\xdcb\xdb\xdc\xdd"


def test_data_frame_layout() -> None:
    assert kiss_data(b"AB\xc0", port=2) == b"\xc0\x20AB\xdb\xdc\xc0"
    assert encode_kiss(KissFrame(0, KissCommand.DATA, b"")) == b"\xc0\x00\xc0"
    # port 12 data and port 13 command 11 have FEND and FESC as their type octet
    assert kiss_data(b"x", port=12) == b"\xc0\xdb\xdcx\xc0"
    assert encode_kiss(KissFrame(13, 11)) == b"\xc0\xdb\xdd\xc0"


def test_parameter_and_return_frames() -> None:
    assert kiss_parameter(KissCommand.TXDELAY, 30) == b"\xc0\x01\x1e\xc0"
    assert kiss_parameter(KissCommand.PERSISTENCE, 255, port=1) == b"\xc0\x12\xff\xc0"
    assert kiss_return() == b"\xc0\xff\xc0"
    (frame,) = KissDecoder().feed(kiss_return())
    assert frame.is_return and not frame.is_data
    with pytest.raises(KissError, match="one octet"):
        kiss_parameter(KissCommand.SLOTTIME, 256)
    with pytest.raises(KissError, match="not a one-octet"):
        kiss_parameter(KissCommand.DATA, 1)
    with pytest.raises(KissError, match="0 to 15"):
        KissFrame(16, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"a\xdbx", "followed by 0x78"), (b"a\xdb", "lone FESC"), (b"a\xc0b", "unescaped FEND")],
)
def test_unescape_errors(data: bytes, message: str) -> None:
    with pytest.raises(KissError, match=message):
        kiss_unescape(data)


@given(_TRICKY)
def test_escape_round_trip_and_no_fend_inside(data: bytes) -> None:
    escaped = kiss_escape(data)
    assert FEND not in escaped
    assert kiss_unescape(escaped) == data
    assert len(escaped) == len(data) + data.count(FEND) + data.count(FESC)


@given(st.lists(_FRAMES, max_size=8), st.data())
def test_streaming_decode_across_any_chunk_split(
    frames: list[KissFrame], draw: st.DataObject
) -> None:
    stream = b"".join(encode_kiss(f) for f in frames)
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    decoder = KissDecoder()
    decoded: list[KissFrame] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        decoded += decoder.feed(stream[start:cut])
        start = cut
    assert decoded == frames
    assert decoder.dropped == 0


def test_noise_before_the_first_fend_and_empty_frames_are_ignored() -> None:
    decoder = KissDecoder()
    frames = decoder.feed(b"garbage\xdb\xc0\xc0\xc0" + kiss_data(b"one") + b"\xc0\xc0")
    assert frames == [KissFrame(0, 0, b"one")]


def test_a_bad_frame_is_dropped_and_the_next_survives() -> None:
    decoder = KissDecoder(max_frame=10)
    stream = b"\xc0\x00ab\xdbxcd\xc0" + kiss_data(b"x" * 11) + kiss_data(b"ok")
    assert decoder.feed(stream) == [KissFrame(0, 0, b"ok")]
    assert decoder.dropped == 2
