"""Upgrading CAP 1.0 and 1.1 alerts to CAP 1.2: what changes and what must be said about it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from cap.model import Alert, Info
from cap.parsing import ParsedAlert
from cap.vocabulary import CERTAINTY


@dataclass(frozen=True, slots=True)
class Conversion:
    """The upgraded alert and one note per change a reviewer should know about."""

    alert: Alert
    notes: tuple[str, ...]


def upgrade_to_cap12(parsed: ParsedAlert, *, scope: str | None = None) -> Conversion:
    """Re-express a parsed alert as CAP 1.2. Values CAP 1.2 renamed are mapped (``Very Likely``
    becomes ``Likely`` as CAP 1.2 section 3.2.2 directs); elements it removed are dropped and
    reported; a missing ``<scope>`` (optional in 1.0) is taken from ``scope`` when given."""
    alert = parsed.alert
    notes: list[str] = []
    if parsed.version == "1.2":
        notes.append("the alert is already CAP 1.2; it was re-written in canonical form")
    smap = parsed.source_map
    if smap.text("/alert/password") is not None:
        notes.append("<password> was removed: CAP 1.1 and later have no such element")
    infos: list[Info] = []
    for index, info in enumerate(alert.infos, 1):
        if info.certainty == "Very Likely":
            notes.append(
                f"info[{index}]: certainty 'Very Likely' became 'Likely' (CAP 1.2 removed the "
                "deprecated value and treats it as 'Likely')"
            )
            info = replace(info, certainty="Likely")
        elif info.certainty not in CERTAINTY["1.2"]:
            notes.append(f"info[{index}]: certainty {info.certainty!r} is not a CAP 1.2 value")
        infos.append(info)
    if parsed.version == "1.0" and any(
        smap.text(p) is not None and "=" in (smap.text(p) or "")
        for p in smap.paths()
        if p.rsplit("/", 1)[-1].startswith(("eventCode", "parameter", "geocode"))
    ):
        notes.append(
            "CAP 1.0 'name=value' event codes, parameters and geocodes became "
            "<valueName>/<value> pairs"
        )
    for path in smap.paths():
        if path.rsplit("/", 1)[-1] not in ("sent", "effective", "onset", "expires"):
            continue
        text = (smap.text(path) or "").strip()
        if text.endswith("Z"):
            notes.append(f"{path} {text!r} was re-written with the offset -00:00")
    new_scope = alert.scope
    if new_scope is None:
        if scope is not None:
            new_scope = scope
            notes.append(f"<scope> was missing (optional in CAP 1.0) and was set to {scope!r}")
        else:
            notes.append(
                "<scope> is missing and CAP 1.2 requires it: give --scope Public|Restricted|Private"
            )
    upgraded = replace(alert, infos=tuple(infos), scope=new_scope)
    return Conversion(upgraded, tuple(notes))
