"""What the reports add up to at an instant T: per site and per area, the probability of
service, how sure we are, since when it is dark and when it was last restored.

The rule, precisely, with its parameters, is in ``docs/outage-merge.md``. In short:

* A report counts at T when it was observed at or before T, is under ``max_age`` old, has not
  been superseded (a later report from the same source about the same subject replaces it),
  and, when ``known_at`` is given, was received by then. Its weight is
  ``trust * 2 ** (-age / half_life)`` for its source kind, times ``area_site_weight`` when an
  area report is applied to a site of the area. Its value is ``1 - share_out`` when it gives a
  share, else 1 (up), 0.5 (degraded) or 0 (down); reports of unknown status carry nothing.
* A unit's (site's, or site-less area's) probability of service is the weighted mean of the
  values of the reports that count; ``unknown`` when none does. Its status: down under
  ``down_below``, up from ``up_from``, degraded in between.
* The state is evaluated at every instant the set of counting reports changes (an
  observation, a supersession, an expiry) up to T; "dark since" is the start of the current
  run of down states, "restored at" the end of the last run that ended. Unknown stretches
  neither start nor end an outage.

Everything is numpy over columns; sums follow a fixed order, so the result does not depend on
the order of the reports.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray

from outage_map.config import MergePolicy
from outage_map.errors import ReportError
from outage_map.inventory import AreaTable, SiteInventory
from outage_map.model import AdminArea, Cause, SourceKind, Status
from outage_map.table import (
    AREA,
    CAUSES,
    GRID,
    POINT,
    POLYGON,
    SITE,
    STATUSES,
    SUBJECT_KINDS,
    ReportTable,
    datetime_of,
    micros,
)

__all__ = [
    "DEGRADED",
    "DOWN",
    "UNKNOWN",
    "UP",
    "AreaState",
    "Contributions",
    "MergeResult",
    "PointAnswer",
    "ReportSummary",
    "SiteState",
    "SiteStates",
    "dark_areas",
    "merge",
    "service_at",
]

_T = TypeVar("_T", bound=np.generic)

UP: Final = 0
DEGRADED: Final = 1
DOWN: Final = 2
UNKNOWN: Final = 3
_VALUE_OF_STATUS: Final = np.array([1.0, 0.5, 0.0, np.nan])
_QUANTUM: Final = 1_000_000_000  # area sums add probabilities as integers of 1e-9
_NEVER: Final = np.iinfo(np.int64).max


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteStates:
    """Per-site state at T, aligned with the inventory. ``probability`` and ``newest_age_s``
    are NaN when unknown (``confidence`` is then 0); ``dark_since``/``restored_at`` are epoch
    seconds, NaN when there is none; ``status`` codes follow :class:`Status` (0 up, 1
    degraded, 2 down, 3 unknown); ``cause`` is the main cause code (order of :class:`Cause`),
    -1 when none was given; ``reports`` counts the reports that count at T."""

    probability: NDArray[np.float64]
    confidence: NDArray[np.float64]
    newest_age_s: NDArray[np.float64]
    status: NDArray[np.int8]
    dark_since: NDArray[np.float64]
    restored_at: NDArray[np.float64]
    cause: NDArray[np.int8]
    reports: NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class SiteState:
    """One site's state, for single answers."""

    site_id: str
    status: Status
    probability: float | None
    confidence: float
    newest_age_s: float | None
    dark_since: datetime | None
    restored_at: datetime | None
    cause: Cause | None
    reports: int


@dataclass(frozen=True, slots=True)
class AreaState:
    """One area at T. ``share_out`` is the expected share of its sites out of service (mean
    of ``1 - probability`` over its sites with a known state), or ``1 - probability`` from its
    own reports when it has no sites (``basis`` says which: ``"sites"``, ``"reports"``,
    ``"none"``). ``causes`` split the outage by cause, largest first, shares summing to 1
    (empty when no report gave a cause)."""

    code: str
    name: str
    status: Status
    share_out: float | None
    confidence: float
    basis: str
    sites_total: int
    sites_known: int
    sites_down: int
    causes: tuple[tuple[Cause, float], ...]
    newest_age_s: float | None
    dark_since: datetime | None
    restored_at: datetime | None


@dataclass(frozen=True, slots=True)
class Contributions:
    """Which reports count at T for which unit (sites ``0..S-1``, then areas ``S + i``), with
    their weight at T; sorted by unit. ``row`` indexes the merged :class:`ReportTable`."""

    unit: NDArray[np.int64]
    row: NDArray[np.int64]
    weight: NDArray[np.float64]

    def of_units(self, units: NDArray[np.int64]) -> NDArray[np.int64]:
        """Indices (into these arrays) of the contributions to any of ``units`` (distinct)."""
        starts = np.searchsorted(self.unit, units, side="left")
        counts = np.searchsorted(self.unit, units, side="right") - starts
        first = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        return np.asarray(first + np.arange(int(counts.sum())), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged state at ``at``, with what it was computed from (for single answers)."""

    at: datetime
    known_at: datetime | None
    policy: MergePolicy
    inventory: SiteInventory
    area_table: AreaTable
    sites: SiteStates
    areas: tuple[AreaState, ...]
    reports: ReportTable
    contributions: Contributions
    reports_counted: int  # observed by T (and received by known_at), with a known status
    reports_unplaced: int  # of those, reports that reached no site or area

    def site(self, site_id: str) -> SiteState:
        i = self.inventory.index.get(site_id)
        if i is None:
            raise ReportError(f"site {site_id!r} is not in the inventory")
        s = self.sites
        cause = int(s.cause[i])
        return SiteState(
            site_id=site_id,
            status=STATUSES[int(s.status[i])],
            probability=_maybe(s.probability[i]),
            confidence=float(s.confidence[i]),
            newest_age_s=_maybe(s.newest_age_s[i]),
            dark_since=_when(s.dark_since[i]),
            restored_at=_when(s.restored_at[i]),
            cause=None if cause < 0 else CAUSES[cause],
            reports=int(s.reports[i]),
        )

    def area(self, code: str) -> AreaState | None:
        i = self.area_table.find(code)
        return None if i is None else self.areas[i]


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """A report that counts in an answer, with its weight at T."""

    report_id: int
    source_kind: SourceKind
    source_name: str
    subject: str
    status: Status
    share_out: float | None
    cause: Cause | None
    observed_at: datetime
    weight: float
    note: str


@dataclass(frozen=True, slots=True)
class PointAnswer:
    """ "Is there service here at T?" ``basis`` is ``"sites"`` (the sites whose coverage holds
    the point: probability that at least one of those with a known state serves, their mean
    confidence), ``"area"`` (no site covers it: the smallest area holding the point whose state
    is known) or ``"none"``."""

    lon: float
    lat: float
    at: datetime
    status: Status
    probability: float | None
    confidence: float
    basis: str
    sites: tuple[str, ...]
    area: str | None
    newest_age_s: float | None
    dark_since: datetime | None
    restored_at: datetime | None
    reports: tuple[ReportSummary, ...]


# --- the merge ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Contribs:
    """Contributions sorted by (unit, observed, then every value that enters the sums)."""

    unit: NDArray[np.int64]
    row: NDArray[np.int64]
    o: NDArray[np.int64]
    end: NDArray[np.int64]
    base: NDArray[np.float64]
    invh: NDArray[np.float64]
    v: NDArray[np.float64]
    cause: NDArray[np.int8]


def merge(
    table: ReportTable,
    inventory: SiteInventory,
    areas: AreaTable | Sequence[AdminArea],
    at: datetime,
    policy: MergePolicy,
    *,
    known_at: datetime | None = None,
) -> MergeResult:
    """The state at ``at`` of every site of ``inventory`` and every area.

    ``known_at`` replays what could be known then: reports received after it are left out.
    Without it, every report observed by ``at`` counts, however late it arrived (the best
    account of that instant). Pure: same arguments, same result."""
    area_table = areas if isinstance(areas, AreaTable) else AreaTable.build(areas, inventory)
    t_us = micros(at)
    usable = (table.observed_us <= t_us) & (table.status != UNKNOWN)
    if known_at is not None:
        usable &= table.received_us <= micros(known_at)
    rows = np.flatnonzero(usable).astype(np.int64)
    area_rows = rows[table.subject_kind[rows] == AREA]
    # Codes no area has become areas of their own, in code order (not arrival order).
    area_table = area_table.with_codes(
        sorted(table.keys[int(k)] for k in np.unique(table.key[area_rows]))
    )
    n_sites, n_areas = len(inventory), len(area_table)
    n_units = n_sites + n_areas

    end = _ends(table, rows, round(policy.max_age_s * 1e6))
    unit, which = _place(table, rows, inventory, area_table)
    contribs = _sorted_contribs(table, rows, unit, which, end, n_sites, policy)
    placed = np.zeros(len(rows), np.bool_)
    placed[which] = True

    now = _state_at(contribs, t_us, n_units)
    events = _events(contribs, t_us)
    weight, weighted = _event_sums(contribs, events)
    # The sums at T are the same additions in the same order; take them from the state at T
    # so that site and area figures agree to the last bit.
    final = events.final[now.units]
    weight[final] = now.weight[now.units]
    weighted[final] = now.weighted_value[now.units]
    ev_p = np.divide(weighted, weight, out=np.full(len(weight), np.nan), where=weight > 0)
    dark, restored = _runs(events.unit, events.t, _status_codes(ev_p, policy), n_units)

    probability = np.divide(
        now.weighted_value, now.weight, out=np.full(n_units, np.nan), where=now.weight > 0
    )
    confidence = _confidence(now)
    newest_age = np.where(now.weight > 0, (t_us - now.newest_us) * 1e-6, np.nan)
    status = _status_codes(probability, policy)
    sites = SiteStates(
        probability=_ro(probability[:n_sites]),
        confidence=_ro(confidence[:n_sites]),
        newest_age_s=_ro(newest_age[:n_sites]),
        status=_ro(status[:n_sites]),
        dark_since=_ro(dark[:n_sites]),
        restored_at=_ro(restored[:n_sites]),
        cause=_ro(_main_cause(now.cause_mass[:n_sites])),
        reports=_ro(now.count[:n_sites]),
    )
    live = now.live
    contributions = Contributions(
        unit=_ro(contribs.unit[live]),
        row=_ro(contribs.row[live]),
        weight=_ro(now.pair_weight),
    )
    history = (events.unit, events.t, ev_p)
    del contribs, events, weight, weighted  # the area history needs the memory
    area_states = _area_states(
        area_table,
        sites,
        now.cause_mass[:n_sites],
        (probability, confidence, newest_age, status, dark, restored, now.cause_mass),
        n_sites,
        history,
        t_us,
        policy,
    )
    return MergeResult(
        at=at,
        known_at=known_at,
        policy=policy,
        inventory=inventory,
        area_table=area_table,
        sites=sites,
        areas=area_states,
        reports=table,
        contributions=contributions,
        reports_counted=len(rows),
        reports_unplaced=int((~placed).sum()),
    )


def _ends(table: ReportTable, rows: NDArray[np.int64], max_age_us: int) -> NDArray[np.int64]:
    """When each report stops counting: at the next later observation by the same source of the
    same subject, or when it reaches ``max_age``, whichever comes first."""
    n = len(rows)
    observed = table.observed_us[rows]
    if n == 0:
        return observed.copy()
    group = _subject_groups(table, rows)
    order = _order(group, observed)
    sorted_group, sorted_obs = group[order], observed[order]
    new_run = np.ones(n, np.bool_)
    new_run[1:] = (sorted_group[1:] != sorted_group[:-1]) | (sorted_obs[1:] != sorted_obs[:-1])
    run_id = np.cumsum(new_run) - 1
    next_start = np.append(np.flatnonzero(new_run)[1:], n)[run_id]
    safe = np.minimum(next_start, n - 1)
    superseded = (next_start < n) & (sorted_group[safe] == sorted_group)
    end = np.empty(n, np.int64)
    end[order] = np.minimum(np.where(superseded, sorted_obs[safe], _NEVER), sorted_obs + max_age_us)
    return end


def _subject_groups(table: ReportTable, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """A number per report, equal for reports from the same source about the same subject."""
    n_names = max(len(table.names), 1)
    source = (
        table.source_kind[rows].astype(np.int64) * 8 + table.subject_kind[rows].astype(np.int64)
    ) * n_names + table.source_name[rows].astype(np.int64)
    kind = table.subject_kind[rows]
    keyed = (kind == SITE) | (kind == AREA)
    group = source * (len(table.keys) + 1) + table.key[rows].astype(np.int64) + 1
    placed = np.flatnonzero(~keyed)
    if len(placed):
        r = rows[placed]
        columns = np.stack(
            [
                source[placed],
                table.polygon[r].astype(np.int64),
                table.lon[r].view(np.int64),
                table.lat[r].view(np.int64),
                table.extent[r].view(np.int64),
            ],
            axis=1,
        )
        _, inverse = np.unique(columns, axis=0, return_inverse=True)
        keyed_max = int(group[keyed].max()) + 1 if keyed.any() else 0
        group[placed] = keyed_max + inverse.reshape(-1)
    return group


def _place(
    table: ReportTable,
    rows: NDArray[np.int64],
    inventory: SiteInventory,
    areas: AreaTable,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(unit, position in ``rows``) for every report and every unit it speaks of."""
    n_sites = len(inventory)
    kind = table.subject_kind[rows]
    units: list[NDArray[np.int64]] = []
    which: list[NDArray[np.int64]] = []

    def add(unit: NDArray[np.int64], pos: NDArray[np.int64], check_tech: bool) -> None:
        if check_tech and len(pos):  # units are sites here
            mask = table.tech_mask[rows[pos]].astype(np.int64)
            tech = inventory.technology[unit].astype(np.int64)
            fits = (mask == 0) | (tech < 0) | (((mask >> np.maximum(tech, 0)) & 1) == 1)
            unit, pos = unit[fits], pos[fits]
        units.append(unit.astype(np.int64))
        which.append(pos.astype(np.int64))

    # Site subjects: the site itself, whatever technologies the report names.
    pos = np.flatnonzero(kind == SITE)
    if len(pos):
        key_site = inventory.indices_of(table.keys)
        site = key_site[table.key[rows[pos]]]
        add(site[site >= 0], pos[site >= 0], check_tech=False)
    # Points: every site that could serve the place.
    pos = np.flatnonzero(kind == POINT)
    if len(pos):
        r = rows[pos]
        q, site = inventory.near(table.lon[r], table.lat[r], table.extent[r])
        add(site, pos[q], check_tech=True)
    pos = np.flatnonzero(kind == GRID)
    if len(pos):
        r = rows[pos]
        q, site = inventory.in_cells(table.lon[r], table.lat[r], table.extent[r])
        add(site, pos[q], check_tech=True)
    pos = np.flatnonzero(kind == POLYGON)
    if len(pos):
        distinct, inverse = np.unique(table.polygon[rows[pos]], return_inverse=True)
        q, site = inventory.touching([table.polygons[int(i)] for i in distinct])
        offsets = np.searchsorted(q, np.arange(len(distinct) + 1))
        report, member = _expand(offsets, site, inverse.astype(np.int64))
        add(member, pos[report], check_tech=True)
    # Areas: the area itself (when it has no sites), and each of its sites, weaker.
    pos = np.flatnonzero(kind == AREA)
    if len(pos):
        found = [areas.find(k) for k in table.keys]
        key_area = np.array([-1 if f is None else f for f in found], np.int64)
        area = key_area[table.key[rows[pos]]]
        site_less = areas.member_counts()[area] == 0
        add(n_sites + area[site_less], pos[site_less], check_tech=False)
        report, member = _expand(areas.member_offsets, areas.member_sites, area)
        add(member, pos[report], check_tech=True)
    if not units:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(units), np.concatenate(which)


def _expand(
    offsets: NDArray[np.int64], values: NDArray[np.int64], groups: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For CSR lists (``values[offsets[g]:offsets[g + 1]]`` belong to group ``g``) and one
    group per item: (item, value) for every value of every item's group."""
    first = offsets[groups]
    counts = offsets[groups + 1] - first
    total = int(counts.sum())
    item = np.repeat(np.arange(len(groups), dtype=np.int64), counts)
    position = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(total)
    return item, values[position].astype(np.int64)


def _sort_key(
    unit: NDArray[np.int64], t: NDArray[np.int64]
) -> tuple[NDArray[np.int64] | None, int, int]:
    """One int64 per (unit, t) that sorts like the pair, when both fit in 63 bits."""
    if not len(t):
        return np.zeros(0, np.int64), 0, 0
    origin = int(t.min())
    time_bits = max((int(t.max()) - origin).bit_length(), 1)
    if time_bits + max(int(unit.max()).bit_length(), 1) > 62:
        return None, origin, time_bits
    return (unit << time_bits) | (t - origin), origin, time_bits


def _order(unit: NDArray[np.int64], t: NDArray[np.int64]) -> NDArray[np.int64]:
    """An order by (unit, t); equal pairs in no particular order (callers that care about
    ties order them themselves)."""
    key, _, _ = _sort_key(unit, t)
    if key is None:
        return np.lexsort((t, unit)).astype(np.int64)
    return np.argsort(key, kind="quicksort").astype(np.int64)


def _sorted_contribs(
    table: ReportTable,
    rows: NDArray[np.int64],
    unit: NDArray[np.int64],
    which: NDArray[np.int64],
    end: NDArray[np.int64],
    n_sites: int,
    policy: MergePolicy,
) -> _Contribs:
    """Contributions by (unit, observed), each with its weight parameters and value."""
    order = _order(unit, table.observed_us[rows[which]])
    unit, which = unit[order], which[order]
    r = rows[which]
    o = table.observed_us[r]
    e = end[which]
    kind = table.source_kind[r].astype(np.int64)
    spread = (unit < n_sites) & (table.subject_kind[r] == AREA)  # an area report on a site
    base = policy.trust_by_code()[kind] * np.where(spread, policy.area_site_weight, 1.0)
    invh = 1.0 / policy.half_life_by_code()[kind]
    share = table.share_out[r]
    v = np.where(np.isnan(share), _VALUE_OF_STATUS[table.status[r]], 1.0 - share)
    cause = table.cause[r]
    # Contributions to one unit observed at the same instant are put in an order that does
    # not depend on the order reports came in: by every value that enters a sum (equal ones
    # are interchangeable), the row only last, for listing.
    same = (unit[1:] == unit[:-1]) & (o[1:] == o[:-1])
    tied = np.zeros(len(unit), np.bool_)
    tied[1:] |= same
    tied[:-1] |= same
    at = np.flatnonzero(tied)
    if len(at):
        fix = at[np.lexsort((r[at], cause[at], v[at], base[at], invh[at], e[at], o[at], unit[at]))]
        unit[at], r[at], o[at], e[at] = unit[fix], r[fix], o[fix], e[fix]
        base[at], invh[at], v[at], cause[at] = base[fix], invh[fix], v[fix], cause[fix]
    return _Contribs(unit=unit, row=r, o=o, end=e, base=base, invh=invh, v=v, cause=cause)


@dataclass(frozen=True, slots=True)
class _Events:
    """Distinct (unit, instant) at which a unit's set of counting reports changes, sorted;
    the last of each unit is T. Contribution ``j`` counts at events ``start[j]`` to
    ``stop[j] - 1``; ``final[u]`` is unit ``u``'s event at T (-1: none)."""

    unit: NDArray[np.int64]
    t: NDArray[np.int64]
    start: NDArray[np.int64]
    stop: NDArray[np.int64]
    final: NDArray[np.int64]


def _events(c: _Contribs, t_us: int) -> _Events:
    n = len(c.unit)
    units = np.unique(c.unit)
    ending = np.flatnonzero(c.end <= t_us)
    unit = np.concatenate([c.unit, c.unit[ending], units])
    t = np.concatenate([c.o, c.end[ending], np.full(len(units), t_us, np.int64)])
    order = _order(unit, t)
    su, st = unit[order], t[order]
    keep = np.ones(len(order), np.bool_)
    keep[1:] = (su[1:] != su[:-1]) | (st[1:] != st[:-1])
    index = np.empty(len(order), np.int64)
    index[order] = np.cumsum(keep) - 1  # the event of every entry
    ev_unit, ev_t = su[keep], st[keep]
    final = np.full(int(units.max()) + 1 if len(units) else 0, -1, np.int64)
    final[units] = index[n + len(ending) :]
    stop = final[c.unit] + 1
    stop[ending] = index[n : n + len(ending)]
    return _Events(ev_unit, ev_t, index[:n], stop, final)


_PAIRS_PER_CHUNK: Final = 2_000_000


def _event_sums(c: _Contribs, ev: _Events) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sum of weights and of weighted values of the reports that count at each event: every
    (event, contribution) pair where the contribution counts, in chunks of whole units."""
    n_events = len(ev.t)
    weight = np.zeros(n_events)
    weighted = np.zeros(n_events)
    span = ev.stop - ev.start
    if not len(span):
        return weight, weighted
    cumulative = np.cumsum(span)
    unit_starts = np.flatnonzero(np.append(True, c.unit[1:] != c.unit[:-1]))
    # Chunk boundaries at unit starts, about _PAIRS_PER_CHUNK pairs apart.
    wanted = np.arange(_PAIRS_PER_CHUNK, int(cumulative[-1]), _PAIRS_PER_CHUNK)
    before = cumulative[unit_starts] - span[unit_starts]  # pairs before each unit
    cuts = unit_starts[np.minimum(np.searchsorted(before, wanted), len(unit_starts) - 1)]
    bounds = np.unique(np.concatenate([[0], cuts[cuts > 0], [len(span)]]))
    for a, b in itertools.pairwise(bounds.tolist()):
        spans = span[a:b]
        total = int(spans.sum())
        j = np.repeat(np.arange(a, b), spans)
        step = np.arange(total) - np.repeat(np.cumsum(spans) - spans, spans)
        e = ev.start[j] + step
        age_s = (ev.t[e] - c.o[j]) * 1e-6
        w = c.base[j] * np.exp2(-age_s * c.invh[j])
        first = int(ev.start[a])
        local = e - first
        size = int(e.max()) - first + 1
        weight[first : first + size] += np.bincount(local, weights=w, minlength=size)
        weighted[first : first + size] += np.bincount(local, weights=w * c.v[j], minlength=size)
    return weight, weighted


@dataclass(frozen=True, slots=True)
class _Now:
    """Per-unit sums at T over the contributions that count then (``live``)."""

    units: NDArray[np.int64]  # units with any contribution
    live: NDArray[np.bool_]
    pair_weight: NDArray[np.float64]
    weight: NDArray[np.float64]
    weighted_value: NDArray[np.float64]
    weighted_square: NDArray[np.float64]
    log_doubt: NDArray[np.float64]  # sum of log(1 - w)
    newest_us: NDArray[np.int64]
    cause_mass: NDArray[np.float64]  # (units, causes): sum of w * (1 - v)
    count: NDArray[np.int32]


def _state_at(c: _Contribs, t_us: int, n_units: int) -> _Now:
    live = c.end > t_us  # observed by T already; end is at most observed + max_age
    unit = c.unit[live]
    o, v = c.o[live], c.v[live]
    w = c.base[live] * np.exp2(-(t_us - o) * 1e-6 * c.invh[live])

    def total(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.bincount(unit, weights=values, minlength=n_units), np.float64)

    newest = np.full(n_units, np.iinfo(np.int64).min, np.int64)
    last = np.flatnonzero(np.append(unit[1:] != unit[:-1], True)) if len(unit) else unit
    newest[unit[last]] = o[last]  # sorted by time within a unit
    cause = c.cause[live]
    out_mass = w * (1.0 - v)
    cause_mass = np.zeros((n_units, len(CAUSES)))
    for k in range(len(CAUSES)):
        cause_mass[:, k] = total(np.where(cause == k, out_mass, 0.0))
    return _Now(
        units=np.unique(c.unit),
        live=live,
        pair_weight=w,
        weight=total(w),
        weighted_value=total(w * v),
        weighted_square=total(w * v * v),
        log_doubt=total(np.log1p(-np.minimum(w, 1.0 - 1e-12))),
        newest_us=newest,
        cause_mass=cause_mass,
        count=np.bincount(unit, minlength=n_units).astype(np.int32),
    )


def _confidence(d: _Now) -> NDArray[np.float64]:
    """Evidence (the chance that at least one counting report is right, each report's weight
    taken as that chance) times agreement (1 - 4 * weighted variance of the values)."""
    evidence = -np.expm1(d.log_doubt)
    safe = np.where(d.weight > 0, d.weight, 1.0)
    mean = d.weighted_value / safe
    variance = np.clip(d.weighted_square / safe - mean * mean, 0.0, 0.25)
    return np.where(d.weight > 0, evidence * (1.0 - 4.0 * variance), 0.0)


def _status_codes(p: NDArray[np.float64], policy: MergePolicy) -> NDArray[np.int8]:
    # A weighted mean of one figure can come back a hair off it (0.9 as 0.8999999999999999);
    # a figure on a threshold must land on it.
    p = np.round(p, _THRESHOLD_DIGITS)
    codes = np.full(len(p), UNKNOWN, np.int8)
    known = ~np.isnan(p)
    codes[known & (p < policy.down_below)] = DOWN
    codes[known & (p >= policy.down_below) & (p < policy.up_from)] = DEGRADED
    codes[known & (p >= policy.up_from)] = UP
    return codes


def _runs(
    unit: NDArray[np.int64], t: NDArray[np.int64], status: NDArray[np.int8], n_units: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Dark since / restored at (epoch seconds, NaN) from states at sorted (unit, t) events
    whose last per unit is at T. Unknown events are skipped: they neither start nor end a run."""
    dark = np.full(n_units, np.nan)
    restored = np.full(n_units, np.nan)
    known = status != UNKNOWN
    ku, kt, down = unit[known], t[known], status[known] == DOWN
    if len(ku) == 0:
        return dark, restored
    same = np.zeros(len(ku), np.bool_)
    same[1:] = ku[1:] == ku[:-1]
    prev_down = np.zeros(len(ku), np.bool_)
    prev_down[1:] = down[:-1]
    prev_down &= same
    index = np.arange(len(ku))
    last_start = np.maximum.accumulate(np.where(down & ~prev_down, index, -1))
    last_restore = np.maximum.accumulate(np.where(~down & prev_down, index, -1))
    last = np.flatnonzero(np.append(ku[1:] != ku[:-1], True))  # last known event of each unit
    seg_start = np.flatnonzero(~same)
    first_of_last = seg_start[np.searchsorted(seg_start, last, side="right") - 1]
    # Dark since: only where the unit's state at T is known and down.
    final_known = np.zeros(n_units, np.bool_)
    final_t = np.full(n_units, -1, np.int64)
    ends = np.flatnonzero(np.append(unit[1:] != unit[:-1], True))
    final_known[unit[ends]] = status[ends] != UNKNOWN
    final_t[unit[ends]] = t[ends]
    lu = ku[last]
    is_dark = down[last] & final_known[lu] & (kt[last] == final_t[lu])
    dark[lu[is_dark]] = kt[last_start[last[is_dark]]] * 1e-6
    r = last_restore[last]
    ok = r >= first_of_last
    restored[lu[ok]] = kt[r[ok]] * 1e-6
    return dark, restored


def _main_cause(mass: NDArray[np.float64]) -> NDArray[np.int8]:
    total = mass.sum(axis=1)
    return np.where(total > 0, np.argmax(mass, axis=1), -1).astype(np.int8)


def _area_states(
    areas: AreaTable,
    sites: SiteStates,
    site_cause_mass: NDArray[np.float64],
    units: tuple[
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.int8],
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.float64],
    ],
    n_sites: int,
    events: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    t_us: int,
    policy: MergePolicy,
) -> tuple[AreaState, ...]:
    probability, confidence, newest_age, status, dark, restored, cause_mass = units
    n_areas = len(areas)
    counts = areas.member_counts()
    area_of, site_of = areas.pairs()
    known = sites.status[site_of] != UNKNOWN
    p = sites.probability[site_of]
    # Site-based aggregates at T.
    sites_known = np.bincount(area_of[known], minlength=n_areas)
    sites_down = np.bincount(area_of[sites.status[site_of] == DOWN], minlength=n_areas)
    conf_sum = np.bincount(
        area_of[known], weights=sites.confidence[site_of][known], minlength=n_areas
    )
    newest = np.full(n_areas, np.inf)
    np.minimum.at(newest, area_of[known], sites.newest_age_s[site_of][known])
    mass_total = site_cause_mass.sum(axis=1)
    frac = np.divide(
        site_cause_mass,
        mass_total[:, None],
        out=np.zeros_like(site_cause_mass),
        where=mass_total[:, None] > 0,
    )
    out_share = np.where(known, 1.0 - np.nan_to_num(p), 0.0)
    area_causes = np.zeros((n_areas, len(CAUSES)))
    for c in range(len(CAUSES)):
        area_causes[:, c] = np.bincount(
            area_of, weights=out_share * frac[site_of, c], minlength=n_areas
        )
    service, a_dark, a_restored = _area_history(areas, events, n_sites, t_us, policy)

    states: list[AreaState] = []
    for i in range(n_areas):
        unit = n_sites + i
        if counts[i] > 0:
            k = int(sites_known[i])
            share = None if k == 0 else 1.0 - float(service[i])
            states.append(
                AreaState(
                    code=areas.codes[i],
                    name=areas.names[i],
                    status=_status_of_share(share, policy),
                    share_out=share,
                    confidence=float(conf_sum[i]) / int(counts[i]),
                    basis="sites",
                    sites_total=int(counts[i]),
                    sites_known=k,
                    sites_down=int(sites_down[i]),
                    causes=_cause_list(area_causes[i]),
                    newest_age_s=None if k == 0 else float(newest[i]),
                    dark_since=_when(a_dark[i]),
                    restored_at=_when(a_restored[i]),
                )
            )
        else:
            p_own = float(probability[unit])
            share = None if math.isnan(p_own) else 1.0 - p_own
            states.append(
                AreaState(
                    code=areas.codes[i],
                    name=areas.names[i],
                    status=STATUSES[int(status[unit])],
                    share_out=share,
                    confidence=float(confidence[unit]),
                    basis="none" if share is None else "reports",
                    sites_total=0,
                    sites_known=0,
                    sites_down=0,
                    causes=_cause_list(cause_mass[unit]),
                    newest_age_s=_maybe(newest_age[unit]),
                    dark_since=_when(dark[unit]),
                    restored_at=_when(restored[unit]),
                )
            )
    return tuple(states)


def _area_history(
    areas: AreaTable,
    events: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    n_sites: int,
    t_us: int,
    policy: MergePolicy,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """For areas with sites: mean service over known sites at T, and dark since / restored at
    from that mean evaluated at every change of any of its sites (exact integer sums)."""
    n_areas = len(areas)
    ev_unit, ev_t, ev_p = events
    is_site = ev_unit < n_sites
    s_unit, s_t, s_p = ev_unit[is_site], ev_t[is_site], ev_p[is_site]
    known = ~np.isnan(s_p)
    x = np.where(known, np.round(np.nan_to_num(s_p) * _QUANTUM), 0).astype(np.int64)
    c = known.astype(np.int64)
    first = np.ones(len(s_unit), np.bool_)
    first[1:] = s_unit[1:] != s_unit[:-1]
    dx = x - np.where(first, 0, np.roll(x, 1))
    dc = c - np.where(first, 0, np.roll(c, 1))
    # Expand each site event to the areas holding the site.
    area_of, site_of = areas.pairs()
    by_site = np.argsort(site_of, kind="stable")
    offsets = np.searchsorted(site_of[by_site], np.arange(n_sites + 1))
    event, area = _expand(offsets, area_of[by_site], s_unit)
    with_sites = np.flatnonzero(areas.member_counts() > 0)
    area = np.concatenate([area, with_sites])
    t = np.concatenate([s_t[event], np.full(len(with_sites), t_us, np.int64)])
    dx_all = np.concatenate([dx[event], np.zeros(len(with_sites), np.int64)])
    dc_all = np.concatenate([dc[event], np.zeros(len(with_sites), np.int64)])
    service = np.full(n_areas, np.nan)
    if not len(area):
        return service, np.full(n_areas, np.nan), np.full(n_areas, np.nan)
    order = _order(area, t)
    area, t, dx_all, dc_all = area[order], t[order], dx_all[order], dc_all[order]
    sum_x, sum_c = np.cumsum(dx_all), np.cumsum(dc_all)
    seg = np.ones(len(area), np.bool_)
    seg[1:] = area[1:] != area[:-1]
    seg_first = np.maximum.accumulate(np.where(seg, np.arange(len(area)), 0))
    base_x = np.where(seg_first > 0, sum_x[seg_first - 1], 0)
    base_c = np.where(seg_first > 0, sum_c[seg_first - 1], 0)
    sum_x, sum_c = sum_x - base_x, sum_c - base_c
    last_of_instant = np.append((area[1:] != area[:-1]) | (t[1:] != t[:-1]), True)
    area, t = area[last_of_instant], t[last_of_instant]
    sum_x, sum_c = sum_x[last_of_instant], sum_c[last_of_instant]
    mean = np.divide(sum_x, sum_c * _QUANTUM, out=np.full(len(t), np.nan), where=sum_c > 0)
    status = _status_codes(mean, policy)
    dark, restored = _runs(area, t, status, n_areas)
    at_t = t == t_us
    service[area[at_t]] = mean[at_t]
    return service, dark, restored


def _status_of_share(share: float | None, policy: MergePolicy) -> Status:
    if share is None:
        return Status.UNKNOWN
    return Status(policy.status_of(1.0 - share))


_THRESHOLD_DIGITS = 9


def _cause_list(mass: NDArray[np.float64]) -> tuple[tuple[Cause, float], ...]:
    total = float(mass.sum())
    if not total > 0:
        return ()
    shares = [(CAUSES[i], float(mass[i]) / total) for i in range(len(CAUSES)) if mass[i] > 0]
    return tuple(sorted(shares, key=lambda item: (-item[1], item[0].value)))


# --- single answers ----------------------------------------------------------------------------


def service_at(
    result: MergeResult, lon: float, lat: float, *, max_reports: int = 20
) -> PointAnswer:
    """Is there service at this place at ``result.at``? Uses the same combination as the
    GeoTIFF: ``1 - prod(1 - p)`` over the covering sites whose state is known."""
    inventory, sites = result.inventory, result.sites
    covering = inventory.covering(lon, lat)
    known = covering[sites.status[covering] != UNKNOWN]
    if len(known):
        p = sites.probability[known]
        probability = float(1.0 - np.prod(1.0 - p))
        status = Status(result.policy.status_of(probability))
        down = known[sites.status[known] == DOWN]
        dark = float(np.max(sites.dark_since[down])) if len(down) else math.nan
        restored = sites.restored_at[known]
        restored = restored[~np.isnan(restored)]
        return PointAnswer(
            lon=lon,
            lat=lat,
            at=result.at,
            status=status,
            probability=probability,
            confidence=float(np.mean(sites.confidence[known])),
            basis="sites",
            sites=tuple(inventory.site_ids[int(i)] for i in covering),
            area=None,
            newest_age_s=float(np.nanmin(sites.newest_age_s[known])),
            dark_since=_when(dark) if status == Status.DOWN else None,
            restored_at=_when(float(restored.max())) if len(restored) else None,
            reports=_summaries(result, known, max_reports),
        )
    area = _smallest_known_area(result, lon, lat)
    if area is not None:
        state = result.areas[area]
        assert state.share_out is not None
        units = (
            result.area_table.members(area)  # site indices are their unit numbers
            if state.basis == "sites"
            else np.array([len(inventory) + area], np.int64)
        )
        return PointAnswer(
            lon=lon,
            lat=lat,
            at=result.at,
            status=state.status,
            probability=1.0 - state.share_out,
            confidence=state.confidence,
            basis="area",
            sites=tuple(inventory.site_ids[int(i)] for i in covering),
            area=state.code,
            newest_age_s=state.newest_age_s,
            dark_since=state.dark_since,
            restored_at=state.restored_at,
            reports=_summaries(result, units, max_reports),
        )
    return PointAnswer(
        lon=lon,
        lat=lat,
        at=result.at,
        status=Status.UNKNOWN,
        probability=None,
        confidence=0.0,
        basis="none",
        sites=tuple(inventory.site_ids[int(i)] for i in covering),
        area=None,
        newest_age_s=None,
        dark_since=None,
        restored_at=None,
        reports=(),
    )


def _smallest_known_area(result: MergeResult, lon: float, lat: float) -> int | None:
    point = shapely.Point(lon, lat)
    best: tuple[float, int] | None = None
    for i, geometry in enumerate(result.area_table.geometries):
        state = result.areas[i]
        if geometry is None or state.share_out is None:
            continue
        if shapely.intersects(geometry, point):
            size = float(shapely.area(geometry))
            if best is None or size < best[0]:
                best = (size, i)
    return None if best is None else best[1]


def _summaries(
    result: MergeResult, units: NDArray[np.int64], limit: int
) -> tuple[ReportSummary, ...]:
    found = result.contributions.of_units(np.unique(units))
    if not len(found):
        return ()
    rows = result.contributions.row[found]
    weights = result.contributions.weight[found]
    # One line per report: its largest weight on any of these units.
    order = np.lexsort((-weights, rows))
    rows, weights = rows[order], weights[order]
    first = np.ones(len(rows), np.bool_)
    first[1:] = rows[1:] != rows[:-1]
    rows, weights = rows[first], weights[first]
    ids = result.reports.ids[rows]
    best = np.lexsort((ids, -weights))[:limit]
    table = result.reports
    out: list[ReportSummary] = []
    for i in best:
        out.append(report_summary(table, int(rows[i]), float(weights[i])))
    return tuple(out)


def report_summary(table: ReportTable, row: int, weight: float) -> ReportSummary:
    """One report as a query answer shows it, with the weight it carried."""
    report = table.report(row)
    kind = SUBJECT_KINDS[int(table.subject_kind[row])]
    key = int(table.key[row])
    return ReportSummary(
        report_id=int(table.ids[row]),
        source_kind=report.source.kind,
        source_name=report.source.name,
        subject=f"{kind} {table.keys[key]}" if key >= 0 else kind,
        status=report.status,
        share_out=report.share_out,
        cause=report.cause,
        observed_at=report.observed_at,
        weight=weight,
        note=report.note,
    )


def dark_areas(result: MergeResult, min_out: float = 0.5) -> tuple[AreaState, ...]:
    """Areas whose share of sites out is at least ``min_out``, worst first (share out, then
    confidence, then code)."""
    dark = [a for a in result.areas if a.share_out is not None and a.share_out >= min_out]
    return tuple(sorted(dark, key=lambda a: (-(a.share_out or 0.0), -a.confidence, a.code)))


# --- helpers -----------------------------------------------------------------------------------


def _ro(array: NDArray[_T]) -> NDArray[_T]:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def _maybe(value: float | np.floating) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def _when(seconds: float | np.floating) -> datetime | None:
    number = float(seconds)
    if math.isnan(number):
        return None
    return datetime_of(round(number * 1e6))
