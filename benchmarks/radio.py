"""SAME/EAS audio: seconds of audio made per second of CPU (real-time factor).

    .venv/bin/python benchmarks/radio.py [--rate 48000] [--repeats 5]

1. The generator: a full message (three headers, a 20 s attention signal, 60 s of speech, three
   EOMs) built by `same_message_audio` and written as a 16-bit WAV, from a synthetic 60 s speech
   array (so only our code is timed). Target: >= 50x real time.
2. The baseline, in the same run: writing the same number of silent samples with the `wave`
   module (the least any WAV writer can do), and the generator's cost as a multiple of it.
3. espeak-ng's own time for a real alert's text (the thunderstorm warning of the shared corpus),
   timed separately: speech is a program of its own and dominates when it is used.

CPU time is the process's (time.process_time) for 1-2; espeak-ng runs as a child process, so
3 is its wall-clock time and the children's CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cap.parsing import parse_alert  # noqa: E402
from gateways.radio.same import encode_same_header, same_header_for  # noqa: E402
from gateways.radio.same_audio import AttentionTone, same_message_audio  # noqa: E402
from gateways.radio.speech import EspeakNg, speech_text, spoken_message  # noqa: E402
from gateways.radio.wav import write_wav  # noqa: E402

CORPUS_ALERT = REPO / ".." / "shared" / "data" / "cap" / "alerts" / "google__cap-library"
HEADER = "ZCZC-WXR-SVR-006109-006009-006003+0130-1682157-KXYZ/NWS-"


def best_cpu(repeats: int, work: Callable[[], None]) -> float:
    """The least CPU time of ``repeats`` runs of ``work()`` (the least disturbed run)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=int, default=48000, choices=(22050, 44100, 48000))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rate = args.rate
    speech = (0.3 * np.sin(2 * np.pi * 220 * np.arange(60 * rate) / rate)).astype(np.float32)
    attention = AttentionTone("eas", 20.0)
    print(f"{os.cpu_count()} CPUs, {rate} Hz, best of {args.repeats}")

    with tempfile.TemporaryDirectory(prefix="tocsin-radio-bench-") as tmp:
        out = Path(tmp) / "same.wav"
        silent = Path(tmp) / "silent.wav"
        samples = same_message_audio(HEADER, rate=rate, attention=attention, speech=speech)
        seconds = samples.size / rate

        def generate_only() -> None:
            same_message_audio(HEADER, rate=rate, attention=attention, speech=speech)

        def generate_and_write() -> None:
            audio = same_message_audio(HEADER, rate=rate, attention=attention, speech=speech)
            write_wav(out, audio, rate)

        def baseline() -> None:
            with wave.open(str(silent), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(rate)
                wav.writeframes(bytes(2 * samples.size))

        generate = best_cpu(args.repeats, generate_only)
        full = best_cpu(args.repeats, generate_and_write)
        base = best_cpu(args.repeats, baseline)

    print(f"message: {seconds:.1f} s of audio ({samples.size:,} samples)")
    print(
        f"  generate:               {generate * 1000:8.1f} ms CPU = {seconds / generate:7.0f}x "
        "real time"
    )
    print(
        f"  generate + write WAV:   {full * 1000:8.1f} ms CPU = {seconds / full:7.0f}x real time "
        f"(target >= 50x): {'OK' if seconds / full >= 50 else 'BELOW TARGET'}"
    )
    print(
        f"  baseline (wave, zeros): {base * 1000:8.1f} ms CPU = {seconds / max(base, 1e-9):7.0f}x "
        f"real time; generator costs {full / max(base, 1e-9):.1f}x the baseline"
    )

    if shutil.which("espeak-ng") is None:
        print("espeak-ng: not installed, not timed")
        return 0
    alert = parse_alert((CORPUS_ALERT / "thunderstorm.cap").read_bytes()).alert
    header = encode_same_header(same_header_for(alert, station_id="KXYZ/NWS"))
    assert header == HEADER
    info = alert.infos[0]
    text = speech_text(info).text
    engine = EspeakNg()
    engine.voices()  # the voice list once, as a long-running gateway would
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    speech_result = spoken_message(info, rate=rate, engine=engine)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(
        f"espeak-ng ({len(text)} characters, voice {speech_result.voice}): "
        f"{speech_result.seconds:.1f} s of speech in {wall * 1000:.0f} ms wall, "
        f"{child_cpu * 1000:.0f} ms child CPU = {speech_result.seconds / wall:.0f}x real time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
