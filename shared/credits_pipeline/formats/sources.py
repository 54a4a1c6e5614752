"""Rows of cells from CSV text, Parquet or JSON records: what every headered format reads.

A source knows the header and streams the rows after it as (line, cells), cells as text exactly as
the file holds them (Parquet numbers via their string form, never float arithmetic). A multi-part
source reads its parts in order as one file; each part repeats the header.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Protocol

from credits_pipeline.formats.base import FileRejected, IgnoredRows, LineUnit
from credits_pipeline.formats.containers import Content, Part
from credits_pipeline.formats.json_records import EmptyPage, cell_text, parse_record, record_texts
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
    """Delimited text: one part, or the parts of a multi-part CUR, each with the same header."""

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
                for line, fields in csv_rows(text_stream(stream, self.encoding), self.delimiter, line_offset=offset):
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
    """Parquet row groups in batches; pyarrow is imported here only, when a file is Parquet."""

    line_unit: LineUnit = "row"
    BATCH_ROWS = 65_536

    def __init__(self, content: Content) -> None:
        self.content = content
        try:
            import pyarrow.parquet as pq  # noqa: PLC0415 - lazy: only Parquet files need pyarrow
        except ImportError:
            raise FileRejected("the file is Parquet, and pyarrow is not installed to read it") from None
        with _arrow_errors():
            self._files: list[Any] = [pq.ParquetFile(part.open()) for part in content.parts]
            names = tuple(str(name) for name in self._files[0].schema_arrow.names)
            for part, parquet in zip(content.parts[1:], self._files[1:], strict=True):
                if tuple(str(n) for n in parquet.schema_arrow.names) != names:
                    raise FileRejected(f"part {part.name} of the zip has other columns than the first part")
        self.header = Header(names)

    @property
    def layout(self) -> str:
        return describe_layers(self.content)

    def rows(self, needed: Sequence[int] = (), prefilter: Prefilter | None = None) -> Iterator[SourceItem]:
        with _arrow_errors():
            yield from self._rows(needed, prefilter)

    def _rows(self, needed: Sequence[int], prefilter: Prefilter | None) -> Iterator[SourceItem]:
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.compute as pc  # noqa: PLC0415

        width = len(self.header.names)
        columns = sorted(set(needed) | ({prefilter.column} if prefilter else set()))
        names = [self.header.names[index] for index in columns]
        row_number = 0
        for parquet in self._files:
            for batch in parquet.iter_batches(batch_size=self.BATCH_ROWS, columns=names):
                texts = {index: pc.cast(batch.column(position), pa.string()) for position, index in enumerate(columns)}
                positions: Sequence[int] = range(batch.num_rows)
                if prefilter is not None:
                    types = texts[prefilter.column]
                    folded = pc.utf8_lower(pc.utf8_trim_whitespace(types))
                    keep = pc.fill_null(
                        pc.is_in(folded, value_set=pa.array(sorted(prefilter.keep), pa.string())), False
                    )
                    for entry in pc.value_counts(pc.filter(types, pc.invert(keep))).to_pylist():
                        yield IgnoredRows(entry["values"] or "", int(entry["counts"]))
                    kept = pc.indices_nonzero(keep)
                    # Only the kept rows become Python strings: credits are ~1% of a CUR.
                    texts = {index: pc.take(column, kept) for index, column in texts.items()}
                    positions = kept.to_pylist()
                values = {index: column.to_pylist() for index, column in texts.items()}
                for offset, position in enumerate(positions):
                    cells = [""] * width
                    for index, column_values in values.items():
                        value = column_values[offset]
                        cells[index] = "" if value is None else value
                    yield row_number + position + 1, cells
                row_number += batch.num_rows


@contextmanager
def _arrow_errors() -> Iterator[None]:
    """pyarrow's errors (some are TypeError or KeyError underneath) as a clear rejection."""
    import pyarrow as pa  # noqa: PLC0415

    try:
        yield
    except (pa.lib.ArrowException, OSError) as error:  # a damaged page header is a plain OSError
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise FileRejected(f"the Parquet file cannot be read: {detail}") from None


class JsonSource:
    """JSON records (see json_records); the header is the union of the first records' fields."""

    line_unit: LineUnit = "record"
    HEADER_RECORDS = 200

    def __init__(self, content: Content) -> None:
        self.content = content
        names: dict[str, None] = {}
        for _, record in self._records(stop_after=self.HEADER_RECORDS):
            if isinstance(record, dict):
                names.update(dict.fromkeys(record))
        if not names:
            raise FileRejected("the JSON holds no records (objects in a list, or JSON Lines)")
        self.header = Header(tuple(names))

    @property
    def layout(self) -> str:
        return describe_layers(self.content)

    def _records(self, stop_after: int | None = None) -> Iterator[tuple[int, dict[str, object] | str | None]]:
        number = 0
        for part in self.content.parts:
            with opened(part) as stream:
                for record_text in record_texts(text_stream(stream, encoding_of(part.head))):
                    number += 1
                    try:
                        yield number, parse_record(record_text)
                    except EmptyPage:
                        yield number, None
                    except ValueError as error:
                        yield number, str(error)
                    if stop_after is not None and number >= stop_after:
                        return

    def rows(self, needed: Sequence[int] = (), prefilter: Prefilter | None = None) -> Iterator[SourceItem]:
        names = self.header.names
        for number, record in self._records():
            if record is None:
                yield IgnoredRows("empty page of results", 1)
            elif isinstance(record, str):
                yield BadRow(number, record)
            else:
                yield number, [cell_text(record.get(name)) for name in names]
