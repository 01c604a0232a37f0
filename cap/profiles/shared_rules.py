"""Rules that several profiles state in the same words (IPAWS, CAP-CP and CAP-AU share a
common ancestry), written once so that their findings read alike.

Each function takes the finding code to emit and the requirement-table id to cite, because the
same rule carries a different code and clause in each profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cap.findings import Finding, error, warning
from cap.model import Alert, Info
from cap.parsing import ParsedAlert


def info_path(index: int) -> str:
    """Path of the info at 0-based ``index``."""
    return f"/alert/info[{index + 1}]"


def is_blank(text: str | None) -> bool:
    return text is None or not text.strip()


def quoted_set(items: set[str]) -> str:
    return "{" + ", ".join(sorted(items)) + "}" if items else "none"


def info_for_public_messages(alert: Alert, code: str, rule: str) -> list[Finding]:
    """A public Alert, Update or Cancel must carry at least one ``<info>``.

    Ack and Error messages and alerts scoped Restricted or Private are exempt.
    """
    if alert.infos or alert.msg_type in ("Ack", "Error"):
        return []
    if alert.scope in ("Restricted", "Private"):
        return []
    kind = alert.msg_type or "message"
    return [
        error(
            code,
            f"this public {kind} has no <info>; the profile requires at least one so that "
            f"receivers know what the alert is about ({rule})",
            "/alert",
        )
    ]


def same_categories(alert: Alert, code: str, rule: str) -> list[Finding]:
    """Every info must carry the same set of categories (one event per alert)."""
    return list(_same_sets(alert, code, rule, "<category> values", _categories))


def same_event_codes(alert: Alert, code: str, rule: str) -> list[Finding]:
    """Every info must carry the same set of eventCode pairs (one event per alert)."""
    return list(_same_sets(alert, code, rule, "<eventCode> pairs", _event_codes))


def _categories(info: Info) -> set[str]:
    return {c.strip() for c in info.category}


def _event_codes(info: Info) -> set[str]:
    return {f"{e.value_name.strip()}={e.value.strip()}" for e in info.event_codes}


def _same_sets(
    alert: Alert, code: str, rule: str, what: str, key: Callable[[Info], set[str]]
) -> Iterator[Finding]:
    if len(alert.infos) < 2:
        return
    first = key(alert.infos[0])
    for i, info in enumerate(alert.infos[1:], start=1):
        these = key(info)
        if these != first:
            yield error(
                code,
                f"info[{i + 1}] has {what} {quoted_set(these)} but info[1] has "
                f"{quoted_set(first)}; all <info> blocks of one alert describe the same event "
                f"and must carry the same {what} ({rule})",
                info_path(i),
            )


def area_in_every_info(alert: Alert, code: str, rule: str) -> list[Finding]:
    return [
        error(
            code,
            f"info[{i + 1}] has no <area>; the profile requires at least one so that receivers "
            f"know where the alert applies ({rule})",
            info_path(i),
        )
        for i, info in enumerate(alert.infos)
        if not info.areas
    ]


def is_present(parsed: ParsedAlert, path: str) -> bool:
    """Whether the element at ``path`` is in the document with some text (the model keeps
    ``None`` for a time that did not parse, which is a CAP format error reported elsewhere)."""
    return not is_blank(parsed.source_map.text(path))


def expires_recommended(parsed: ParsedAlert, code: str, rule: str) -> list[Finding]:
    return [
        warning(
            code,
            f"info[{i + 1}] has no <expires>; the profile strongly recommends one so that "
            f"receivers know when to stop showing the alert ({rule})",
            f"{info_path(i)}/expires",
        )
        for i in range(len(parsed.alert.infos))
        if not is_present(parsed, f"{info_path(i)}/expires")
    ]


def sender_name_recommended(alert: Alert, code: str, rule: str) -> list[Finding]:
    return [
        warning(
            code,
            f"info[{i + 1}] has no <senderName>; the profile strongly recommends the issuing "
            f"agency's public name, which receivers show to people ({rule})",
            f"{info_path(i)}/senderName",
        )
        for i, info in enumerate(alert.infos)
        if is_blank(info.sender_name)
    ]


def response_type_with_instruction(
    alert: Alert, code_response: str, code_instruction: str, rule: str
) -> list[Finding]:
    """``<responseType>`` is recommended, with an ``<instruction>`` that spells it out.

    A response type of only ``None`` needs no instruction.
    """
    findings: list[Finding] = []
    for i, info in enumerate(alert.infos):
        if not info.response_type:
            findings.append(
                warning(
                    code_response,
                    f"info[{i + 1}] has no <responseType>; the profile recommends one (e.g. "
                    f"Shelter, Evacuate, Monitor) so that the action is clear even where the "
                    f"instruction text is missing or not in the reader's language ({rule})",
                    info_path(i),
                )
            )
        elif set(info.response_type) != {"None"} and is_blank(info.instruction):
            actions = ", ".join(info.response_type)
            findings.append(
                warning(
                    code_instruction,
                    f"info[{i + 1}] asks people to {actions} but has no <instruction>; add the "
                    f"instruction that goes with the response type ({rule})",
                    f"{info_path(i)}/instruction",
                )
            )
    return findings


def geometry_encouraged(alert: Alert, code: str, rule: str) -> list[Finding]:
    """Polygons and circles are encouraged alongside geocodes: one finding per info that has
    areas but no geometry at all."""
    findings: list[Finding] = []
    for i, info in enumerate(alert.infos):
        if not info.areas:
            continue
        if any(area.polygons or area.circles for area in info.areas):
            continue
        findings.append(
            warning(
                code,
                f"info[{i + 1}] describes its areas by <geocode> only; the profile encourages a "
                f"<polygon> or <circle> as well, which receivers treat as the more accurate "
                f"outline ({rule})",
                f"{info_path(i)}/area[1]",
            )
        )
    return findings
