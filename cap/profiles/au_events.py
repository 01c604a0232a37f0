"""AUeventLIST 1.0: the authorised event codes of the Australian profile, shipped as published
in ``data/AUeventLIST1.0.csv`` (copied from google/cap-library; see docs/profiles.md)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

LIST_FILE = "AUeventLIST1.0.csv"


@dataclass(frozen=True, slots=True)
class AuEvent:
    """One row: a Tier I event, optionally narrowed by a Tier II event, and its code."""

    number: int
    tier1: str
    tier2: str
    code: str
    categories: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The ``<event>`` values CAP-AU accepts with this code."""
        return (self.tier1, self.tier2) if self.tier2 else (self.tier1,)


def parse_event_list(text: str) -> dict[str, AuEvent]:
    """Rows keyed by event code; the heading rows (no row number) are skipped."""
    events: dict[str, AuEvent] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 4 or not row[0].strip().isdigit() or not row[3].strip():
            continue
        categories = tuple(c.strip() for c in (row[4] if len(row) > 4 else "").split(",") if c)
        event = AuEvent(int(row[0]), row[1].strip(), row[2].strip(), row[3].strip(), categories)
        events[event.code] = event
    return events


@cache
def au_event_list() -> Mapping[str, AuEvent]:
    """The list shipped with the package (read once)."""
    data = resources.files("cap.profiles").joinpath("data").joinpath(LIST_FILE).read_text("utf-8")
    return parse_event_list(data)
