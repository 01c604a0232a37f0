"""Opening an input and walking a CSV table row by row with the line numbers a person sees.

A row is a mapping from the canonical (lower-case) column name to its stripped text. Rows of
the wrong length become problems; a file that is not readable text, or lacks a required
column, raises ``ReaderError`` with the file and the fix."""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

from outage_map.errors import ReaderError
from outage_map.readers.fields import FieldError, RowError
from outage_map.readers.results import Problem, Severity

V = TypeVar("V")

Input = str | os.PathLike[str] | TextIO
"""A path (``.gz`` is read through gzip) or an open text stream."""


def input_name(source: Input, name: str | None = None) -> str:
    """The file name problems are reported under."""
    if name is not None:
        return name
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


@contextmanager
def open_text(source: Input, file: str) -> Iterator[TextIO]:
    """Yield a text stream on ``source``; a path that cannot be opened is a ReaderError."""
    if not isinstance(source, str | os.PathLike):
        yield source
        return
    path = Path(source)
    try:
        if path.suffix == ".gz":
            stream: TextIO = gzip.open(path, "rt", encoding="utf-8-sig", newline="")  # noqa: SIM115
        else:
            stream = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ReaderError(f"{file}: no such file; check the path") from None
    except IsADirectoryError:
        raise ReaderError(f"{file}: is a folder, not a file") from None
    except OSError as exc:
        raise ReaderError(f"{file}: cannot be opened ({exc.strerror or exc})") from None
    with stream:
        yield stream


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Header:
    """The columns as the file spells them, by canonical name, and where the data starts."""

    columns: tuple[str, ...]  # canonical names, in file order
    spelled: Mapping[str, str]  # canonical -> as written in the file
    from_file: bool

    def display(self, column: str) -> str:
        return self.spelled.get(column, column)


def canonical(column: str) -> str:
    return column.strip().lstrip("\ufeff").casefold()


class CsvTable:
    """One pass over a CSV file: ``header`` once, then ``rows()`` yields rows and problems.

    ``required`` columns must all be present; ``known`` lists the optional ones (others are
    reported once as info: a misspelled optional column would otherwise be silently unused).
    ``headerless`` gives the column order of files that may come without a header line: the
    header is then recognised by its first cell being the first column's name."""

    def __init__(
        self,
        stream: TextIO,
        file: str,
        *,
        required: Sequence[str],
        known: Sequence[str] = (),
        headerless: Sequence[str] | None = None,
        what: str = "this format",
    ) -> None:
        self.file = file
        self._reader = csv.reader(stream, strict=False)
        self._last_line = 0
        self._pending: list[str] | None = None
        self._pending_line = 0
        first = self._first_row()
        if first is None:
            raise ReaderError(f"{file}: is empty; {what} needs a header line")
        self.header_line = self._last_line
        if headerless is not None and canonical(first[0]) != headerless[0]:
            if len(first) != len(headerless):
                raise ReaderError(
                    f"{file} line {self.header_line}: is neither a header line (starting "
                    f"{headerless[0]!r}) nor a data row of {len(headerless)} fields "
                    f"({len(first)} found) for {what}"
                )
            self.header = Header(tuple(headerless), {c: c for c in headerless}, from_file=False)
            self._pending = first
            self._pending_line = self._last_line
        else:
            names = [canonical(c) for c in first]
            spelled = {canonical(c): c.strip().lstrip("\ufeff") for c in first}
            self.header = Header(tuple(names), spelled, from_file=True)
        missing = [c for c in required if c not in self.header.columns]
        if missing:
            found = ", ".join(c.strip() for c in first if c.strip()) or "nothing"
            if len(found) > 120:
                found = found[:117] + "..."
            raise ReaderError(
                f"{file} line {self.header_line}: missing required column(s) "
                f"{', '.join(missing)} for {what}; found {found}. "
                "Is this the right file and format?"
            )
        named = [c for c in self.header.columns if c]
        duplicated = sorted({c for c in named if named.count(c) > 1})
        if duplicated:
            raise ReaderError(
                f"{file} line {self.header_line}: column(s) {', '.join(duplicated)} appear "
                "more than once; keep one of each"
            )
        wanted = set(required) | set(known)
        self.unused = tuple(
            self.header.display(c) for c in self.header.columns if c and c not in wanted
        )

    def parse(self, row: Row, column: str, parse: Callable[[str], V]) -> V:
        """One field of a row through ``parse``; a missing optional column reads as empty.
        Raises RowError naming the column as the file spells it."""
        text = row.values.get(column, "")
        try:
            return parse(text)
        except FieldError as exc:
            raise RowError(self.header.display(column), text, exc.reason) from None

    def unused_problems(self) -> list[Problem]:
        """One info problem per column the format does not read (a misspelt optional column
        would otherwise be silently ignored)."""
        line = self.header_line if self.header.from_file else None
        return [
            Problem(
                self.file,
                line,
                column,
                None,
                "is not a column of this format; not read",
                Severity.INFO,
            )
            for column in self.unused
        ]

    def problem(self, row: Row, error: RowError) -> Problem:
        return Problem(self.file, row.line, error.field, error.value, error.reason)

    def _next(self) -> list[str] | None:
        try:
            row = next(self._reader)
        except StopIteration:
            return None
        except UnicodeDecodeError as exc:
            raise ReaderError(
                f"{self.file} line {self._reader.line_num + 1}: is not UTF-8 text "
                f"({exc.reason}); save the file as UTF-8 CSV"
            ) from None
        except (OSError, EOFError) as exc:  # e.g. a .gz file that is not gzip, or cut short
            raise ReaderError(
                f"{self.file} line {self._reader.line_num + 1}: cannot be read ({exc})"
            ) from None
        except csv.Error as exc:
            raise ReaderError(
                f"{self.file} line {self._reader.line_num}: is not readable CSV ({exc})"
            ) from None
        return row

    def _first_row(self) -> list[str] | None:
        while True:
            start = self._reader.line_num + 1
            row = self._next()
            if row is None:
                return None
            self._last_line = start
            if any(cell.strip() for cell in row):
                return row

    def rows(self) -> Iterator[Row | Problem]:
        """Data rows in file order; blank lines are passed over, not counted."""
        width = len(self.header.columns)
        if self._pending is not None:
            pending, self._pending = self._pending, None
            yield self._row(self._pending_line, pending, width)
        while True:
            start = self._reader.line_num + 1
            cells = self._next()
            if cells is None:
                return
            if not any(cell.strip() for cell in cells):
                continue
            yield self._row(start, cells, width)

    def _row(self, line: int, cells: list[str], width: int) -> Row | Problem:
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]  # trailing empty cells, as spreadsheets write them
        if len(cells) != width:
            fix = (
                "a value is missing or the row is cut short"
                if len(cells) < width
                else "quote values that contain commas"
            )
            return Problem(
                self.file,
                line,
                "",
                None,
                f"has {len(cells)} fields where the header has {width}; {fix}",
            )
        return Row(line, {c: v.strip() for c, v in zip(self.header.columns, cells, strict=True)})
