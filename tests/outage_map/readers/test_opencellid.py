"""OpenCelliD exports -> sites: the real Algerian sample, headerless and gzip exports, and the
rows a bad export contains."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from outage_map.errors import ReaderError
from outage_map.model import Site, Technology
from outage_map.readers import read_opencellid


def test_the_real_algerian_sample(outage_data: Path) -> None:
    result = read_opencellid(outage_data / "opencellid_dz_sample.csv")
    assert (result.rows, len(result.items), result.problems) == (221, 221, ())
    assert result.items[0] == Site(
        site_id="603-1-23101-18322",
        lon=7.7504,
        lat=36.8898,
        range_m=1000.0,
        technology=Technology.GSM,
        operator="603-1",
    )
    by_id = {site.site_id: site for site in result.items}
    assert len(by_id) == 221
    assert by_id["603-1-19302-130563755"].technology is Technology.UMTS
    assert sum(s.technology is Technology.UMTS for s in result.items) == 8
    assert {s.operator for s in result.items} == {"603-1", "603-2", "603-3"}
    assert max(s.range_m or 0 for s in result.items) == 18862.0


def test_a_headerless_gzipped_export_reads_the_same(outage_data: Path, tmp_path: Path) -> None:
    lines = (outage_data / "opencellid_dz_sample.csv").read_bytes().splitlines(keepends=True)
    export = tmp_path / "603.csv.gz"
    export.write_bytes(gzip.compress(b"".join(lines[1:])))
    headerless = read_opencellid(export)
    with_header = read_opencellid(outage_data / "opencellid_dz_sample.csv")
    assert headerless.items == with_header.items
    assert headerless.file == str(export)


BROKEN = """\
radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
GSM,603,1,23101,18322,0,7.7504,36.8898,1000,11,1,1459778895,1747663023,0
WIFI,603,1,23101,18323,0,7.7504,36.8898,1000,11,1,1459778895,1747663023,0
GSM,603,1,23101,x,0,7.7504,36.8898,1000,11,1,1459778895,1747663023,0
GSM,603,1,23101,18324,0,187.5,36.8898,1000,11,1,1459778895,1747663023,0
GSM,603,1,23101,18325,0,7.75,36.88,-5,11,1,1459778895,1747663023,0
LTE,603,1,23101,18322,0,7.7504,36.8898,800,11,1,1459778895,1747663023,0
LTE,603,1,23101,18326,0,7.7504,36.8898,0,11,1,1459778895,1747663023,0
GSM,208,1,23101,18322,0,2.35,48.85,,11,1,1459778895,1747663023,0
GSM,603,1,23101
"""


def test_bad_rows_are_reported_by_line_and_field_and_good_rows_kept() -> None:
    result = read_opencellid(io.StringIO(BROKEN), name="cells.csv")
    assert [str(p) for p in result.problems] == [
        "cells.csv line 3, field radio: 'WIFI' is not a radio OpenCelliD uses (GSM, UMTS, CDMA, "
        "LTE, NR)",
        "cells.csv line 4, field cell: 'x' is not a whole number 0 or more",
        "cells.csv line 5, field lon: '187.5' is not a longitude between -180 and 180",
        "cells.csv line 6, field range: '-5' is negative; a range is 0 or more metres",
        "cells.csv line 7, field cell: '603-1-23101-18322' repeats the site id of line 2; the "
        "first is kept",
        "cells.csv line 10: has 4 fields where the header has 14; a value is missing or the row "
        "is cut short",
    ]
    assert [s.site_id for s in result.items] == [
        "603-1-23101-18322",
        "603-1-23101-18326",
        "208-1-23101-18322",
    ]
    assert result.items[1].range_m is None  # 0: no estimate
    assert result.items[2].range_m is None  # empty
    assert result.rows == len(result.items) + len(result.errors) == 9


def test_mcc_filter_counts_the_other_countries() -> None:
    result = read_opencellid(io.StringIO(BROKEN), name="cells.csv", mccs={208})
    assert [s.site_id for s in result.items] == ["208-1-23101-18322"]
    assert result.skipped == {"other MCC": 3}


def test_a_file_that_is_not_an_export_is_refused() -> None:
    with pytest.raises(ReaderError, match="neither a header line"):
        read_opencellid(io.StringIO("date,Resource\n2017-10-02,Water\n"), name="s.csv")
    with pytest.raises(ReaderError, match="missing required column\\(s\\) range"):
        read_opencellid(io.StringIO("radio,mcc,net,area,cell,lon,lat\n"), name="c.csv")
