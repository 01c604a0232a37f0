"""``tocsin radio same``: the SAME/EAS message for a CAP alert, as a WAV file.

Registered with the ``tocsin`` command through the ``tocsin.commands`` entry point. Only what
building the parser needs is imported here; numpy, the encoder and espeak-ng load when the
command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cap.cli import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    RawDefaultsFormatter,
    UsageError,
    add_format_option,
    emit_json,
)
from cap.errors import CapError

if TYPE_CHECKING:
    from cap.model import Alert
    from gateways.radio.counties import CountyTable
    from gateways.radio.same import SameHeader
    from gateways.radio.same_audio import AttentionTone, Segment
    from gateways.radio.speech import Speech

RATES = (22050, 44100, 48000)
PREVIEW_STATION_ID = "LLLLLLLL"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    radio = sub.add_parser(
        "radio",
        help="radio channels: SAME/EAS audio for broadcasters and weather radios",
        formatter_class=RawDefaultsFormatter,
        description="Make what radio channels transmit.",
        epilog="examples:\n  tocsin radio same flood.xml -o flood.wav --station-id KXYZ/FM",
    )
    radio_sub = radio.add_subparsers(dest="radio_command", metavar="WHAT")
    radio.set_defaults(handler=lambda _args: _usage(radio))

    same = radio_sub.add_parser(
        "same",
        help="the SAME/EAS message for an alert (headers, attention tone, speech, EOM) as WAV",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Write the SAME/EAS message for one info block of a CAP alert as a 16-bit mono WAV "
            "file: three SAME headers (47 CFR 11.31), the attention signal (853 + 960 Hz, or "
            "1050 Hz for weather radio), the headline, description and instruction spoken by "
            "espeak-ng in the info block's language (or the EASText parameter), and three "
            "end-of-message bursts. The header comes from the alert: eventCode SAME (else a "
            "mapping from the event), parameter EAS-ORG, geocodes SAME or FIPS6 (else the "
            "counties of --counties that its polygons and circles reach), <expires> - <sent> "
            "rounded up, <sent> in UTC. Alerts SAME cannot carry are refused with the reason "
            "(exit 1): not Actual or not Public, expired, no SAME location, more than 31 "
            "locations, an event with no SAME code. See docs/same-eas.md."
        ),
        epilog=(
            "examples:\n"
            "  tocsin radio same flood.xml -o flood.wav --station-id KXYZ/FM\n"
            "  tocsin radio same nws.xml -o nws.wav --weather-radio --attention-seconds 10\n"
            "  tocsin radio same old.xml -o old.wav --at sent --no-speech --rate 22050\n"
            "  tocsin radio same plume.xml -o plume.wav --counties fl_counties.geojson\n"
            "  tocsin radio same drill.xml -o drill.wav --allow-status Exercise --format json\n"
            "  multimon-ng -a EAS -t wav flood.wav      # decode the headers back"
        ),
    )
    same.add_argument("source", metavar="FILE|URL|-", help="a CAP alert")
    same.add_argument(
        "-o", "--output", required=True, type=Path, metavar="OUT.wav", help="WAV file to write"
    )
    same.add_argument(
        "--rate", type=int, choices=RATES, default=44100, help="samples per second (Hz)"
    )
    same.add_argument(
        "--attention-seconds",
        type=float,
        default=8.0,
        metavar="SECONDS",
        help="length of the attention signal, 8 to 25 (47 CFR 11.31(a)(2))",
    )
    same.add_argument(
        "--weather-radio",
        action="store_true",
        help="NOAA Weather Radio attention signal: 1050 Hz instead of 853 + 960 Hz",
    )
    same.add_argument(
        "--station-id",
        metavar="LLLLLLLL",
        help="the transmitting station's id, 8 characters, e.g. KXYZ/FM or KXYZ/NWS "
        "(default: station_id in [authority] of the configuration)",
    )
    same.add_argument("--info", type=int, default=0, metavar="N", help="which info block, from 0")
    same.add_argument("--no-speech", action="store_true", help="no spoken message")
    same.add_argument(
        "--counties",
        type=Path,
        metavar="GEOJSON",
        help="county outlines keyed by 5-digit FIPS (property 'fips'), for alerts with "
        "polygons or circles but no SAME geocodes",
    )
    same.add_argument(
        "--at",
        metavar="TIME|sent",
        help="judge expiry at this ISO 8601 time, or at the alert's own <sent> ('sent', for "
        "archived alerts) (default: now)",
    )
    same.add_argument(
        "--allow-status",
        action="append",
        default=[],
        metavar="STATUS",
        help="also make messages for alerts of this status (Exercise, Test...), for bench "
        "tests only: only Actual alerts go on air",
    )
    same.add_argument(
        "--allow-event",
        action="append",
        default=[],
        metavar="EEE",
        help="accept an event code not in our copy of 47 CFR 11.31(e) (e.g. BLU), if the "
        "current rules and the receivers carry it",
    )
    add_format_option(same)
    same.set_defaults(handler=run_same)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """A ``tocsin`` parser with only the radio commands (tests; the real one uses entry
    points)."""
    parser = argparse.ArgumentParser(prog="tocsin", formatter_class=RawDefaultsFormatter)
    parser.add_argument("--config", metavar="FILE")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a radio command as ``tocsin`` would: the same exit codes and one-line errors."""
    from cap.config import ConfigError
    from cap.errors import CapInputError, CapParseError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except (UsageError, ConfigError, CapInputError) as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CapParseError as exc:
        print(f"tocsin: refused: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CapError as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def judgement_time(value: str | None, alert: Alert, now: datetime) -> datetime | None:
    """The instant expiry is judged at: ``--at`` as given, the alert's <sent>, or now."""
    from cap.timefmt import parse_lenient_datetime

    if value is None:
        return now
    if value == "sent":
        return alert.sent
    parsed = parse_lenient_datetime(value)
    if parsed is None:
        raise UsageError(
            f"--at {value!r}: expected 'sent' or an ISO 8601 time with an offset, "
            "e.g. 2024-05-01T12:00:00-05:00"
        )
    return parsed


def run_same(args: argparse.Namespace) -> int:
    from cap.config import load_config
    from cap.parsing import parse_alert
    from cap.sources import read_source
    from gateways.base import GatewayConfigError
    from gateways.radio.same import SameError, encode_same_header, same_header_for
    from gateways.radio.same_audio import (
        AttentionTone,
        SameAudioError,
        same_message_audio,
        same_message_plan,
    )
    from gateways.radio.speech import (
        EspeakNg,
        SpeechError,
        SpeechUnavailableError,
        spoken_message,
    )
    from gateways.radio.wav import write_wav

    try:
        attention = AttentionTone(
            "nws" if args.weather_radio else "eas", float(args.attention_seconds)
        )
    except SameAudioError as exc:
        raise UsageError(f"--attention-seconds: {exc}") from None
    station_id = args.station_id or load_config(getattr(args, "config", None)).authority.station_id
    if not station_id:
        raise UsageError(
            "no station id: give --station-id (8 characters, e.g. KXYZ/FM) or set station_id "
            "in [authority] of the configuration"
        )
    county_table = _county_table(args.counties)
    document = read_source(args.source)
    alert = parse_alert(document.data).alert
    try:
        header = same_header_for(
            alert,
            info_index=args.info,
            station_id=station_id,
            county_table=county_table,
            allow_statuses={"Actual", *(s.capitalize() for s in args.allow_status)},
            extra_event_codes=args.allow_event,
            now=judgement_time(args.at, alert, datetime.now(UTC)),
        )
    except GatewayConfigError as exc:
        raise UsageError(str(exc)) from None
    except SameError as exc:
        hint = (
            " (an archived alert? judge it as of its sending with --at sent)"
            if args.at is None and "expired at" in str(exc)
            else ""
        )
        return _refused(args, document.label, f"{exc}{hint}")
    speech: Speech | None = None
    if not args.no_speech:
        try:
            speech = spoken_message(alert.infos[args.info], rate=args.rate, engine=EspeakNg())
        except SpeechUnavailableError as exc:
            raise UsageError(str(exc)) from None
        except SpeechError as exc:
            print(f"tocsin: speech failed: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    text = encode_same_header(header)
    spoken = speech.samples if speech is not None and speech.samples.size else None
    samples = same_message_audio(text, rate=args.rate, attention=attention, speech=spoken)
    plan = same_message_plan(
        text,
        rate=args.rate,
        attention=attention,
        speech_samples=0 if spoken is None else spoken.size,
    )
    try:
        write_wav(args.output, samples, args.rate)
    except OSError as exc:
        raise UsageError(f"{args.output}: cannot write the WAV file ({exc.strerror})") from None
    report = same_report(header, text, plan, args.rate, attention, speech)
    report["output"] = str(args.output)
    report["source"] = document.label
    if args.format == "json":
        emit_json(report)
    else:
        sys.stdout.write(_report_text(report))
    return EXIT_OK


def _county_table(path: Path | None) -> CountyTable | None:
    if path is None:
        return None
    from gateways.radio.counties import CountyTableError, load_county_table

    try:
        return load_county_table(path)
    except CountyTableError as exc:
        raise UsageError(f"--counties: {exc}") from None


def _refused(args: argparse.Namespace, label: str, reason: str) -> int:
    print(f"tocsin: refused: {label}: {reason}", file=sys.stderr)
    if args.format == "json":
        emit_json({"source": label, "written": False, "refused": reason})
    return EXIT_BAD_INPUT


def same_report(
    header: SameHeader,
    text: str,
    plan: Sequence[Segment],
    rate: int,
    attention: AttentionTone,
    speech: Speech | None,
) -> dict[str, Any]:
    """What was made, as JSON-ready data."""
    from gateways.radio.same import EVENT_CODES, ORIGINATORS

    notes = list(header.notes) + (list(speech.notes) if speech is not None else [])
    return {
        "written": True,
        "header": text,
        "originator": {"code": header.originator, "name": ORIGINATORS[header.originator]},
        "event": {"code": header.event, "name": EVENT_CODES.get(header.event, "")},
        "locations": list(header.locations),
        "valid_for": header.purge_time,
        "issued": header.issued.isoformat(),
        "station_id": header.station_id,
        "rate": rate,
        "seconds": round(plan[-1].end / rate, 3),
        "attention": {"frequencies_hz": list(attention.frequencies), "seconds": attention.seconds},
        "speech": None
        if speech is None
        else {
            "voice": speech.voice,
            "language": speech.language,
            "seconds": round(speech.seconds, 3),
        },
        "segments": [
            {"kind": s.kind, "start": round(s.start / rate, 4), "end": round(s.end / rate, 4)}
            for s in plan
            if s.kind != "gap"
        ],
        "notes": notes,
    }


def _report_text(report: dict[str, Any]) -> str:
    speech = report["speech"]
    lines = [
        f"wrote {report['output']}: {report['seconds']:.1f} s at {report['rate']} Hz",
        f"  header:    {report['header']}",
        f"  ORG {report['originator']['code']} ({report['originator']['name']}), "
        f"EEE {report['event']['code']} ({report['event']['name']}), "
        f"{len(report['locations'])} location(s), valid {report['valid_for'][:2]}:"
        f"{report['valid_for'][2:]}, issued {report['issued']}",
        "  attention: "
        + " + ".join(f"{hz:g} Hz" for hz in report["attention"]["frequencies_hz"])
        + f", {report['attention']['seconds']:g} s",
        "  speech:    "
        + (
            "none"
            if speech is None
            else f"{speech['seconds']:.1f} s, voice {speech['voice']} ({speech['language']})"
        ),
    ]
    lines += [f"  note: {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


def preview_same(alert: Alert) -> tuple[str, dict[str, object]]:
    """``tocsin preview --channel same``: the header each info block would carry (the station
    adds its own id where ``LLLLLLLL`` stands), or why SAME cannot carry it."""
    from gateways.radio.same import SameError, encode_same_header, same_header_for

    lines = [f"SAME/EAS for {alert.identifier}"]
    items: list[dict[str, object]] = []
    for n in range(len(alert.infos)):
        try:
            header = same_header_for(alert, info_index=n, station_id=PREVIEW_STATION_ID)
        except SameError as exc:
            lines.append(f"[info {n}] not carried: {exc}")
            items.append({"info": n, "header": None, "refused": str(exc), "notes": []})
            continue
        text = encode_same_header(header)
        lines.append(f"[info {n}] {text}")
        lines += [f"  note: {note}" for note in header.notes]
        items.append({"info": n, "header": text, "refused": None, "notes": list(header.notes)})
    if not alert.infos:
        lines.append("no info block: nothing to say on air")
    return "\n".join(lines) + "\n", {
        "channel": "same",
        "identifier": alert.identifier,
        "messages": items,
    }


if __name__ == "__main__":  # `python -m gateways.radio.commands radio same ...` before install
    sys.exit(main())
