"""The spoken message: what is said, which voice says it, WAV decoding, resampling, the 120 s
limit, and espeak-ng itself."""

from __future__ import annotations

import io
import shutil
import wave
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from cap.authoring import alert_from_description
from cap.model import Info
from gateways.radio.speech import (
    MAX_SPEECH_CHARACTERS,
    EspeakNg,
    SpeechError,
    SpeechUnavailableError,
    cap_length,
    decode_wav,
    parse_espeak_voices,
    resample,
    speech_text,
    spoken_message,
    voice_for,
)
from tests.conftest import require_tool

NOW = datetime(2024, 5, 1, 17, 0, tzinfo=UTC)

# The head of `espeak-ng --voices` (espeak-ng 1.51), as the parser meets it.
VOICE_LISTING = """\
Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  af              --/M      Afrikaans          gmw/af
 5  cmn             --/M      Chinese_(Mandarin) sit/cmn              (zh-cmn 5)(zh 5)
 5  en-029          --/M      English_(Caribbean) gmw/en-029           (en 10)
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  es              --/M      Spanish_(Spain)    roa/es
 5  es-419          --/M      Spanish_(Latin_America) roa/es-419           (es-mx 6)(es 6)
 5  fr-be           --/M      French_(Belgium)   roa/fr-BE            (fr 8)
 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)
 5  is              --/M      Icelandic          gmq/is
 5  pt              --/M      Portuguese_(Portugal) roa/pt               (pt-pt 5)
 5  pt-br           --/M      Portuguese_(Brazil) roa/pt-BR            (pt 6)
 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)
"""


def info(**overrides: Any) -> Info:
    desc: dict[str, Any] = {
        "language": "en-US",
        "category": "Met",
        "event": "Flood",
        "urgency": "Expected",
        "severity": "Severe",
        "certainty": "Likely",
        "expires": "+6h",
        "headline": "Flood warning for the Lower Valley",
        "description": "The river is rising.\n  Low roads will flood",
        "instruction": "Move to higher ground!",
        "areas": [{"area_desc": "Lower Valley"}],
    }
    desc.update(overrides)
    desc = {k: v for k, v in desc.items() if v is not None}
    return alert_from_description({"sender": "a@b.example", "info": [desc]}, now=NOW).infos[0]


# --- what is said -------------------------------------------------------------------------------


def test_headline_description_instruction_as_sentences() -> None:
    spoken = speech_text(info())
    assert spoken.text == (
        "Flood warning for the Lower Valley. The river is rising. Low roads will flood. "
        "Move to higher ground!"
    )
    assert spoken.language == "en-US" and not spoken.truncated


def test_eas_text_is_said_word_for_word() -> None:
    spoken = speech_text(info(parameters=[["EASText", "A  flood warning\nis in effect"]]))
    assert spoken.text == "A flood warning is in effect" and spoken.source == "EASText"


def test_long_text_is_cut_at_a_word() -> None:
    words = " ".join(f"word{n}" for n in range(600))
    spoken = speech_text(info(description=words))
    assert spoken.truncated and len(spoken.text) <= MAX_SPEECH_CHARACTERS + 1
    assert spoken.text.endswith(".") and spoken.text[:-1].split()[-1].startswith("word")
    assert spoken.text[:-1] in "Flood warning for the Lower Valley. " + words


def test_nothing_to_say() -> None:
    assert speech_text(info(headline=None, description=None, instruction=None)).text == ""


# --- voices -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def voices() -> dict[str, str]:
    return parse_espeak_voices(VOICE_LISTING)


@pytest.mark.parametrize(
    ("language", "voice"),
    [
        ("en-US", "en-us"),
        ("en", "en-gb"),  # espeak-ng's own choice for plain English (priority 2)
        ("es-MX", "es-419"),
        ("es-419", "es-419"),
        ("es", "es"),
        ("fr-CA", "fr-fr"),  # narrowed to fr; France's voice has the better priority
        ("zh-CN", "cmn"),
        ("zh-Hant-HK", "cmn"),
        ("pt-BR", "pt-br"),
        ("pt", "pt"),
        ("is-IS", "is"),
        ("EN_us", "en-us"),
    ],
)
def test_voice_for_language(voices: dict[str, str], language: str, voice: str) -> None:
    assert voice_for(language, voices) == (voice, None)


@pytest.mark.parametrize("language", ["sm-WS", "tet", ""])
def test_unknown_language_falls_back_to_english_and_says_so(
    voices: dict[str, str], language: str
) -> None:
    voice, note = voice_for(language, voices)
    assert voice == "en-us"
    assert note is not None and "spoken in English" in note and repr(language) in note


def test_no_english_voice_either() -> None:
    with pytest.raises(SpeechError, match="no English voice"):
        voice_for("sm", {"fr": "fr-fr"})


# --- WAV decoding and resampling -----------------------------------------------------------------


def wav_bytes(samples: NDArray[np.int16], rate: int, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def test_decode_wav() -> None:
    pcm = np.array([0, 16384, -16384, 32767, -32768], dtype="<i2")
    samples, rate = decode_wav(wav_bytes(pcm, 22050))
    assert rate == 22050
    assert samples.dtype == np.float32
    assert samples.tolist() == [0.0, 0.5, -0.5, 32767 / 32768, -1.0]


def test_decode_streamed_wav_with_placeholder_sizes() -> None:
    """espeak-ng writing to a pipe cannot know its length: RIFF and data sizes are bogus."""
    data = bytearray(wav_bytes(np.arange(100, dtype="<i2"), 22050))
    data[4:8] = (0x7FFFF024).to_bytes(4, "little")
    data[40:44] = (0x7FFFF000).to_bytes(4, "little")
    samples, _ = decode_wav(bytes(data))
    assert samples.size == 100


def test_decode_first_channel_of_stereo() -> None:
    frames = np.array([[100, -5], [200, -5], [300, -5]], dtype="<i2").reshape(-1)
    samples, _ = decode_wav(wav_bytes(frames, 16000, channels=2))
    assert np.allclose(samples * 32768, [100, 200, 300])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a wav at all", "did not write a WAV"),
        (wav_bytes(np.zeros(4, np.uint8).view("<i2"), 8000, width=1), "expected 16-bit PCM"),
    ],
)
def test_decode_refuses_what_it_cannot_read(data: bytes, message: str) -> None:
    with pytest.raises(SpeechError, match=message):
        decode_wav(data)


@pytest.mark.parametrize("to_rate", [22050, 44100, 48000])
def test_resampling_keeps_the_pitch(to_rate: int) -> None:
    rate = 22050
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    out = resample(tone, rate, to_rate)
    assert out.size == to_rate and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    peak = np.fft.rfftfreq(out.size, 1 / to_rate)[np.argmax(spectrum)]
    assert abs(peak - 440) <= 1.0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1, 1, width=32), min_size=1, max_size=300),
    st.sampled_from([8000, 16000, 22050]),
    st.sampled_from([22050, 44100, 48000]),
)
def test_resampling_length_and_range(values: list[float], from_rate: int, to_rate: int) -> None:
    source = np.array(values, np.float32)
    out = resample(source, from_rate, to_rate)
    assert out.size == round(source.size * to_rate / from_rate)
    assert out.size == 0 or (out.min() >= source.min() - 1e-6 and out.max() <= source.max() + 1e-6)


def test_speech_is_capped_at_a_pause() -> None:
    rate = 8000
    voice = 0.5 * np.sin(2 * np.pi * 200 * np.arange(130 * rate) / rate)
    voice[int(117.5 * rate) : int(117.7 * rate)] = 0.0  # a pause between words
    capped, cut = cap_length(voice.astype(np.float32), rate)
    assert cut and 117.5 * rate <= capped.size <= 117.7 * rate
    short = np.ones(10 * rate, np.float32)
    assert cap_length(short, rate) == (short, False)


# --- speaking, with a stand-in engine and with espeak-ng ------------------------------------------


class FakeEngine:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def voices(self) -> Mapping[str, str]:
        return {"en-us": "en-us", "en": "en-us", "es": "es", "es-419": "es-419"}

    def synthesize(self, text: str, voice: str) -> tuple[NDArray[np.float32], int]:
        self.said.append((text, voice))
        return np.full(22050, 0.25, np.float32), 22050


def test_spoken_message_at_the_message_rate() -> None:
    engine = FakeEngine()
    speech = spoken_message(info(language="es-419"), rate=44100, engine=engine)
    assert engine.said == [(speech_text(info()).text, "es-419")]
    assert speech.rate == 44100 and speech.samples.size == 44100
    assert speech.voice == "es-419" and speech.language == "es-419" and speech.notes == ()


def test_spoken_message_notes_the_fallback() -> None:
    speech = spoken_message(info(language="sm-WS"), rate=22050, engine=FakeEngine())
    assert speech.voice == "en-us" and any("spoken in English" in n for n in speech.notes)


def test_no_text_no_speech() -> None:
    engine = FakeEngine()
    empty = info(headline=None, description=None, instruction=None)
    speech = spoken_message(empty, rate=22050, engine=engine)
    assert speech.samples.size == 0 and engine.said == []


def test_missing_espeak_says_how_to_fix() -> None:
    engine = EspeakNg("/nonexistent/espeak-ng")
    with pytest.raises(SpeechUnavailableError, match=r"apt-get install espeak-ng.*--no-speech"):
        engine.voices()


def require_espeak() -> None:
    require_tool("espeak-ng")


@pytest.mark.integration
def test_espeak_ng_speaks_english() -> None:
    require_espeak()
    engine = EspeakNg()
    assert engine.voices()["en-us"] == "en-us"
    speech = spoken_message(info(), rate=48000, engine=engine)
    assert speech.voice == "en-us" and speech.rate == 48000
    assert 3.0 < speech.seconds < 20.0  # 19 words at 150 a minute, with pauses
    assert 0.05 < float(np.max(np.abs(speech.samples))) <= 1.0


@pytest.mark.integration
def test_espeak_ng_speaks_the_info_blocks_language() -> None:
    require_espeak()
    spanish = info(
        language="es-419",
        headline="Aviso de inundación",
        description="El río está creciendo.",
        instruction="Diríjase a un lugar alto.",
    )
    speech = spoken_message(spanish, rate=22050, engine=EspeakNg())
    assert speech.voice == "es-419" and speech.notes == () and speech.seconds > 1.0


def test_engine_failure_is_reported() -> None:
    false = shutil.which("false")
    assert false is not None
    with pytest.raises(SpeechError, match=r"failed \(exit 1\)"):
        EspeakNg(false).synthesize("hello", "en-us")
