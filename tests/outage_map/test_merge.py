"""The merge: what reports add up to at an instant, per site and per area.

Worked examples fix the rule (weights, supersession, expiry, dark since / restored at, area
shares); property tests show what must hold for any reports: arrival order does not matter,
a report observed after T or an older report observed after an instant does not change the
answer at that instant.
"""

from __future__ import annotations

import csv
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from outage_map import merge as merge_module
from outage_map.config import MergePolicy
from outage_map.inventory import AreaTable, SiteInventory
from outage_map.merge import MergeResult, dark_areas, merge, service_at
from outage_map.model import (
    AdminArea,
    AreaSubject,
    Cause,
    GridSubject,
    PointSubject,
    PolygonSubject,
    Report,
    Site,
    SiteSubject,
    Source,
    SourceKind,
    Status,
    Subject,
    Technology,
)
from outage_map.table import ReportTable

T0 = datetime(2024, 9, 1, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = MergePolicy()
OPERATOR = Source(SourceKind.OPERATOR, "telco")
OPERATOR_B = Source(SourceKind.OPERATOR, "other-telco")
REGULATOR = Source(SourceKind.REGULATOR, "regulator")
CROWD = Source(SourceKind.CROWD, "app")
FIELD = Source(SourceKind.FIELD_TEAM, "team-1")
PROBE = Source(SourceKind.PROBE, "pings")

SITES = (
    Site("a", 10.00, 10.00, 1000.0, Technology.GSM),
    Site("b", 10.05, 10.00, 1000.0, Technology.LTE),
    Site("c", 10.50, 10.50, 500.0, Technology.UMTS),
    Site("d", 10.52, 10.50, None, None),  # default range: 3 km
)
AREAS = (
    AdminArea("X", "Ecks", box(9.9, 9.9, 10.2, 10.2)),  # holds a and b
    AdminArea("Y", "Why", box(10.4, 10.4, 10.6, 10.6)),  # holds c and d
    AdminArea("Z", "Zed", box(20.0, 20.0, 21.0, 21.0)),  # no sites
)
INVENTORY = SiteInventory.from_sites(SITES, POLICY)
AREA_TABLE = AreaTable.build(AREAS, INVENTORY)


def report(
    hours: float,
    subject: Subject | str,
    status: Status,
    source: Source = OPERATOR,
    *,
    received_hours: float | None = None,
    cause: Cause | None = None,
    share_out: float | None = None,
    technologies: frozenset[Technology] = frozenset(),
) -> Report:
    at = T0 + hours * H
    return Report(
        observed_at=at,
        received_at=at if received_hours is None else T0 + received_hours * H,
        source=source,
        subject=SiteSubject(subject) if isinstance(subject, str) else subject,
        status=status,
        cause=cause,
        share_out=share_out,
        technologies=technologies,
    )


def run(reports: list[Report], hours: float, **kwargs: object) -> MergeResult:
    table = ReportTable.from_reports(reports)
    return merge(table, INVENTORY, AREA_TABLE, T0 + hours * H, POLICY, **kwargs)  # type: ignore[arg-type]


def weight(source: Source, age_h: float) -> float:
    return float(POLICY.weight(source.kind, age_h * 3600.0))


# --- one site -----------------------------------------------------------------------------------


def test_no_report_means_unknown() -> None:
    state = run([], 1).site("a")
    assert state.status is Status.UNKNOWN
    assert state.probability is None and state.confidence == 0.0 and state.reports == 0


@pytest.mark.parametrize(
    ("status", "probability", "expected"),
    [
        (Status.UP, 1.0, Status.UP),
        (Status.DEGRADED, 0.5, Status.DEGRADED),
        (Status.DOWN, 0.0, Status.DOWN),
    ],
)
def test_one_report_sets_the_site_state(
    status: Status, probability: float, expected: Status
) -> None:
    state = run([report(0, "a", status)], 2).site("a")
    assert state.status is expected
    assert state.probability == probability
    assert state.newest_age_s == 7200.0
    assert state.confidence == pytest.approx(weight(OPERATOR, 2))


def test_reports_of_unknown_status_carry_nothing() -> None:
    assert run([report(0, "a", Status.UNKNOWN)], 1).site("a").status is Status.UNKNOWN


def test_sources_are_weighted_by_trust_and_age() -> None:
    # The operator says up two hours ago, the crowd says down one hour ago.
    result = run([report(0, "a", Status.UP), report(1, "a", Status.DOWN, CROWD)], 2)
    w_op, w_crowd = weight(OPERATOR, 2), weight(CROWD, 1)
    expected = w_op / (w_op + w_crowd)
    state = result.site("a")
    assert state.probability == pytest.approx(expected)
    assert state.status is Status.DEGRADED  # 0.5 <= p < 0.9
    # They disagree, so confidence is below the evidence alone.
    evidence = 1 - (1 - w_op) * (1 - w_crowd)
    variance = expected * (1 - expected)
    assert state.confidence == pytest.approx(evidence * (1 - 4 * variance))


def test_weight_halves_every_half_life() -> None:
    half_life_h = POLICY.sources[SourceKind.CROWD].half_life_s / 3600
    assert weight(CROWD, half_life_h) == pytest.approx(weight(CROWD, 0) / 2)
    assert weight(CROWD, 0) == POLICY.sources[SourceKind.CROWD].trust


def test_a_later_report_from_the_same_source_replaces_the_earlier() -> None:
    reports = [report(0, "a", Status.DOWN), report(1, "a", Status.UP)]
    state = run(reports, 1.5).site("a")
    assert state.probability == 1.0 and state.reports == 1
    # Another operator's report is not replaced: both count.
    both = run([report(0, "a", Status.DOWN, OPERATOR_B), report(1, "a", Status.UP)], 1.5)
    assert both.site("a").reports == 2
    assert 0.0 < (both.site("a").probability or 0) < 1.0


def test_reports_older_than_max_age_count_for_nothing() -> None:
    max_age_h = POLICY.max_age_s / 3600
    reports = [report(0, "a", Status.DOWN)]
    assert run(reports, max_age_h - 0.01).site("a").status is Status.DOWN
    assert run(reports, max_age_h).site("a").status is Status.UNKNOWN


def test_a_report_observed_after_t_does_not_count() -> None:
    assert run([report(5, "a", Status.DOWN)], 4).site("a").status is Status.UNKNOWN


def test_late_arrivals_count_unless_replaying_what_was_known() -> None:
    # Observed at 1 h, received only at 10 h.
    reports = [report(0, "a", Status.UP), report(1, "a", Status.DOWN, received_hours=10)]
    assert run(reports, 2).site("a").status is Status.DOWN
    replay = run(reports, 2, known_at=T0 + 2 * H)
    assert replay.site("a").status is Status.UP
    assert replay.known_at == T0 + 2 * H


def test_reports_for_unknown_sites_are_counted_as_unplaced() -> None:
    result = run([report(0, "nowhere", Status.DOWN), report(0, "a", Status.DOWN)], 1)
    assert result.reports_counted == 2
    assert result.reports_unplaced == 1


# --- dark since, restored at --------------------------------------------------------------------


def test_dark_since_is_the_start_of_the_current_outage() -> None:
    reports = [
        report(0, "a", Status.UP),
        report(2, "a", Status.DOWN, cause=Cause.POWER),
        report(4, "a", Status.UP),  # restored at 4 h
        report(6, "a", Status.DOWN, cause=Cause.DAMAGE),  # dark again from 6 h
        report(8, "a", Status.DOWN, cause=Cause.DAMAGE),
    ]
    state = run(reports, 9).site("a")
    assert state.status is Status.DOWN
    assert state.dark_since == T0 + 6 * H
    assert state.restored_at == T0 + 4 * H
    assert state.cause is Cause.DAMAGE
    # At 5 h the site was up again: not dark, restored at 4 h.
    earlier = run(reports, 5).site("a")
    assert earlier.dark_since is None and earlier.restored_at == T0 + 4 * H
    # At 3 h: dark since 2 h, never restored yet.
    first = run(reports, 3).site("a")
    assert first.dark_since == T0 + 2 * H and first.restored_at is None


def test_a_stretch_without_reports_neither_starts_nor_ends_an_outage() -> None:
    max_age_h = POLICY.max_age_s / 3600
    reports = [report(0, "a", Status.DOWN), report(max_age_h + 24, "a", Status.DOWN)]
    # Between the two the first report expired (unknown); the outage is still the one from 0 h.
    gap = run(reports, max_age_h + 1).site("a")
    assert gap.status is Status.UNKNOWN and gap.dark_since is None
    state = run(reports, max_age_h + 25).site("a")
    assert state.dark_since == T0 and state.restored_at is None


def test_restored_by_another_source_while_the_down_report_still_counts() -> None:
    # Crowd says down, a fresh field team says up: p rises above 0.5 and the site is restored.
    reports = [report(0, "a", Status.DOWN, CROWD), report(1, "a", Status.UP, FIELD)]
    state = run(reports, 1).site("a")
    assert state.status in (Status.UP, Status.DEGRADED)
    assert state.restored_at == T0 + 1 * H


# --- subjects other than a site -----------------------------------------------------------------


def test_a_point_report_reaches_the_sites_that_could_serve_it() -> None:
    # 300 m east of site a (range 1 km); b is 5.5 km away (range 1 km).
    point = PointSubject(10.00274, 10.0, 10.0)
    result = run([report(0, point, Status.DOWN, CROWD)], 1)
    assert result.site("a").status is Status.DOWN
    assert result.site("b").status is Status.UNKNOWN


def test_technologies_restrict_which_sites_a_report_reaches() -> None:
    point = PointSubject(10.025, 10.0, 3000.0)  # between a (GSM) and b (LTE), reaching both
    lte_only = report(0, point, Status.DOWN, CROWD, technologies=frozenset({Technology.LTE}))
    result = run([lte_only], 1)
    assert result.site("a").status is Status.UNKNOWN
    assert result.site("b").status is Status.DOWN
    # A site report applies whatever technologies it names.
    gsm_site = report(0, "b", Status.DOWN, technologies=frozenset({Technology.GSM}))
    assert run([gsm_site], 1).site("b").status is Status.DOWN


def test_grid_cells_and_polygons_reach_the_sites_covering_them() -> None:
    cell = GridSubject(10.49, 10.49, 0.02)  # holds c, d's coverage reaches in
    drawn = PolygonSubject(box(9.99, 9.99, 10.01, 10.01))  # around a
    result = run([report(0, cell, Status.DOWN, PROBE), report(0, drawn, Status.DOWN, CROWD)], 0.5)
    assert [result.site(s).status for s in "abcd"] == [
        Status.DOWN,
        Status.UNKNOWN,
        Status.DOWN,
        Status.DOWN,
    ]


# --- areas --------------------------------------------------------------------------------------


def test_an_area_without_sites_takes_its_share_from_its_own_reports() -> None:
    # "Puerto Rico: 30.5% of telecom service" -> 69.5% out.
    reports = [report(0, AreaSubject("Puerto Rico"), Status.DOWN, REGULATOR, share_out=0.695)]
    result = run(reports, 12)
    state = result.area("Puerto Rico")
    assert state is not None
    assert state.share_out == pytest.approx(0.695)
    assert state.status is Status.DOWN and state.basis == "reports"
    assert state.dark_since == T0
    # The name of an area in the table finds it too, ignoring case.
    named = run([report(0, AreaSubject("zed"), Status.DOWN, REGULATOR, share_out=0.2)], 1)
    zed = named.area("Z")
    assert zed is not None and zed.share_out == pytest.approx(0.2)


@pytest.mark.parametrize("hours", [1, 2.59, 2.96, 22.94])
def test_a_figure_exactly_at_a_threshold_is_on_the_threshold(hours: float) -> None:
    # 90 % of service is "up" and 50 % "degraded", whatever the decay did to the arithmetic
    # (the weighted mean of one 0.9 can come back as 0.8999999999999999).
    up = run([report(0, AreaSubject("Puerto Rico"), Status.UP, REGULATOR, share_out=0.1)], hours)
    half = run([report(0, AreaSubject("Z"), Status.DEGRADED, REGULATOR, share_out=0.5)], hours)
    up_state, half_state = up.area("Puerto Rico"), half.area("Z")
    assert up_state is not None and up_state.status is Status.UP
    assert half_state is not None and half_state.status is Status.DEGRADED


def test_an_area_with_sites_takes_its_share_from_them() -> None:
    reports = [report(0, "a", Status.DOWN, cause=Cause.POWER), report(0, "b", Status.UP)]
    state = run(reports, 1).area("X")
    assert state is not None
    assert state.basis == "sites"
    assert (state.sites_total, state.sites_known, state.sites_down) == (2, 2, 1)
    assert state.share_out == pytest.approx(0.5)
    assert state.causes == ((Cause.POWER, 1.0),)


def test_area_reports_reach_the_sites_of_the_area_with_less_weight() -> None:
    area_report = report(0, AreaSubject("X"), Status.DOWN, REGULATOR, share_out=0.6)
    own = report(0, "a", Status.UP)
    result = run([area_report, own], 1)
    w_area = weight(REGULATOR, 1) * POLICY.area_site_weight
    w_own = weight(OPERATOR, 1)
    assert result.site("b").probability == pytest.approx(0.4)  # only the area report
    expected_a = (w_own * 1.0 + w_area * 0.4) / (w_own + w_area)
    assert result.site("a").probability == pytest.approx(expected_a)
    x = result.area("X")
    assert x is not None and x.share_out == pytest.approx(((1 - expected_a) + 0.6) / 2)


def test_area_causes_are_shared_by_what_is_out() -> None:
    reports = [
        report(0, "c", Status.DOWN, cause=Cause.POWER),
        report(0, "d", Status.DOWN, cause=Cause.TRANSPORT),
        report(0, "d", Status.DOWN, FIELD, cause=Cause.TRANSPORT),
    ]
    y = run(reports, 1).area("Y")
    assert y is not None
    assert [c for c, _ in y.causes] == [Cause.POWER, Cause.TRANSPORT]
    assert sum(share for _, share in y.causes) == pytest.approx(1.0)
    assert y.causes[0][1] == pytest.approx(0.5)


def test_area_dark_since_and_restored_follow_the_share_of_its_sites() -> None:
    reports = [
        report(0, "c", Status.UP),
        report(0, "d", Status.UP),
        report(1, "c", Status.DOWN),  # share out 0.5: degraded
        report(2, "d", Status.DOWN),  # share out 1: dark from 2 h
        report(5, "c", Status.UP),  # share out 0.5: restored at 5 h
    ]
    at_3 = run(reports, 3).area("Y")
    assert at_3 is not None and at_3.status is Status.DOWN and at_3.dark_since == T0 + 2 * H
    at_6 = run(reports, 6).area("Y")
    assert at_6 is not None and at_6.status is Status.DEGRADED
    assert at_6.dark_since is None and at_6.restored_at == T0 + 5 * H


def test_dark_areas_worst_first() -> None:
    reports = [
        report(0, AreaSubject("Z"), Status.DOWN, REGULATOR, share_out=0.6),
        report(0, AreaSubject("W"), Status.DOWN, REGULATOR, share_out=0.9),
        report(0, AreaSubject("V"), Status.DOWN, REGULATOR, share_out=0.3),
        report(0, "a", Status.DOWN),
        report(0, "b", Status.DOWN),
    ]
    result = run(reports, 1)
    assert [a.code for a in dark_areas(result)] == ["X", "W", "Z"]
    assert [a.code for a in dark_areas(result, min_out=0.2)] == ["X", "W", "Z", "V"]


# --- single answers -----------------------------------------------------------------------------


def test_service_at_combines_the_covering_sites() -> None:
    # A place covered by c (500 m) and d (3 km): at least one of them serves.
    reports = [report(0, "c", Status.DOWN, CROWD), report(0, "d", Status.DEGRADED)]
    result = run(reports, 1)
    answer = service_at(result, 10.501, 10.5)
    assert answer.basis == "sites" and set(answer.sites) == {"c", "d"}
    assert answer.probability == pytest.approx(1 - (1 - 0.0) * (1 - 0.5))
    assert answer.status is Status.DEGRADED
    assert {r.subject for r in answer.reports} == {"site c", "site d"}
    assert answer.reports[0].weight >= answer.reports[-1].weight


def test_service_at_a_dark_place_says_since_when() -> None:
    result = run([report(0, "a", Status.UP), report(3, "a", Status.DOWN)], 4)
    answer = service_at(result, 10.0, 10.0)
    assert answer.status is Status.DOWN and answer.dark_since == T0 + 3 * H
    assert answer.reports[0].status is Status.DOWN


def test_service_at_falls_back_to_the_area_then_to_unknown() -> None:
    result = run([report(0, AreaSubject("Z"), Status.DOWN, REGULATOR, share_out=0.7)], 1)
    answer = service_at(result, 20.5, 20.5)
    assert answer.basis == "area" and answer.area == "Z"
    assert answer.probability == pytest.approx(0.3) and answer.status is Status.DOWN
    assert answer.reports and answer.reports[0].subject == "area Z"
    nowhere = service_at(result, -40.0, -40.0)
    assert nowhere.status is Status.UNKNOWN and nowhere.basis == "none"


# --- the Puerto Rico series ---------------------------------------------------------------------


def pr_series(shared_data: Path) -> list[tuple[datetime, float]]:
    path = shared_data / "outage" / "statuspr_maria_2017_2018.csv"
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Resource"] == "Telecomunications"]
    return sorted(
        (datetime.fromisoformat(r["date"]).replace(hour=12, tzinfo=UTC), float(r["Value"]) / 100)
        for r in rows
    )


def test_the_puerto_rico_series_is_followed_day_by_day(shared_data: Path) -> None:
    series = pr_series(shared_data)
    assert len(series) > 30
    reports = [
        Report(at, at, REGULATOR, AreaSubject("Puerto Rico"), Status.DOWN, share_out=1 - value)
        for at, value in series
    ]
    table = ReportTable.from_reports(reports)
    merged = []
    for at, value in series:
        state = merge(table, INVENTORY, AREA_TABLE, at + 6 * H, POLICY).area("Puerto Rico")
        assert state is not None and state.share_out is not None
        merged.append((at, 1 - state.share_out))
        assert 1 - state.share_out == pytest.approx(value)

    def first_day_at_or_over(points: list[tuple[datetime, float]], level: float) -> datetime:
        return next(at for at, v in points if v >= level)

    for level in (0.5, 0.9):
        assert first_day_at_or_over(merged, level) == first_day_at_or_over(series, level)
    crossing = first_day_at_or_over(series, 0.5)
    state = merge(table, INVENTORY, AREA_TABLE, crossing + H, POLICY).area("Puerto Rico")
    assert state is not None and state.restored_at == crossing and state.dark_since is None
    before = merge(table, INVENTORY, AREA_TABLE, crossing - H, POLICY).area("Puerto Rico")
    assert before is not None and before.dark_since == series[0][0]


# --- properties ---------------------------------------------------------------------------------

SOURCES = (OPERATOR, OPERATOR_B, REGULATOR, CROWD, FIELD, PROBE)
SUBJECTS: tuple[Subject, ...] = (
    SiteSubject("a"),
    SiteSubject("b"),
    SiteSubject("c"),
    SiteSubject("d"),
    SiteSubject("gone"),
    PointSubject(10.025, 10.0, 3000.0),
    PointSubject(10.51, 10.5, 100.0),
    GridSubject(10.49, 10.49, 0.02),
    AreaSubject("X"),
    AreaSubject("Y"),
    AreaSubject("Z"),
    AreaSubject("Puerto Rico"),
)


@st.composite
def reports_strategy(draw: st.DrawFn, max_size: int = 25) -> list[Report]:
    # Times on a coarse grid, so that ties (same instant, same site) are common.
    n = draw(st.integers(0, max_size))
    out = []
    for _ in range(n):
        observed = draw(st.integers(0, 60)) * 4.0  # hours, up to 10 days: some expire
        share = draw(st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.695, 1.0])))
        out.append(
            report(
                observed,
                draw(st.sampled_from(SUBJECTS)),
                draw(st.sampled_from(list(Status))),
                draw(st.sampled_from(SOURCES)),
                received_hours=observed + draw(st.integers(0, 30)),
                cause=draw(st.one_of(st.none(), st.sampled_from(list(Cause)))),
                share_out=share,
            )
        )
    return out


def assert_same(one: MergeResult, other: MergeResult) -> None:
    for name in ("probability", "confidence", "newest_age_s", "dark_since", "restored_at"):
        a, b = getattr(one.sites, name), getattr(other.sites, name)
        assert np.array_equal(a, b, equal_nan=True), name
    for name in ("status", "cause", "reports"):
        assert np.array_equal(getattr(one.sites, name), getattr(other.sites, name)), name
    assert one.areas == other.areas


@settings(max_examples=150, deadline=None)
@given(reports_strategy(), st.randoms(use_true_random=False), st.integers(0, 260))
def test_arrival_order_does_not_matter(
    reports: list[Report], rng: random.Random, hours: int
) -> None:
    shuffled = list(reports)
    rng.shuffle(shuffled)
    assert_same(run(reports, hours), run(shuffled, hours))


@settings(max_examples=150, deadline=None)
@given(reports_strategy(), reports_strategy(max_size=5), st.integers(0, 200))
def test_reports_observed_after_t_change_nothing_at_t(
    reports: list[Report], later: list[Report], hours: int
) -> None:
    after = [
        report(
            hours + 0.5 + (r.observed_at - T0) / H,
            r.subject,
            r.status,
            r.source,
            share_out=r.share_out,
            cause=r.cause,
        )
        for r in later
    ]
    assert_same(run(reports, hours), run(reports + after, hours))


@settings(max_examples=150, deadline=None)
@given(reports_strategy(), reports_strategy(max_size=3), st.integers(0, 240))
def test_an_older_report_never_changes_instants_before_it_was_observed(
    reports: list[Report], older: list[Report], hours: int
) -> None:
    # The extra reports are older than the newest report, but observed after the instant asked.
    observed_after = [r for r in older if (r.observed_at - T0) / H > hours]
    assert_same(run(reports, hours), run(reports + observed_after, hours))


@settings(max_examples=100, deadline=None)
@given(reports_strategy(), st.integers(0, 240))
def test_site_and_area_states_agree(reports: list[Report], hours: int) -> None:
    result = run(reports, hours)
    s = result.sites
    known = s.status != 3
    assert np.all(np.isnan(s.probability) == ~known)
    assert np.all((s.probability[known] >= 0) & (s.probability[known] <= 1))
    assert np.all((s.confidence >= 0) & (s.confidence <= 1))
    assert np.all(s.confidence[~known] == 0)
    # Dark since only for sites down now, and never after T.
    dark = ~np.isnan(s.dark_since)
    assert np.all(s.status[dark] == 2)
    assert np.all(s.dark_since[dark] <= (T0 + hours * H).timestamp())
    for area in result.areas:
        if area.share_out is not None:
            assert 0.0 <= area.share_out <= 1.0 + 1e-12
        if area.dark_since is not None:
            assert area.status is Status.DOWN
        if area.causes:
            assert math.isclose(sum(share for _, share in area.causes), 1.0)


def test_reports_at_the_same_instant_add_up_the_same_in_any_order() -> None:
    # Floating-point sums depend on their order; ties are ordered by value, not by arrival.
    tied = [
        report(1, "a", Status.DOWN, CROWD),
        report(1, "a", Status.UP, OPERATOR),
        report(1, "a", Status.DEGRADED, FIELD),
        report(1, "a", Status.UP, PROBE),
        report(1, AreaSubject("X"), Status.DOWN, REGULATOR, share_out=0.695),
        report(1, "a", Status.DOWN, OPERATOR_B),
        report(1, PointSubject(10.0, 10.0, 5.0), Status.DEGRADED, CROWD),
        report(1, PointSubject(10.001, 10.0, 5.0), Status.UP, CROWD),
    ]
    rng = random.Random(8)
    first = run(tied, 3.7)
    for _ in range(40):
        rng.shuffle(tied)
        again = run(tied, 3.7)
        assert again.sites.probability[0] == first.sites.probability[0]
        assert again.sites.confidence[0] == first.sites.confidence[0]


def test_nothing_at_all_merges_to_nothing() -> None:
    empty = SiteInventory.empty(POLICY)
    result = merge(ReportTable.empty(), empty, AreaTable.empty(), T0, POLICY)
    assert len(result.sites.probability) == 0 and result.areas == ()
    only_area = merge(
        ReportTable.from_reports([report(0, AreaSubject("PR"), Status.DOWN, REGULATOR)]),
        empty,
        [],
        T0 + H,
        POLICY,
    )
    assert [a.code for a in only_area.areas] == ["PR"]
    assert service_at(only_area, 0.0, 0.0).status is Status.UNKNOWN


@settings(max_examples=60, deadline=None)
@given(reports_strategy(max_size=40), st.integers(0, 240), st.integers(1, 9))
def test_working_in_chunks_changes_nothing(reports: list[Report], hours: int, chunk: int) -> None:
    whole = run(reports, hours)
    original = merge_module._PAIRS_PER_CHUNK
    merge_module._PAIRS_PER_CHUNK = chunk  # type: ignore[misc]
    try:
        assert_same(run(reports, hours), whole)
    finally:
        merge_module._PAIRS_PER_CHUNK = original  # type: ignore[misc]
