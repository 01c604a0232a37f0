"""``tocsin preview FILE --channel sms``: each language's SMS, its encoding and segment count."""

from __future__ import annotations

from cap.model import Alert
from gateways.sms.gsm7 import DataCoding, TextEncoding
from gateways.sms.text import compose

PREVIEW_MAX_SEGMENTS = 3


def describe_encoding(encoding: TextEncoding) -> str:
    if encoding.coding is DataCoding.UCS2:
        return "UCS-2"
    parts = ["GSM 7-bit"]
    if encoding.locking_shift is not None:
        parts.append(f"locking shift {encoding.locking_shift.name.title()}")
    if encoding.single_shift is not None:
        parts.append(f"single shift {encoding.single_shift.name.title()}")
    return ", ".join(parts)


def preview_sms(alert: Alert) -> tuple[str, dict[str, object]]:
    """What the SMS channel sends for each info block, with the default segment limit."""
    lines = [f"SMS for {alert.identifier} (at most {PREVIEW_MAX_SEGMENTS} segments per message)"]
    items: list[dict[str, object]] = []
    for n in range(len(alert.infos)):
        sms = compose(alert, n, max_segments=PREVIEW_MAX_SEGMENTS)
        encoding = describe_encoding(sms.plan.encoding)
        cut = ", cut to fit" if sms.truncated else ""
        lines.append(
            f"[{sms.language}] {sms.plan.count} segment(s), {sms.plan.units} "
            f"{'septets' if sms.plan.encoding.coding is DataCoding.GSM7 else 'UCS-2 units'}, "
            f"{encoding}{cut}"
        )
        lines.extend(
            f"  {k}/{sms.plan.count}: {segment}" for k, segment in enumerate(sms.plan.segments, 1)
        )
        items.append(
            {
                "language": sms.language,
                "text": sms.text,
                "encoding": sms.plan.encoding.coding.value,
                "locking_shift": _name(sms.plan.encoding.locking_shift),
                "single_shift": _name(sms.plan.encoding.single_shift),
                "segments": sms.plan.count,
                "units": sms.plan.units,
                "truncated": sms.truncated,
                "segment_texts": list(sms.plan.segments),
            }
        )
    if not alert.infos:
        lines.append("no info block: nothing to say by SMS")
    return "\n".join(lines) + "\n", {
        "channel": "sms",
        "identifier": alert.identifier,
        "max_segments": PREVIEW_MAX_SEGMENTS,
        "messages": items,
    }


def _name(language: object) -> str | None:
    return None if language is None else str(getattr(language, "name", language)).lower()
