"""Rows of cells from CSV text, Parquet or JSON records: what every headered format reads.

A source knows the header and streams the rows after it as (line, cells), cells as text exactly as
the file holds them (Parquet numbers via their string form, never float arithmetic). A multi-part
source (the parts of one CUR, CUR 2.0 or FOCUS export, formats.registry) reads its parts in order as
one file; each part repeats the header.
"""

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import IO, Protocol

from credits_pipeline.formats.base import FileRejected, IgnoredRows, LineUnit
from credits_pipeline.formats.containers import Content, Part
from credits_pipeline.formats.json_records import (
    EmptyPage,
    PageEnd,
    PageOrRecord,
    PageStart,
    SavedPages,
    cell_text,
    is_paging_key,
    parse_record,
    record_texts,
)
from credits_pipeline.formats.text import DELIMITER_NAMES, csv_rows, encoding_of, text_stream
from credits_pipeline.formats.values import header_key

SourceRow = tuple[int, list[str]]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row the source itself could not read (a JSON record that is not an object, ...)."""

    line: int
    reason: str


SourceItem = SourceRow | IgnoredRows | BadRow


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]
    line: int = 0  # the header's line in the first part (0: the source has no header line)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(header_key(name) for name in self.names)


@dataclass(frozen=True)
class Prefilter:
    """Only rows whose type cell (stripped, casefolded) is in `keep` need reading one by one."""

    column: int
    keep: frozenset[str]


class RowSource(Protocol):
    header: Header
    line_unit: LineUnit

    @property
    def layout(self) -> str: ...

    def rows(self, needed: Sequence[int] = (), prefilter: Prefilter | None = None) -> Iterator[SourceItem]:
        """Rows after the header; only `needed` cells must be filled (others may be empty)."""
        ...


def describe_layers(content: Content) -> str:
    return " > ".join(content.layers)


@contextmanager
def opened(part: Part) -> Iterator[IO[bytes]]:
    stream = part.open()
    try:
        yield stream
    finally:
        if part.owned:
            stream.close()


class CsvSource:
    """Delimited text: one part, or the parts of a multi-part export, each with the same header."""

    line_unit: LineUnit = "line"

    def __init__(self, content: Content, delimiter: str, header: Header) -> None:
        self.content = content
        self.delimiter = delimiter
        self.header = header
        self.encoding = encoding_of(content.parts[0].head)

    @property
    def layout(self) -> str:
        head = self.content.parts[0].head
        details = [f"{DELIMITER_NAMES[self.delimiter]}-delimited"]
        if self.encoding == "utf-16":
            details.append("UTF-16")
        else:
            details.append("UTF-8 with BOM" if head.startswith(b"\xef\xbb\xbf") else "UTF-8")
        if b"\r\n" in head:
            details.append("CRLF")
        return f"{describe_layers(self.content)} ({', '.join(details)})"

    def rows(self, needed: Sequence[int] = (), prefilter: Prefilter | None = None) -> Iterator[SourceItem]:
        offset = 0
        for number, part in enumerate(self.content.parts):
            expect_header = number > 0 and self.header.line > 0
            last = offset
            with opened(part) as stream:
                rows = csv_rows(
                    text_stream(stream, self.encoding),
                    self.delimiter,
                    line_offset=offset,
                    max_columns=self.content.limits.max_columns,
                )
                for line, fields in rows:
                    last = line
                    if number == 0 and line <= self.header.line:
                        continue
                    if expect_header:
                        expect_header = False
                        self._check_part_header(part, fields, line)
                        continue
                    yield line, fields
            offset = last

    def _check_part_header(self, part: Part, fields: list[str], line: int) -> None:
        if tuple(header_key(cell) for cell in fields) != self.header.keys:
            raise FileRejected(
                f"part {part.name} of the zip does not start with the first part's header: "
                "the parts are not one multi-part file",
                line=line,
            )


class ParquetSource:
    """Parquet read by DuckDB (formats.columnar.engine, imported here only, when a file is Parquet).

    Cells are the values' text as DuckDB casts them (a double in its shortest form, a decimal with its
    scale, a timestamp as `2025-01-01 00:00:00`): never float arithmetic.
    """

    line_unit: LineUnit = "row"
    BATCH_ROWS = 65_536

    def __init__(self, content: Content) -> None:
        from credits_pipeline.formats.columnar import engine  # noqa: PLC0415 - lazy: only Parquet needs DuckDB

        self.content = content
        self._engine = engine
        self._paths = ExitStack()
        engine.connection()  # made outside the errors that mean a damaged file
        with self._errors():
            self.paths = [self._paths.enter_context(engine.file_path(part)) for part in content.parts]
            schema = self._schema(self.paths[0])
            for part, path in zip(content.parts[1:], self.paths[1:], strict=True):
                if [name for name, _ in self._schema(path)] != [name for name, _ in schema]:
                    raise FileRejected(f"part {part.name} of the zip has other columns than the first part")
        self.header = Header(tuple(name for name, _ in schema))
        self._types = [type_ for _, type_ in schema]

    def _schema(self, path: str) -> list[tuple[str, str]]:
        query = f"DESCRIBE SELECT * FROM read_parquet({self._engine.sql_text(path)})"
        return [(str(row[0]), str(row[1])) for row in self._engine.connection().execute(query).fetchall()]

    def text_of(self, index: int, column: str | None = None) -> str:
        """SQL for a column's values as text (`column`: the SQL naming it, if not its own name). A whole
        double is written without `.0` (`-20`, as Arrow writes it): a credit's amount keeps the digits the
        file gives it."""
        text = f"CAST({column or self._engine.sql_name(self.header.names[index])} AS VARCHAR)"
        if self._types[index] in ("DOUBLE", "FLOAT"):
            return f"regexp_replace({text}, '\\.0$', '')"
        return text

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """DuckDB's word that the Parquet is damaged, as a clear rejection; its other errors stay errors."""
        import duckdb  # noqa: PLC0415

        try:
            yield
        except duckdb.Error as error:
            if not self._engine.is_damage(error):
                raise
            raise self._engine.rejection(error, "the Parquet file cannot be read") from None

    @property
    def layout(self) -> str:
        return describe_layers(self.content)

    def rows(self, needed: Sequence[int] = (), prefilter: Prefilter | None = None) -> Iterator[SourceItem]:
        with self._errors():
            yield from self._rows(needed, prefilter)

    def _rows(self, needed: Sequence[int], prefilter: Prefilter | None) -> Iterator[SourceItem]:
        engine = self._engine
        width = len(self.header.names)
        columns = sorted(set(needed) | ({prefilter.column} if prefilter else set()))
        selected = ", ".join(self.text_of(index) for index in columns)
        offset = 0
        for path in self.paths:
            table = f"read_parquet({engine.sql_text(path)}, file_row_number = true)"
            where = ""
            # Rows of other types, counted: each told where its first row is, as a CSV's rows are.
            others: list[tuple[int, IgnoredRows]] = []
            if prefilter is not None:
                type_column = self.text_of(prefilter.column)
                counts = engine.connection().execute(
                    f"SELECT {type_column}, count(*), min(file_row_number) FROM {table} GROUP BY ALL ORDER BY 3"
                )
                kept: list[str] = []
                for value, count, first in counts.fetchall():
                    if value and value.strip().casefold() in prefilter.keep:
                        kept.append(value)
                    else:
                        others.append((int(first), IgnoredRows((value or "").strip(), int(count))))  # as in a CSV
                listed = ", ".join(engine.sql_text(value) for value in kept) or "NULL"
                where = f"WHERE {type_column} IN ({listed})"
            others.reverse()
            cursor = engine.cursor()
            try:
                cursor.execute(f"SELECT file_row_number, {selected} FROM {table} {where} ORDER BY file_row_number")
                while batch := cursor.fetchmany(self.BATCH_ROWS):
                    for number, *values in batch:
                        while others and others[-1][0] < number:
                            yield others.pop()[1]
                        cells = [""] * width
                        for index, value in zip(columns, values, strict=True):
                            cells[index] = "" if value is None else value
                        yield offset + number + 1, cells
                while others:
                    yield others.pop()[1]
                rows = cursor.execute(f"SELECT count(*) FROM {table}").fetchone()
                offset += int(rows[0]) if rows else 0
            finally:
                cursor.close()


class JsonSource:
    """JSON records (see json_records); the header is the union of the first records' fields.

    Saved API pages are checked as they are read (json_records.Pagination): a page saved twice, or a
    file whose every page asks for a next one, rejects the file. Records not in a page (JSON Lines, a
    bare list) say nothing about pages.
    """

    line_unit: LineUnit = "record"
    HEADER_RECORDS = 200

    def __init__(self, content: Content) -> None:
        self.content = content
        names: dict[str, None] = {}
        undecided: dict[str, None] = {}  # the fields of objects that may be empty pages (PageOrRecord)
        for _, record in self._records(stop_after=self.HEADER_RECORDS):
            if isinstance(record, PageOrRecord):
                undecided.update(dict.fromkeys(key for key in record if not is_paging_key(key)))
            elif isinstance(record, dict):
                names.update(dict.fromkeys(record))
        names = names or undecided  # every record holds an empty list (`"tags": []`)
        if not names:
            raise FileRejected("the JSON holds no records (objects in a list, or JSON Lines)")
        self.header = Header(tuple(names))
        self._fields = frozenset(names)

    @property
    def layout(self) -> str:
        return describe_layers(self.content)

    def _records(
        self, stop_after: int | None = None, pages: SavedPages | None = None, fields: frozenset[str] | None = None
    ) -> Iterator[tuple[int, dict[str, object] | str | None]]:
        """(number, record: its fields, why it cannot be read, or None for an empty page). `fields`: those of
        the file's records, which tell an empty page from a record that holds an empty list; without them
        (reading the header) such an object is yielded as a PageOrRecord."""
        number = 0
        for part in self.content.parts:
            with opened(part) as stream:
                for item in record_texts(text_stream(stream, encoding_of(part.head))):
                    if isinstance(item, PageStart):
                        if pages is not None:
                            pages.start(number + 1)
                        continue
                    if isinstance(item, PageEnd):
                        if pages is not None:
                            pages.end(item.values, number)
                        continue
                    number += 1
                    record: dict[str, object] | str | None
                    try:
                        record = parse_record(item)
                        if fields is not None and isinstance(record, PageOrRecord) and record.is_empty_page(fields):
                            raise EmptyPage(record)
                    except EmptyPage as empty:
                        record = None
                        if pages is not None:
                            pages.empty(empty.page, number)
                    except ValueError as error:
                        record = str(error)
                    if pages is not None:
                        pages.record(record)
                    yield number, record
                    if stop_after is not None and number >= stop_after:
                        return
        if pages is not None:
            pages.check()

    def rows(self, needed: Sequence[int] = (), prefilter: Prefilter | None = None) -> Iterator[SourceItem]:
        names = self.header.names
        for number, record in self._records(pages=SavedPages(), fields=self._fields):
            if record is None:
                yield IgnoredRows("empty page of results", 1)
            elif isinstance(record, str):
                yield BadRow(number, record)
            else:
                yield number, [cell_text(record.get(name)) for name in names]
