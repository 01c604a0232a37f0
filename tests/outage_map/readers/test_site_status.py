"""Operator site-status CSV (our own format; fixtures, as no operator publishes one)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outage_map.errors import ReaderError, ReportError
from outage_map.model import Cause, SiteSubject, Source, SourceKind, Status, Technology
from outage_map.readers import Severity, read_site_status

RECEIVED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def test_the_documented_example(fixtures: Path) -> None:
    result = read_site_status(fixtures / "site_status.csv", received_at=RECEIVED)
    assert (result.rows, len(result.items), result.problems) == (4, 4, ())
    first, second, third, fourth = result.items
    assert first.subject == SiteSubject("603-1-23101-18322")
    assert first.observed_at == datetime(2024, 10, 1, 13, 0, tzinfo=UTC)
    assert first.received_at == RECEIVED
    assert first.source == Source(SourceKind.OPERATOR, "Example Mobile")
    assert (first.status, first.cause, first.technologies) == (
        Status.DOWN,
        Cause.POWER,
        frozenset({Technology.GSM}),
    )
    assert first.note == "generator out of fuel"
    assert (second.status, second.cause, second.technologies) == (Status.UP, None, frozenset())
    assert third.technologies == {Technology.UMTS, Technology.LTE}
    assert third.note == "microwave link to hub, flapping"
    assert fourth.observed_at == datetime(2024, 10, 1, 13, 30, tzinfo=UTC)
    assert fourth.technologies == frozenset()  # "all"
    assert fourth.source == Source(SourceKind.OPERATOR, "site_status")  # the file's stem


BROKEN = """\
site_id,observed_at,status,cause,technologies,operater
A1,2024-10-01T09:00:00-04:00,down,power,gsm,X
A2,2024-10-01T09:00:00,down,,,X
,2024-10-01T09:00:00Z,down,,,X
A4,2024-10-01T09:00:00Z,on fire,,,X
A5,2024-10-01T09:00:00Z,down,flood,,X
A6,2024-10-01T09:00:00Z,down,,wifi,X
A7,2024-10-01T09:00:00Z,up,,,X
"""


def test_bad_rows_are_reported_and_good_rows_kept() -> None:
    result = read_site_status(io.StringIO(BROKEN), received_at=RECEIVED, name="noc.csv")
    assert [str(p) for p in result.problems] == [
        "noc.csv line 1, field operater: is not a column of this format; not read",
        "noc.csv line 3, field observed_at: '2024-10-01T09:00:00' has no time zone; add an "
        "offset such as -04:00, or Z for UTC",
        "noc.csv line 4, field site_id: is empty; every row names the site it speaks of",
        "noc.csv line 5, field status: 'on fire' is not a status; write up, degraded, down or "
        "unknown",
        "noc.csv line 6, field cause: 'flood' is not a cause; write damage, power, transport or "
        "other (or nothing)",
        "noc.csv line 7, field technologies: 'wifi' names 'wifi', not a radio technology; write "
        "gsm, umts, cdma, lte or nr, separated by ';'",
    ]
    assert [p.severity for p in result.problems][:1] == [Severity.INFO]
    assert [r.subject for r in result.items] == [SiteSubject("A1"), SiteSubject("A7")]
    assert result.items[0].source == Source(SourceKind.OPERATOR, "noc")


def test_a_documented_zone_reads_naive_times() -> None:
    result = read_site_status(
        io.StringIO(BROKEN),
        received_at=RECEIVED,
        name="noc.csv",
        default_tz=ZoneInfo("America/Puerto_Rico"),
        operator="Claro",
    )
    assert result.items[1].observed_at == datetime(2024, 10, 1, 13, 0, tzinfo=UTC)
    assert result.items[1].source.name == "Claro"
    assert len(result.errors) == 4


def test_received_at_must_be_aware_and_columns_present() -> None:
    with pytest.raises(ReportError, match=r"received_at .* has no time zone"):
        read_site_status(io.StringIO(BROKEN), received_at=datetime(2025, 1, 1))
    with pytest.raises(ReaderError, match="missing required column\\(s\\) status"):
        read_site_status(io.StringIO("site_id,observed_at\n"), received_at=RECEIVED)


good_rows = st.tuples(
    st.text(alphabet="ABC0123456789-", min_size=1, max_size=12),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2099, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-4))]),
    ),
    st.sampled_from(list(Status)),
    st.sampled_from(["", *[c.value for c in Cause]]),
)
spoilers = st.sampled_from(
    [("observed_at", "soon"), ("status", "sideways"), ("cause", "gremlins"), ("site_id", "")]
)


@given(st.lists(st.tuples(good_rows, st.none() | spoilers), max_size=25))
def test_every_bad_row_is_one_error_at_its_line_and_every_good_row_is_kept(
    rows: list[tuple[tuple[str, datetime, Status, str], tuple[str, str] | None]],
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["site_id", "observed_at", "status", "cause"])
    expected_bad: list[tuple[int, str]] = []
    expected_good = []
    for number, ((site, moment, status, cause), spoiler) in enumerate(rows, start=2):
        values = {"site_id": site, "observed_at": moment.isoformat(), "status": status.value,
                  "cause": cause}  # fmt: skip
        if spoiler is None:
            expected_good.append((site, moment, status))
        else:
            values[spoiler[0]] = spoiler[1]
            expected_bad.append((number, spoiler[0]))
        writer.writerow(values.values())
    result = read_site_status(io.StringIO(out.getvalue()), received_at=RECEIVED, name="p.csv")
    assert [(p.line, p.field) for p in result.problems] == expected_bad
    assert [(r.subject, r.observed_at, r.status) for r in result.items] == [
        (SiteSubject(site), moment, status) for site, moment, status in expected_good
    ]
