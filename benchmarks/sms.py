"""SMS throughput through emulated modems against the emulator's own limit, and PDU encoding.

    .venv/bin/python benchmarks/sms.py [--delay 0.1] [--per-modem 25] [--modems 1 4 16]

1. PDU encoding: segments/s building SMS-SUBMIT PDUs of real-looking alert texts in English,
   French, Arabic and Bengali (target >= 20,000), and the same including choosing the encoding
   (national tables) and splitting the text.
2. For k modems: messages/minute through the modem pool over real ptys to `tocsin sim modem`
   (run as its own process, as a real modem is its own device), each emulated modem taking
   --delay seconds per message, so the theoretical limit is k * 60 / delay messages/minute.
   Printed side by side with that limit, and the ratio (target >= 0.90 at k = 16).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateways.sms.modem_link import ModemLink  # noqa: E402
from gateways.sms.pdu import encode_message  # noqa: E402
from gateways.sms.pool import ModemPool, PoolOutcome, PoolSettings  # noqa: E402
from gateways.sms.text import plan_for_language  # noqa: E402
from gateways.sms.transport import SerialTransport  # noqa: E402

TEXTS = {
    "en": "Flood warning for the Lower Valley. Move to higher ground now. Do not drive through "
    "flood water. https://met.example.gov/w/42",
    "fr": "Alerte inondation pour la basse vallée. Gagnez immédiatement les hauteurs. "
    "https://met.example.gov/w/42",
    "ar": "تحذير من الفيضانات في الوادي السفلي. انتقلوا فوراً إلى مكان مرتفع. "
    "https://met.example.gov/w/42",
    "bn": "নিম্ন উপত্যকায় বন্যা সতর্কতা. এখনই উঁচু জায়গায় যান. https://met.example.gov/w/42",
}


def encoding_rates(seconds: float) -> tuple[float, float]:
    """Segments/s (1) building the PDUs of texts already planned, (2) planning them too
    (choosing the encoding, national tables included, and splitting)."""
    texts = [(t * k, lang) for lang, t in TEXTS.items() for k in (1, 2, 4)]
    plans = [plan_for_language(text, language) for text, language in texts]

    def rate(plan_too: bool) -> float:
        segments, n, start = 0, 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for (text, language), planned in zip(texts, plans, strict=True):
                plan = plan_for_language(text, language) if plan_too else planned
                pdus = encode_message(
                    f"+2547{n % 10**8:08d}", plan, concat_reference=n % 256, status_report=True
                )
                segments += len(pdus)
                n += 1
        return segments / (time.perf_counter() - start)

    return rate(False), rate(True)


def throughput(k: int, delay: float, per_modem: int, work: Path) -> tuple[float, float]:
    """(messages/minute achieved, theoretical limit) through k modems."""
    pty_dir = work / f"ptys-{k}"
    emulator = subprocess.Popen(
        [sys.executable, "-m", "cap", "sim", "modem", "--count", str(k), "--delay", str(delay),
         "--pty-dir", str(pty_dir), "--record", str(work / f"rec-{k}.jsonl")],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while len([p for p in pty_dir.glob("*") if p.is_symlink()]) < k:
            if time.monotonic() > deadline or emulator.poll() is not None:
                err = emulator.stderr.read().decode() if emulator.stderr else ""
                raise SystemExit(f"the modem emulator did not start: {err}")
            time.sleep(0.05)
        devices = sorted(p for p in pty_dir.glob("*") if p.is_symlink())
        links = [ModemLink(d.name, SerialTransport(str(d))) for d in devices]
        plan = plan_for_language(TEXTS["en"], "en")
        messages = [
            encode_message(f"+2547{n:08d}", plan, concat_reference=n % 256)
            for n in range(k * per_modem)
        ]
        with ModemPool(links, PoolSettings(min_interval=0.0)) as pool:
            if pool.wait_ready(timeout=20, count=k) < k:
                raise SystemExit(f"only some of the {k} emulated modems became ready")
            start = time.perf_counter()
            futures = [pool.submit(list(m)) for m in messages]
            results = [f.result() for f in futures]
            elapsed = time.perf_counter() - start
        failed = [r for r in results if r.outcome is not PoolOutcome.SENT]
        if failed:
            raise SystemExit(f"{len(failed)} messages failed: {failed[0].reason}")
        return len(messages) / elapsed * 60, k * 60 / delay
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--delay", type=float, default=0.1, help="emulated seconds per message")
    ap.add_argument("--per-modem", type=int, default=25, help="messages per modem per run")
    ap.add_argument("--modems", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--seconds", type=float, default=2.0, help="for the encoding rate")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs")
    encoding, with_planning = encoding_rates(args.seconds)
    print(f"PDU encoding: {encoding:,.0f} segments/s (target >= 20,000); "
          f"with choosing the encoding and splitting: {with_planning:,.0f} segments/s")  # fmt: skip
    print(f"throughput, emulator delay {args.delay:g} s per message:")
    with tempfile.TemporaryDirectory(prefix="tocsin-sms-bench-") as tmp:
        for k in args.modems:
            achieved, limit = throughput(k, args.delay, args.per_modem, Path(tmp))
            print(
                f"  k={k:<3} {achieved:9,.0f} messages/min   limit {limit:9,.0f}   "
                f"ratio {achieved / limit:.2f}" + ("  (target >= 0.90)" if k == 16 else "")
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
