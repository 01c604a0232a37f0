"""The report store: everything appended comes back as it went in, nothing can be changed or
deleted, and any past instant merges again to the same answer after reopening."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from outage_map.config import MergePolicy
from outage_map.errors import OutageStoreError
from outage_map.inventory import AreaTable
from outage_map.merge import MergeResult, merge
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
    Technology,
)
from outage_map.store import OutageStore
from outage_map.table import ReportTable

T0 = datetime(2024, 9, 1, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = MergePolicy()
OPERATOR = Source(SourceKind.OPERATOR, "telco")
CROWD = Source(SourceKind.CROWD, "app ✓")

SITES = [
    Site("603-1-23101-18322", 7.7504, 36.8898, 1000.0, Technology.GSM, "Mobilis"),
    Site("603-2-232-23511", 7.733, 36.8935, None, Technology.UMTS, "Djezzy"),
    Site("603-3-21621-53261", 3.05, 36.7321, 1000.0, None),
]
AREAS = [
    AdminArea("DZ-23", "Annaba", box(7.5, 36.7, 8.0, 37.0)),
    AdminArea("DZ-16", "Alger", box(2.9, 36.6, 3.3, 36.9), parent="DZ"),
]


def reports() -> list[Report]:
    polygon = Polygon([(7.7, 36.85), (7.8, 36.85), (7.8, 36.95), (7.7, 36.85)])
    return [
        Report(T0, T0 + H, OPERATOR, SiteSubject(SITES[0].site_id), Status.DOWN, Cause.POWER),
        Report(
            T0 + H,
            T0 + H,
            CROWD,
            PointSubject(3.05, 36.7321, 250.0),
            Status.DEGRADED,
            technologies=frozenset({Technology.LTE, Technology.GSM}),
            note="no data, calls work",
        ),
        Report(T0 + 2 * H, T0 + 3 * H, OPERATOR, PolygonSubject(polygon), Status.UP),
        Report(
            T0 + 2 * H,
            T0 + 2 * H,
            Source(SourceKind.REGULATOR, "ARPCE"),
            AreaSubject("DZ-23"),
            Status.DOWN,
            Cause.DAMAGE,
            share_out=0.42,
        ),
        Report(
            T0 + 3 * H,
            T0 + 3 * H,
            Source(SourceKind.PROBE, "p"),
            GridSubject(7.7, 36.85, 0.05),
            Status.DOWN,
        ),
    ]


@pytest.fixture
def store(tmp_path: Path) -> OutageStore:
    return OutageStore(tmp_path / "outage.db")


def test_reports_come_back_as_they_went_in(store: OutageStore) -> None:
    ids = store.append_reports(reports(), origin="test", now=T0 + 4 * H)
    assert list(ids) == [1, 2, 3, 4, 5]
    back = store.reports()
    assert back.reports() == reports()
    assert back.ids.tolist() == [1, 2, 3, 4, 5]
    more = store.append_reports(reports()[:2], now=T0 + 5 * H)
    assert list(more) == [6, 7]
    assert store.report_count() == 7
    assert store.reports().ids.tolist() == [1, 2, 3, 4, 5, 6, 7]


def test_columns_round_trip_exactly(store: OutageStore) -> None:
    rng = np.random.default_rng(1)
    n = 5000
    table = ReportTable.from_arrays(
        observed_us=rng.integers(1_600_000_000_000_000, 1_700_000_000_000_000, n),
        source_kind=rng.integers(0, 5, n),
        subject_kind=np.zeros(n, np.int8),
        status=rng.integers(0, 4, n),
        key=rng.integers(0, 3, n),
        keys=("x", "y", "z"),
        share_out=np.where(rng.random(n) < 0.5, rng.random(n), np.nan),
    )
    store.append_reports(table, batch_size=1234, now=T0)
    back = store.reports()
    for name in ("observed_us", "received_us", "source_kind", "status", "key", "share_out"):
        assert np.array_equal(getattr(back, name), getattr(table, name), equal_nan=True), name
    assert [back.keys[k] for k in back.key] == [table.keys[k] for k in table.key]


def test_reads_filter_by_observed_received_and_appended(store: OutageStore) -> None:
    store.append_reports(reports()[:3], now=T0 + 10 * H)
    store.append_reports(reports()[3:], now=T0 + 20 * H)
    observed = store.reports(observed_until=T0 + H)
    assert observed.ids.tolist() == [1, 2]
    received = store.reports(received_until=T0 + 2 * H)
    assert received.ids.tolist() == [1, 2, 4]
    appended = store.reports(appended_until=T0 + 15 * H)
    assert appended.ids.tolist() == [1, 2, 3]


def test_nothing_can_be_changed_or_deleted(store: OutageStore) -> None:
    store.append_reports(reports(), now=T0)
    store.append_sites(SITES, now=T0)
    store.append_areas(AREAS, now=T0)
    conn = sqlite3.connect(store.path)
    for statement in (
        "UPDATE report_batches SET count = 1",
        "DELETE FROM report_batches",
        "UPDATE sites SET lon = 0",
        "DELETE FROM sites",
        "UPDATE areas SET name = 'x'",
        "DELETE FROM areas",
        "DELETE FROM meta",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement)
    # A batch must continue the ids.
    with pytest.raises(sqlite3.DatabaseError, match="follow the last batch"):
        conn.execute(
            "INSERT INTO report_batches (first_id, count, appended_at, appended_us, origin, "
            "observed_min, observed_max, received_min, received_max, columns) "
            "VALUES (1, 1, '', 0, '', 0, 0, 0, 0, x'00')"
        )
    conn.close()
    assert store.reports().reports() == reports()


def test_the_store_uses_wal(store: OutageStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sites_and_areas_keep_every_version(store: OutageStore) -> None:
    store.append_sites(SITES, now=T0)
    moved = Site(SITES[0].site_id, 7.76, 36.9, 2000.0, Technology.GSM, "Mobilis")
    store.append_sites([moved], now=T0 + 24 * H)
    assert store.sites() == (SITES[1], SITES[2], moved)
    assert store.sites(appended_until=T0 + H) == tuple(SITES)
    inventory = store.site_inventory(POLICY)
    assert inventory.site_ids == (SITES[1].site_id, SITES[2].site_id, moved.site_id)
    assert inventory.range_m.tolist() == [2000.0, 1000.0, 2000.0]  # UMTS default for no range
    store.append_areas(AREAS, now=T0)
    renamed = AdminArea("DZ-23", "Annaba (wilaya)", AREAS[0].geometry)
    store.append_areas([renamed], now=T0 + H)
    assert store.areas() == (renamed, AREAS[1])
    assert store.areas(appended_until=T0) == tuple(AREAS)


def test_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema', '99')")
    conn.commit()
    conn.close()
    with pytest.raises(OutageStoreError, match="schema 99"):
        OutageStore(path)


def test_an_unopenable_path_is_reported(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(OutageStoreError, match="cannot open the outage store"):
        OutageStore(tmp_path / "dir.db")


def merged(store: OutageStore, at: datetime, known_at: datetime | None = None) -> MergeResult:
    inventory = store.site_inventory(POLICY)
    areas = AreaTable.build(store.areas(), inventory)
    table = store.reports(observed_until=at)
    return merge(table, inventory, areas, at, POLICY, known_at=known_at)


def same(a: MergeResult, b: MergeResult) -> bool:
    names = ("probability", "confidence", "newest_age_s", "dark_since", "restored_at")
    return all(
        np.array_equal(getattr(a.sites, n), getattr(b.sites, n), equal_nan=True) for n in names
    ) and (a.areas == b.areas)


def test_a_past_instant_merges_again_identically_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "outage.db"
    with OutageStore(path) as store:
        store.append_sites(SITES, now=T0)
        store.append_areas(AREAS, now=T0)
        store.append_reports(reports(), now=T0 + 4 * H)
        then = T0 + 3.5 * H
        before = merged(store, then)
        replay_before = merged(store, then, known_at=then)
    # Later: new reports, one of them observed before `then` but received after it.
    late = Report(
        T0 + 3 * H, T0 + 30 * H, OPERATOR, SiteSubject(SITES[2].site_id), Status.DOWN, Cause.POWER
    )
    newer = Report(T0 + 40 * H, T0 + 40 * H, OPERATOR, SiteSubject(SITES[0].site_id), Status.UP)
    with OutageStore(path) as store:
        store.append_reports([late, newer], now=T0 + 41 * H)
    with OutageStore(path) as store:
        # What could be known at `then` is unchanged.
        assert same(merged(store, then, known_at=then), replay_before)
        # The best account of `then` now includes the late report: a different answer.
        after = merged(store, then)
        assert not same(after, before)
        assert after.site(SITES[2].site_id).status is Status.DOWN
        # And the store as it was at append time gives back exactly the earlier answer.
        table = store.reports(observed_until=then, appended_until=T0 + 4 * H)
        inventory = store.site_inventory(POLICY)
        old = merge(table, inventory, AreaTable.build(store.areas(), inventory), then, POLICY)
        assert same(old, before)
