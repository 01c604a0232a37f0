"""A plain-text and a structured summary of an alert, for the person approving it."""

from __future__ import annotations

from datetime import datetime

from cap.model import Alert, Area, Info
from cap.textcodecs import format_circle, format_polygon
from cap.timefmt import format_cap_datetime


def _when(value: datetime | None) -> str | None:
    return format_cap_datetime(value) if value is not None else None


def _area_json(area: Area) -> dict[str, object]:
    return {
        "area_desc": area.area_desc,
        "polygons": [format_polygon(p) for p in area.polygons],
        "circles": [format_circle(c) for c in area.circles],
        "geocodes": {g.value_name: g.value for g in area.geocodes},
    }


def _info_json(info: Info) -> dict[str, object]:
    return {
        "language": info.effective_language,
        "event": info.event,
        "category": list(info.category),
        "urgency": info.urgency,
        "severity": info.severity,
        "certainty": info.certainty,
        "response_type": list(info.response_type),
        "headline": info.headline,
        "description": info.description,
        "instruction": info.instruction,
        "effective": _when(info.effective),
        "onset": _when(info.onset),
        "expires": _when(info.expires),
        "sender_name": info.sender_name,
        "web": info.web,
        "areas": [_area_json(a) for a in info.areas],
    }


def alert_summary(alert: Alert) -> dict[str, object]:
    """The alert's essentials as JSON-ready data."""
    return {
        "identifier": alert.identifier,
        "sender": alert.sender,
        "sent": _when(alert.sent),
        "status": alert.status,
        "msg_type": alert.msg_type,
        "scope": alert.scope,
        "references": [r.as_text() for r in alert.references],
        "infos": [_info_json(i) for i in alert.infos],
    }


def describe_alert(alert: Alert) -> str:
    """The alert laid out as a duty officer reads it before pressing send."""
    lines = [
        f"{alert.msg_type.upper()} {alert.identifier}",
        f"  from {alert.sender}, sent {_when(alert.sent) or '?'}; "
        f"status {alert.status}, scope {alert.scope or '?'}",
    ]
    if alert.status != "Actual":
        lines.append(f"  ** {alert.status.upper()} MESSAGE: not a real-world alert **")
    for ref in alert.references:
        lines.append(f"  supersedes {ref.identifier} from {ref.sender} ({ref.sent_text})")
    if alert.note:
        lines.append(f"  note: {alert.note.strip()}")
    for info in alert.infos:
        lines.append("")
        lines.append(f"  [{info.effective_language}] {info.headline or info.event}")
        lines.append(
            f"    {info.event}: {info.severity} / {info.urgency} / {info.certainty}"
            + (f"; respond: {', '.join(info.response_type)}" if info.response_type else "")
        )
        times = [
            f"{name} {_when(value)}"
            for name, value in (
                ("effective", info.effective),
                ("onset", info.onset),
                ("expires", info.expires),
            )
            if value is not None
        ]
        if times:
            lines.append("    " + ", ".join(times))
        for label, text in (("what", info.description), ("do", info.instruction)):
            if text:
                lines.append(f"    {label}: {' '.join(text.split())}")
        for area in info.areas:
            shapes = []
            if area.polygons:
                points = sum(len(p.points) for p in area.polygons)
                shapes.append(f"{len(area.polygons)} polygon(s), {points} points")
            if area.circles:
                shapes.append(f"{len(area.circles)} circle(s)")
            if area.geocodes:
                codes = ", ".join(f"{g.value_name}={g.value}" for g in area.geocodes[:6])
                more = f" (+{len(area.geocodes) - 6})" if len(area.geocodes) > 6 else ""
                shapes.append(f"geocodes {codes}{more}")
            detail = f" ({'; '.join(shapes)})" if shapes else ""
            lines.append(f"    area: {' '.join(area.area_desc.split())}{detail}")
    return "\n".join(lines) + "\n"
