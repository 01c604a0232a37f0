"""What a CAP profile is: a named set of extra rules that a community lays on top of CAP 1.2.

A profile only adds checks. The schema and the rules of CAP itself run elsewhere
(:mod:`cap.validation`), so a profile never repeats them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cap.findings import Finding
from cap.model import Alert
from cap.parsing import ParsedAlert

Rules = Callable[[ParsedAlert], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Profile:
    """One profile.

    ``name`` is what the command line accepts (``--profile ipaws``) and the prefix of every
    finding code the profile emits; ``source`` names the document and version the rules come
    from; ``declaration`` lists the ``<code>`` values (or prefixes ending in ``:``) with which
    an alert claims to follow the profile.
    """

    name: str
    title: str
    source: str
    url: str
    rules: Rules = field(repr=False, compare=False)
    declaration: tuple[str, ...] = ()

    def check(self, parsed: ParsedAlert) -> list[Finding]:
        """Every finding of this profile for one alert (pure: no IO, no clock)."""
        return list(self.rules(parsed))

    def is_declared_by(self, alert: Alert) -> bool:
        """Whether the alert's ``<code>`` values say it follows this profile."""
        for code in alert.codes:
            for declared in self.declaration:
                if code.strip() == declared or (
                    declared.endswith(":") and code.strip().startswith(declared)
                ):
                    return True
        return False
