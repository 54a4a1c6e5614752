"""A CUR or FOCUS table read as columns: DuckDB filters and sums, Python decides what is not plain.

One pass over the file (a gzip inflates once, as DuckDB reads it). Each row is one of:

- another type (`Usage`, `Tax`, ...): counted per type, as IgnoredRows;
- a plain credit row: a 12-digit account id (known, where a list is configured), an ISO month, a
  non-zero plain decimal amount (at most 12 integer digits and 18 decimals: exact in DECIMAL(38,18)).
  These are summed in DuckDB per the raw text of every cell a credit is made of (type, account,
  month, description, service, currency, provider); the row reader (`TabularFormat.read_row`) reads
  one representative row of each sum, so each sum is decided exactly as each of its rows would be;
- any other row (an odd amount, a short or unknown account id, a zero, a type that is not plain
  letters): handed over whole to the row reader, with its line.

The result is what the row reader yields, in the file's order, with summed groups in place of their
rows (see base.CreditGroup); `normalise` makes the same CreditFile of either. A CSV is read this way
only when its rows can be numbered exactly (one line each: no quoted line break, blank line or lone
CR); otherwise `None` says: read it row by row.
"""

import csv
import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from credits_pipeline.domain.credits import EXACT, CreditLine, IgnoredRow, SkippedRow
from credits_pipeline.formats.base import CreditFormat, CreditGroup, FormatRow, IgnoredRows, ParseConfig
from credits_pipeline.formats.columnar import engine
from credits_pipeline.formats.sources import CsvSource, ParquetSource
from credits_pipeline.formats.tabular import TabularFormat

AMOUNT_PATTERN = r"-?[0-9]{1,12}(\.[0-9]{1,18})?"
ACCOUNT_PATTERN = r"[0-9]{12}"
# A billing period as CUR and FOCUS write it (years 2000-2099), in UTC (`Z`, `+00`, `+00:00` or none;
# DuckDB writes a Parquet timestamp with a zone as `2024-10-01 00:00:00+00`): parse_month reads its YYYY-MM.
# A period's start with another offset (`2025-02-01T00:00:00+01:00`) is the row reader's to read.
MONTH_PATTERN = (
    r"20[0-9]{2}-(0[1-9]|1[0-2])"
    r"(-(0[1-9]|[12][0-9]|3[01])([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|\+00(:?00)?)?)?)?"
)
TYPE_PATTERN = r"[A-Za-z]+"
BATCH_RECORDS = 10_000
# The csv module refuses a cell longer than its field limit, which DuckDB reads: a longer line is left to
# the row reader, which rejects such a cell, or reads the line when no one cell is that long.
MAX_LINE_BYTES = csv.field_size_limit()
_OTHER, _SUMMED, _ONE_BY_ONE = 0, 1, 2


class _ReadRowByRow(Exception):
    """The file holds something the columnar rules leave to the row reader for the whole file."""


def read_as_columns(credit_format: CreditFormat, config: ParseConfig) -> Iterator[FormatRow] | None:
    """The format's rows read as columns, or None when the file is to be read row by row.

    The file is read (and the choice made) before this returns; the rows come from DuckDB's result in
    batches, so the Python objects alive at once are a batch's, not the file's groups'."""
    if not isinstance(credit_format, TabularFormat) or not _eligible(credit_format):
        return None
    source = credit_format.source
    try:
        if isinstance(source, ParquetSource):
            return _read(credit_format, config, _parquet_scan(source, _needed(credit_format)))
        assert isinstance(source, CsvSource)
        part = source.content.parts[0]
        header_line = credit_format.info.header_line
        if part.inflate is None and not part.owned:  # the upload itself: DuckDB reads its file in parallel
            with engine.file_path(part) as path:
                scan = _csv_scan(path, source.delimiter, credit_format.width, header_line)
                return _read(credit_format, config, scan, engine.count_line_ends(path))
        with engine.piped(part) as feed:  # inflated once, as DuckDB reads it
            scan = _csv_scan(feed.path, source.delimiter, credit_format.width, header_line)
            return _read(credit_format, config, scan, lambda: feed.ends)
    except _ReadRowByRow:
        return None


def _eligible(reader: TabularFormat) -> bool:
    spec = reader.spec
    roles = reader.roles
    source = reader.source
    keep = spec.credit_types | {type_ for type_, _ in spec.conditional_types}
    if not (
        spec.duplicate_policy == "sum"
        and spec.strict_width
        and spec.credit_types
        and not spec.total_rows
        and not spec.hand_made
        and not spec.credit_when_nonzero
        and not spec.account_fallback_types  # which rows may take a later account column is read row by row
        and not reader.states_totals
        and not reader.fixed_month
        and not reader.decimal_comma
        and all(value.isascii() and value.isalpha() and value.islower() for value in keep)
        and {"row_type", "account", "month", "amount"} <= roles.keys()
        and "estimated" not in roles
    ):
        return False
    if isinstance(source, ParquetSource):
        return len(source.content.parts) == 1
    return (
        isinstance(source, CsvSource)
        and len(source.content.parts) == 1
        and source.encoding == "utf-8-sig"
        and source.header.line == 1
    )


@dataclass(frozen=True)
class _Scan:
    """A table DuckDB reads, as a subquery of our own column names only: `line` (each row's line or row
    number), `misshapen` (a row not of the header's width) and `c<index>` for the columns read (a file's
    own names, `type_text` say, would otherwise stand in for the query's); `text(index)`: SQL for a
    column's values as text."""

    table: str
    text: Callable[[int], str]


def _needed(reader: TabularFormat) -> list[int]:
    """The columns the credit rules read: every role's."""
    return sorted({index for indexes in reader.roles.values() for index in indexes})


def _csv_scan(path: str, delimiter: str, width: int, header_line: int) -> _Scan:
    # One column more than the header has, padded with NULL where a row has no more cells: DuckDB drops
    # empty cells past its columns without a word (`...,USD,` reads as `...,USD`), where the row reader
    # skips a row of another width. An empty cell reads as '' and only a missing one as NULL (no cell is
    # ever a line end, and a quoted cell is never NULL), so a row of the header's width has a value in its
    # last cell and none past it; any other row is `misshapen` (its true width is the row reader's to say).
    columns = ", ".join(f"{engine.sql_text(f'c{index}')}: 'VARCHAR'" for index in range(width + 1))
    csv = (
        f"read_csv({engine.sql_text(path)}, header = true, auto_detect = false, columns = {{{columns}}}, "
        f"delim = {engine.sql_text(delimiter)}, quote = '\"', escape = '\"', strict_mode = true, "
        f"null_padding = true, nullstr = {engine.sql_text(chr(10))}, allow_quoted_nulls = false, "
        f"max_line_size = {MAX_LINE_BYTES})"
    )
    misshapen = f"c{width} IS NOT NULL OR c{width - 1} IS NULL"
    # Rows in the order of the file (the engine keeps insertion order), one line each (checked after).
    return _Scan(
        f"(SELECT row_number() OVER () + {header_line} AS line, {misshapen} AS misshapen, * FROM {csv})",
        lambda index: f"c{index}",
    )


def _parquet_scan(source: ParquetSource, needed: list[int]) -> _Scan:
    columns = ", ".join(f"{engine.sql_name(source.header.names[index])} AS c{index}" for index in needed)
    parquet = f"read_parquet({engine.sql_text(source.paths[0])}, file_row_number = true)"
    return _Scan(
        f"(SELECT file_row_number + 1 AS line, false AS misshapen, {columns} FROM {parquet})",
        lambda index: source.text_of(index, f"c{index}"),
    )


def _read(
    reader: TabularFormat, config: ParseConfig, scan: _Scan, line_ends: Callable[[], engine.LineEnds] | None = None
) -> Iterator[FormatRow]:
    """The rows of `scan` as the row reader would yield them, summed where they are plain; `line_ends`
    (a CSV): its lines, once read, to tell whether its rows are numbered as the row reader numbers them."""
    import duckdb  # noqa: PLC0415 - the engine module made sure it is there

    roles = reader.roles
    spec = reader.spec
    needed = _needed(reader)
    type_column, account, month, amount = (f"c{roles[role][0]}" for role in ("row_type", "account", "month", "amount"))
    keys = [f"c{index}" for index in needed if f"c{index}" not in (type_column, amount)]
    keep = sorted(spec.credit_types | {type_ for type_, _ in spec.conditional_types})
    known = config.known_accounts
    connection = engine.cursor()
    known_rule = ""
    if known is not None:
        listed = "CREATE OR REPLACE TEMP TABLE known_accounts AS SELECT unnest(?::VARCHAR[]) AS id"
        connection.execute(listed, [sorted(known)])
        known_rule = f"AND {account} IN (SELECT id FROM known_accounts)"
    header_line = reader.info.header_line
    plain_amount = f"regexp_full_match({amount}, {engine.sql_text(AMOUNT_PATTERN)})"
    type_text = f"coalesce({scan.text(roles['row_type'][0])}, '')"
    # Only credit rows (about 1% of a CUR) have their other cells made text (a Parquet timestamp, say).
    cells = [
        f"CASE WHEN NOT other THEN coalesce({scan.text(index)}, '') END AS c{index}"
        for index in needed
        if f"c{index}" != type_column
    ]
    query = f"""
        WITH typed AS (
            SELECT *, {type_text} AS type_text,
                regexp_full_match(type_text, {engine.sql_text(TYPE_PATTERN)})
                    AND lower(type_text) NOT IN ({", ".join(map(engine.sql_text, keep))}) AS other
            FROM {scan.table}
        ), source AS (
            SELECT line, misshapen, other, type_text AS {type_column}, {", ".join(cells)} FROM typed
        ), valued AS (
            -- A cast to DECIMAL(38, 18) is the costly part: credit rows only.
            SELECT *, CASE WHEN NOT other AND {plain_amount} THEN TRY_CAST({amount} AS DECIMAL(38, 18)) END AS value
            FROM source
        ), marked AS (
            SELECT *,
                CASE
                    WHEN other THEN {_OTHER}
                    WHEN regexp_full_match({account}, {engine.sql_text(ACCOUNT_PATTERN)})
                         AND regexp_full_match({month}, {engine.sql_text(MONTH_PATTERN)})
                         AND value <> 0 {known_rule} THEN {_SUMMED}
                    ELSE {_ONE_BY_ONE}
                END AS kind
            FROM valued
        )
        SELECT * EXCLUDE (misshapen),
            sum(row_count) OVER () AS rows_read,
            -- A row of a blank type may be a blank row, which the row reader passes over uncounted.
            bool_or(kind = {_ONE_BY_ONE} AND NOT regexp_matches({type_column}, '[A-Za-z0-9]')) OVER () AS blank,
            bool_or(misshapen) OVER () AS misshapen
        FROM (
        SELECT kind, {type_column},
            {", ".join(f"CASE WHEN kind <> {_OTHER} THEN {key} END AS {key}" for key in keys)},
            CASE WHEN kind = {_ONE_BY_ONE} THEN line END AS row_line,
            CASE WHEN kind = {_ONE_BY_ONE} THEN {amount} END AS row_amount,
            count(*) AS row_count,
            min(line) AS first_line,
            sum(value) FILTER (WHERE kind = {_SUMMED}) AS total,
            max(CASE WHEN strpos({amount}, '.') > 0 THEN length({amount}) - strpos({amount}, '.') ELSE 0 END)
                FILTER (WHERE kind = {_SUMMED}) AS scale,
            -- Every line of a group (8 bytes each; a credit keeps its first ones): `min(line, n)` would hold
            -- n per group however few its rows, which a CUR of 10M rows and 50,000 groups cannot afford.
            list(line) FILTER (WHERE kind = {_SUMMED}) AS lines,
            bool_or(misshapen) AS misshapen
        FROM marked
        GROUP BY ALL
        )
        ORDER BY first_line
    """
    try:
        first = connection.execute(query).fetchmany(BATCH_RECORDS)
    except duckdb.Error as error:
        connection.close()
        engine.discard_if_broken(error)
        if engine.is_damage(error) or (line_ends is not None and not line_ends().whole_utf8):
            raise _ReadRowByRow from None  # the row reader says what is wrong, with its line
        if isinstance(error, duckdb.OutOfMemoryException):
            # Groups beyond DuckDB's share of memory (a file of millions of credit rows): the row reader
            # reads any file in bounded memory, more slowly.
            raise _ReadRowByRow from None
        raise
    rows_read, blank, misshapen = first[0][-3:] if first else (0, False, False)
    ends = line_ends() if line_ends is not None else None
    lines = ends.lines if ends is not None else rows_read + header_line
    if (
        blank
        or misshapen
        or lines is None
        or lines - header_line != rows_read
        or (ends is not None and not ends.whole_utf8)
    ):
        connection.close()
        # Rows span lines, or lines are blank: only the row reader numbers them; a byte that is not UTF-8:
        # the row reader says where. A row of another width than the header: the row reader says what it is.
        raise _ReadRowByRow
    return _stream(connection, first, _Items(reader, keys, max(config.max_lines_per_credit, 1)))


def _stream(connection: Any, first: list[tuple[Any, ...]], items: "_Items") -> Iterator[FormatRow]:
    try:
        batch = first
        while batch:
            for record in batch:
                yield items.item(record)
            batch = connection.fetchmany(BATCH_RECORDS)
    finally:
        connection.close()


class _Items:
    """Records of the query -> the row reader's outcomes, and summed groups of plain credit rows."""

    # Any 12-digit id: a plain group's reading does not depend on which (its own id is put in after).
    STAND_IN_ACCOUNT = "100000000000"

    def __init__(self, reader: TabularFormat, keys: list[str], line_cap: int) -> None:
        self.reader = reader
        self.keys = keys
        self.line_cap = line_cap
        roles = reader.roles
        self.type_index, self.amount_index = roles["row_type"][0], roles["amount"][0]
        self.account_key = keys.index(f"c{roles['account'][0]}")
        # How the row reader reads a plain group, per its cells but the account id: a few kinds per file.
        self._read: dict[tuple[str, ...], CreditLine | SkippedRow | IgnoredRow] = {}
        self._exponents: dict[int, Decimal] = {}

    def cells(self, row_type: str, values: tuple[str, ...], amount: str) -> list[str]:
        cells = [""] * self.reader.width
        cells[self.type_index] = row_type
        for key, value in zip(self.keys, values, strict=True):
            cells[int(key[1:])] = value
        cells[self.amount_index] = amount
        return cells

    def item(self, record: tuple[Any, ...]) -> FormatRow:
        kind, row_type = record[0], record[1]
        values = record[2 : 2 + len(self.keys)]
        row_line, row_amount, row_count, first_line, total, scale, lines = record[2 + len(self.keys) : -3]
        if kind == _OTHER:
            return IgnoredRows(row_type, row_count)
        if kind == _ONE_BY_ONE:
            return self.reader.read_row(row_line, self.cells(row_type, values, row_amount))
        account = values[self.account_key]
        shared = (row_type, *values[: self.account_key], *values[self.account_key + 1 :])
        outcome = self._read.get(shared)
        if outcome is None:
            stand_in = (*values[: self.account_key], self.STAND_IN_ACCOUNT, *values[self.account_key + 1 :])
            outcome = self._read[shared] = self.reader.read_row(first_line, self.cells(row_type, stand_in, "1"))
        if isinstance(outcome, IgnoredRow):
            return IgnoredRows(outcome.row_type, row_count)
        if not isinstance(outcome, CreditLine) or outcome.padded:
            # A plain row has a valid account and month: the SQL rules and the row reader disagree.
            raise RuntimeError(f"the columnar rules took a row the row reader skips: {outcome}")
        exponent = self._exponents.get(scale)
        if exponent is None:
            exponent = self._exponents[scale] = Decimal(1).scaleb(-scale)
        with localcontext(EXACT):
            cost = total.quantize(exponent)  # the digits the amounts are written with, as Decimal sums keep
        credit = CreditLine(
            first_line, account, outcome.month, cost, outcome.description, outcome.service, outcome.currency
        )
        return CreditGroup(credit, row_count, tuple(heapq.nsmallest(self.line_cap, lines)))
