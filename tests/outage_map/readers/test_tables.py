"""CSV walking: the line numbers a person sees, and whole-file failures that say what to do."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from outage_map.errors import ReaderError
from outage_map.readers.results import Problem
from outage_map.readers.tables import CsvTable, Row, open_text


def walk(text: str, **kwargs: object) -> tuple[CsvTable, list[Row | Problem]]:
    table = CsvTable(io.StringIO(text, newline=""), "t.csv", **kwargs)  # type: ignore[arg-type]
    return table, list(table.rows())


def test_line_numbers_count_blank_lines_and_quoted_newlines() -> None:
    text = 'a,b\n1,2\n\n3,"multi\nline"\n4,5\n'
    _, rows = walk(text, required=("a", "b"))
    assert [r.line for r in rows if isinstance(r, Row)] == [2, 4, 6]
    assert isinstance(rows[1], Row) and rows[1].values["b"] == "multi\nline"


def test_a_bom_and_case_and_spaces_in_the_header_do_not_matter() -> None:
    table, rows = walk("\ufeffSite_ID , Status\nx,up\n", required=("site_id", "status"))
    assert table.header.display("site_id") == "Site_ID"
    assert rows == [Row(2, {"site_id": "x", "status": "up"})]


def test_a_header_after_blank_lines() -> None:
    table, rows = walk("\n\na\nx\n", required=("a",))
    assert table.header_line == 3
    assert rows == [Row(4, {"a": "x"})]


def test_short_and_long_rows_are_problems_and_trailing_empty_cells_are_not() -> None:
    _, rows = walk("a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n", required=("a",))
    assert [str(r) for r in rows if isinstance(r, Problem)] == [
        "t.csv line 2: has 2 fields where the header has 3; a value is missing or the row is "
        "cut short",
        "t.csv line 3: has 4 fields where the header has 3; quote values that contain commas",
    ]
    assert rows[2] == Row(4, {"a": "1", "b": "2", "c": "3"})


def test_missing_required_columns_name_them_and_what_was_found() -> None:
    with pytest.raises(ReaderError) as caught:
        walk("site,when\n1,2\n", required=("site_id", "observed_at"), what="a site-status CSV")
    assert str(caught.value) == (
        "t.csv line 1: missing required column(s) site_id, observed_at for a site-status CSV; "
        "found site, when. Is this the right file and format?"
    )


def test_duplicated_columns_are_refused() -> None:
    with pytest.raises(ReaderError, match="column\\(s\\) a appear more than once"):
        walk("a,b,A\n", required=("a",))


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ReaderError, match="is empty; x needs a header line"):
        walk("\n\n", required=("a",), what="x")


def test_headerless_files_start_with_data_on_line_1() -> None:
    table, rows = walk("1,2\n3,4\n", required=("a",), headerless=("a", "b"))
    assert not table.header.from_file
    assert rows == [Row(1, {"a": "1", "b": "2"}), Row(2, {"a": "3", "b": "4"})]


def test_a_headerless_first_line_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ReaderError, match="neither a header line"):
        walk("x,y,z\n", required=("a",), headerless=("a", "b"))


def test_unused_columns_are_reported_once_as_info() -> None:
    table, _ = walk("a,obsreved_at\n", required=("a",), known=("observed_at",))
    assert [str(p) for p in table.unused_problems()] == [
        "t.csv line 1, field obsreved_at: is not a column of this format; not read"
    ]


def test_paths_gzip_and_errors(tmp_path: Path) -> None:
    plain = tmp_path / "x.csv"
    plain.write_text("a\n1\n", encoding="utf-8")
    packed = tmp_path / "x.csv.gz"
    packed.write_bytes(gzip.compress(b"a\n1\n"))
    for path in (plain, packed):
        with open_text(path, str(path)) as stream:
            assert stream.read() == "a\n1\n"
    with pytest.raises(ReaderError, match="no such file"), open_text(tmp_path / "no.csv", "no"):
        pass
    with pytest.raises(ReaderError, match="is a folder"), open_text(tmp_path, "dir"):
        pass


def test_text_that_is_not_utf8_or_a_fake_gzip_is_a_reader_error(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"a\n" + b"ok\n" * 3 + b"Mayag\xfcez\n")
    with pytest.raises(ReaderError, match="is not UTF-8 text"), open_text(latin, "latin") as s:
        list(CsvTable(s, "latin", required=("a",)).rows())
    fake = tmp_path / "fake.csv.gz"
    fake.write_bytes(b"a\n1\n")
    with pytest.raises(ReaderError, match="cannot be read"), open_text(fake, "fake") as s:
        CsvTable(s, "fake", required=("a",))
