"""What a reader hands back: the good items, every problem it found, and what it left out on
purpose. A bad row never stops a file; a duty officer fixes the rows the problems name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

T = TypeVar("T")


class Severity(StrEnum):
    ERROR = "error"  # the row or feature was dropped
    INFO = "info"  # kept, but worth knowing (repaired geometry, an area nobody can place)


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one row (CSV: ``line``, 1-based, the header is line 1) or one feature
    (GeoJSON: ``feature``, 1-based in file order), and one field of it."""

    file: str
    line: int | None
    field: str
    value: str | None
    reason: str
    severity: Severity = Severity.ERROR
    feature: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.feature is not None:
            where += f" feature {self.feature}"
        if self.field:
            where += f", field {self.field}"
        if not self.value:  # no value, or an empty one: the reason says so
            return f"{where}: {self.reason}"
        return f"{where}: {self.value!r} {self.reason}"


def _frozen_counts(counts: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(sorted(counts.items())))


@dataclass(frozen=True, slots=True)
class ReadResult(Generic[T]):
    """``rows`` data rows (or features) were looked at; each became an item, an error, or a
    count in ``skipped`` (left out on purpose, by reason: e.g. water figures in a status
    series). Info problems are about kept items."""

    file: str
    items: tuple[T, ...]
    problems: tuple[Problem, ...] = ()
    rows: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "skipped", _frozen_counts(self.skipped))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def infos(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.INFO)
