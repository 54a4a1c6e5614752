"""The columnar reader (CUR and FOCUS tables read by DuckDB) makes the same CreditFile as the row reader.

Same to the digit and the line: every credit with its cost as written (`-4.00`, not `-4`), its lines and
row count, every skipped row with its line and reason, the counts, the notes and the report fields; a
file one rejects, the other rejects with the same reason and problems. The row reader
(`ParseConfig(columnar=False)`) is the reference.
"""

import gzip
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.credits import CreditFile
from credits_pipeline.formats import FileRejected, ParseConfig, detect_format, read_credit_file
from credits_pipeline.formats.columnar import read_as_columns
from testdata.cur import (
    CUR2_COLUMNS,
    CUR2_PARQUET_TYPES,
    LEGACY_COLUMNS,
    Cur2LineItem,
    LegacyLineItem,
    cur2_table,
    legacy_cur_csv,
    write_cur2_csv,
    write_cur2_parquet,
    write_legacy_cur,
)
from testdata.encode import csv_text, parquet_bytes
from testdata.expected import Expected
from testdata.focus import write_aws_focus_csv
from tests.unit.formats.helpers import FIXTURES

NOT_CREDIT_FILES = {"README.md", "make_fixtures.py"}
FIXTURE_FILES = sorted(
    path.relative_to(FIXTURES).as_posix()
    for path in FIXTURES.rglob("*")
    if path.is_file() and path.name not in NOT_CREDIT_FILES
)
# What the columnar reader takes on (a multi-part zip is read row by row).
COLUMNAR_FIXTURES = [
    relative
    for relative in FIXTURE_FILES
    if relative.split("/")[0] in ("cur-legacy", "cur2", "cur-athena", "focus") and "multipart" not in relative
]
CONFIGS: dict[str, dict[str, object]] = {
    "default": {},
    "known accounts, short lists": {
        "known_accounts": frozenset({"111122223333", "123456789012", "000000000042", "210987654321"}),
        "max_lines_per_credit": 1,
        "skipped_detail_limit": 2,
    },
    "padding refused": {"pad_account_ids": False},
}


@contextmanager
def spooled(data: bytes) -> Iterator[BinaryIO]:
    """The bytes as the splitter hands a download over: a spooled file, on disk once past its size."""
    with tempfile.SpooledTemporaryFile(max_size=4096) as stream:
        stream.write(data)
        stream.seek(0)
        yield cast(BinaryIO, stream)


def outcome(data: bytes, name: str, config: ParseConfig) -> object:
    """All a reader says of a file: the CreditFile's repr and every credit's (Decimals as written), or the
    rejection whole. A month's repr only counts its credits: they are listed beside it."""
    with spooled(data) as stream:
        try:
            read = read_credit_file(stream, name, config)
        except FileRejected as rejection:
            return (
                str(rejection),
                rejection.problems,
                rejection.problem_counts,
                rejection.problems_total,
                rejection.format_id,
            )
    return repr(read), {month: repr(credits.credits) for month, credits in read.months.items()}


def assert_same(data: bytes, name: str, **config: object) -> None:
    columnar = outcome(data, name, ParseConfig(**config))  # type: ignore[arg-type]
    rows = outcome(data, name, ParseConfig(columnar=False, **config))  # type: ignore[arg-type]
    assert columnar == rows


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("relative", FIXTURE_FILES)
def test_every_fixture_reads_the_same_as_columns_and_row_by_row(relative: str, config: dict[str, object]) -> None:
    assert_same((FIXTURES / relative).read_bytes(), f"incoming/{Path(relative).name}", **config)


@pytest.mark.parametrize("relative", COLUMNAR_FIXTURES)
def test_cur_and_focus_tables_are_read_as_columns(relative: str) -> None:
    config = ParseConfig()
    with spooled((FIXTURES / relative).read_bytes()) as stream:
        credit_format = detect_format(stream, f"incoming/{Path(relative).name}", config)
        assert read_as_columns(credit_format, config) is not None


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_generated_legacy_curs_read_the_same(tmp_path: Path, seed: int, suffix: str) -> None:
    path = tmp_path / f"cur{suffix}"
    write_legacy_cur(path, rows=3_000 * seed, accounts=40 * seed, seed=seed)
    for config in CONFIGS.values():
        assert_same(path.read_bytes(), f"incoming/cur/cur-00001{suffix}", **config)


Writer = Callable[..., Expected]
GENERATED_TABLES: dict[str, tuple[Writer, str]] = {
    "CUR 2.0 CSV": (write_cur2_csv, "incoming/cur2/data/cur2-00001.csv.gz"),
    "FOCUS 1.2 with AWS columns": (write_aws_focus_csv, "incoming/focus/data/focus-00001.csv.gz"),
}


@pytest.mark.parametrize("table", GENERATED_TABLES.values(), ids=GENERATED_TABLES.keys())
def test_generated_cur2_and_focus_csvs_are_read_as_columns_the_same(tmp_path: Path, table: tuple[Writer, str]) -> None:
    write, key = table
    path = tmp_path / "table.csv.gz"
    expected = write(path, rows=4_000, accounts=30, seed=6)
    data = path.read_bytes()
    with spooled(data) as stream:
        credit_format = detect_format(stream, key, ParseConfig())
        assert read_as_columns(credit_format, ParseConfig()) is not None
    with spooled(data) as stream:
        read = read_credit_file(stream, key, ParseConfig())
    assert (read.format_id, read.total, read.credit_rows) == (expected.format_id, expected.total, expected.credit_rows)
    for config in CONFIGS.values():
        assert_same(data, key, **config)


@pytest.mark.parametrize("seed", [4, 5])
def test_generated_cur2_parquet_reads_the_same(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "cur2.parquet"
    write_cur2_parquet(path, rows=2_000 * seed, accounts=30, seed=seed)
    for config in CONFIGS.values():
        assert_same(path.read_bytes(), "incoming/cur2/data/cur2-00001.snappy.parquet", **config)


@pytest.mark.parametrize("extra", ["type_text", "other", "line", "value", "kind"])
def test_a_parquet_column_named_as_the_query_names_its_own_is_not_read_in_their_place(extra: str) -> None:
    # A file's extra column named as one of the query's own (all "Credit" here): the file is still read as
    # columns, the Usage row stays ignored and the credit is its own row's, not 500 of usage summed into it.
    items = [Cur2LineItem("123456789012", "Usage", "500.0"), Cur2LineItem("123456789012", "Credit", "-1.0")]
    table = [[*row, "Credit" if n else extra] for n, row in enumerate(cur2_table(items, CUR2_COLUMNS))]
    data = parquet_bytes(table, CUR2_PARQUET_TYPES)
    name = "incoming/cur2/data/cur2-00001.snappy.parquet"

    with spooled(data) as stream:
        credit_format = detect_format(stream, name, ParseConfig())
        assert read_as_columns(credit_format, ParseConfig()) is not None
    with spooled(data) as stream:
        read = read_credit_file(stream, name, ParseConfig())

    [credit] = read.months["2025-01"].credits
    assert (credit.account_id, credit.cost, credit.rows) == ("123456789012", Decimal("-1"), 1)
    assert read.ignored_by_type == {"Usage": 1}
    assert_same(data, name)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize("column", ["description", "region"])  # one the rules read, one they do not
def test_a_byte_that_is_not_utf8_past_the_head_is_rejected_as_row_by_row_and_the_engine_lives_on(
    column: str, suffix: str
) -> None:
    account = "123456789012"
    items = [LegacyLineItem(account, "Credit", "-1.5", "d"), *[LegacyLineItem(account, "Usage", "1", "u")] * 400]
    marked = (
        LegacyLineItem(account, "Usage", "1", "X")
        if column == "description"
        else LegacyLineItem(account, "Usage", "1", "u", region="X")
    )
    text = legacy_cur_csv([*items, marked]).encode()
    data = text.replace(b",X,", b",\xe9,") if column == "description" else text.replace(b",X\n", b",\xe9\n")
    assert data.index(b"\xe9") > 65_536  # past the head the format is told from
    data = gzip.compress(data) if suffix.endswith(".gz") else data
    name = f"incoming/cur/cur-00001{suffix}"

    rejected = outcome(data, name, ParseConfig())

    assert isinstance(rejected, tuple) and "is not UTF-8 text" in str(rejected[0])
    assert_same(data, name)
    good = legacy_cur_csv(items).encode()  # DuckDB's internal error would have ended its database
    with spooled(good) as stream:
        assert read_as_columns(detect_format(stream, name.removesuffix(".gz"), ParseConfig()), ParseConfig())
    assert_same(good, name.removesuffix(".gz"))


def test_a_cell_longer_than_the_csv_modules_limit_is_refused_as_row_by_row() -> None:
    account = "123456789012"
    items = [
        LegacyLineItem(account, "Credit", "-1.5", "d"),
        *[LegacyLineItem(account, "Usage", "1", "u")] * 400,
        LegacyLineItem(account, "Usage", "1", "y" * 200_000),  # past the head, longer than csv's 131,072
    ]
    data = legacy_cur_csv(items).encode()

    rejected = outcome(data, "incoming/cur/cur-00001.csv", ParseConfig())

    assert isinstance(rejected, tuple) and "field larger than field limit" in str(rejected[0])
    assert_same(data, "incoming/cur/cur-00001.csv")


def test_an_id_written_in_full_after_the_same_id_written_short_is_not_listed_as_padded() -> None:
    items = [LegacyLineItem("42", "Credit", "-1", "d"), LegacyLineItem("000000000042", "Credit", "-2", "d")]
    data = legacy_cur_csv(items).encode()

    for columnar in (True, False):
        with spooled(data) as stream:
            read = read_credit_file(stream, "incoming/cur/cur-00001.csv", ParseConfig(columnar=columnar))
        assert (read.padded_ids, read.padded_total) == ([(2, "000000000042")], 1)
    assert_same(data, "incoming/cur/cur-00001.csv")


def test_a_damaged_parquet_read_after_one_of_the_same_size_and_time_is_rejected_not_read_as_that_one() -> None:
    # A warm splitter reads each file at a path the next may take (/proc/self/fd/N). DuckDB's file cache knew
    # a file by path, size and modification time: a damaged file was read as the file before it, credits and
    # all, and accepted.
    items = [Cur2LineItem("123456789012", "Credit", "-1.25"), Cur2LineItem("123456789012", "Usage", "5.0")]
    good = parquet_bytes(cur2_table(items, CUR2_COLUMNS), CUR2_PARQUET_TYPES)
    footer = len(good) - 8 - int.from_bytes(good[-8:-4], "little")
    damaged = good[:footer] + b"\xff" * 16 + good[footer + 16 :]  # the footer's first bytes: same size
    same_tick = 1_700_000_000_000_000_000
    name = "incoming/cur2/data/cur2-00001.snappy.parquet"
    with tempfile.TemporaryFile() as stream:
        stream.write(good)
        stream.flush()
        os.utime(stream.fileno(), ns=(same_tick, same_tick))
        stream.seek(0)
        assert read_credit_file(stream, name, ParseConfig()).months["2025-01"].total == Decimal("-1.25")
    with tempfile.TemporaryFile() as stream:  # the same descriptor number, so the same path
        stream.write(damaged)
        stream.flush()
        os.utime(stream.fileno(), ns=(same_tick, same_tick))  # written in the same clock tick
        stream.seek(0)
        with pytest.raises(FileRejected, match="cannot be read"):
            read_credit_file(stream, name, ParseConfig())


def test_a_parquet_row_type_with_spaces_is_counted_under_its_name_as_in_a_csv() -> None:
    items = [Cur2LineItem("123456789012", " Usage", "5.0"), Cur2LineItem("123456789012", "Credit", "-1.0")]
    name = "incoming/cur2/data/cur2-00001.snappy.parquet"
    parquet = parquet_bytes(cur2_table(items, CUR2_COLUMNS), CUR2_PARQUET_TYPES)
    csv = csv_text(cur2_table(items, CUR2_COLUMNS)).encode()

    for data, key in ((parquet, name), (csv, name.replace(".snappy.parquet", ".csv"))):
        for columnar in (True, False):
            with spooled(data) as stream:
                assert read_credit_file(stream, key, ParseConfig(columnar=columnar)).ignored_by_type == {"Usage": 1}


def test_a_parquet_billing_period_with_a_time_zone_is_its_month_on_a_machine_in_any_zone(tmp_path: Path) -> None:
    path = tmp_path / "cur2.parquet"
    expected = write_cur2_parquet(path, rows=600, accounts=5, seed=7)  # periods as timestamps with a zone
    script = (
        "import sys\n"
        "from credits_pipeline.formats import ParseConfig, read_credit_file\n"
        "with open(sys.argv[1], 'rb') as data:\n"
        "    print(' '.join(read_credit_file(data, 'incoming/cur2.parquet', ParseConfig()).months))\n"
    )
    new_york = {**os.environ, "TZ": "America/New_York"}
    command = [sys.executable, "-c", script, str(path)]
    read = subprocess.run(command, check=False, env=new_york, capture_output=True, text=True)
    assert read.stdout.split() == sorted(expected.months), read.stderr


BILLING_PERIOD_IN_LOCAL_TIME = {
    "legacy CUR": (
        legacy_cur_csv(
            [LegacyLineItem("123456789012", "Credit", "-1.5", "Activate", period_start="2025-02-01T00:00:00+01:00")]
        ),
        "incoming/cur.csv",
    ),
    "CUR 2.0": (
        csv_text(
            cur2_table(
                [Cur2LineItem("123456789012", "Credit", "-1.5", "Activate", period_start="2025-02-01T00:00:00+01:00")],
                CUR2_COLUMNS,
            )
        ),
        "incoming/cur2.csv",
    ),
    "FOCUS": (
        "SubAccountId,BillingPeriodStart,BilledCost,ChargeCategory,ServiceName,ProviderName\n"
        "123456789012,2025-02-01T00:00:00+01:00,-1.5,Credit,EC2,AWS\n",
        "incoming/focus.csv",
    ),
}


@pytest.mark.parametrize(
    ("text", "name"), BILLING_PERIOD_IN_LOCAL_TIME.values(), ids=BILLING_PERIOD_IN_LOCAL_TIME.keys()
)
def test_a_billing_period_start_written_in_local_time_is_its_month_as_columns_and_row_by_row(
    text: str, name: str
) -> None:
    data = text.encode()
    with spooled(data) as stream:
        assert list(read_credit_file(stream, name, ParseConfig()).months) == ["2025-02"]
    assert_same(data, name)


def test_credits_keep_the_digits_their_amounts_are_written_with() -> None:
    items = [
        LegacyLineItem("123456789012", "Credit", "-1.50", "AWS Activate Credits"),
        LegacyLineItem("123456789012", "Credit", "-2.5", "AWS Activate Credits"),
        LegacyLineItem("123456789012", "Usage", "0.0116000000", "BoxUsage"),
    ]
    data = legacy_cur_csv(items).encode()
    with spooled(data) as stream:
        credit_file = read_credit_file(stream, "incoming/cur.csv", ParseConfig())
    [credit] = credit_file.months["2024-09"].credits
    assert (str(credit.cost), credit.lines, credit.rows) == ("-4.00", (2, 3), 2)
    assert_same(data, "incoming/cur.csv")


# --- rows DuckDB's CSV dialect reads otherwise than the csv module --------------------------------------

SMALL_CUR_HEADER = (
    "lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UnblendedCost,bill/BillingPeriodStartDate,"
    "lineItem/LineItemDescription,lineItem/ProductCode,lineItem/CurrencyCode\n"
)
# 19 plain credit rows of 123456789012, lines 2 to 20: -1.25, -2.25, ... -19.25, which sum to -194.75.
PLAIN_CREDITS = "".join(
    f"123456789012,Credit,-{n}.25,2024-09-01T00:00:00Z,AWS Activate Credits,AmazonEC2,USD\n" for n in range(1, 20)
)
ODD_CREDIT = "210987654321,Credit,-1000.00,2024-09-01T00:00:00Z,{description},AmazonEC2,USD{tail}\n"


def reads_as_columns(data: bytes, name: str) -> bool:
    with spooled(data) as stream:
        return read_as_columns(detect_format(stream, name, ParseConfig()), ParseConfig()) is not None


@pytest.mark.parametrize(
    ("odd_row", "cells"),
    [
        # DuckDB drops empty cells past its columns without a word, the csv module keeps them.
        (ODD_CREDIT.format(description="AWS Activate Credits", tail=","), 8),
        (ODD_CREDIT.format(description="AWS Activate Credits", tail=",,"), 9),
        (ODD_CREDIT.format(description="AWS Activate Credits", tail=',""'), 8),
        (ODD_CREDIT.format(description="AWS Activate Credits", tail=",extra"), 8),
        (ODD_CREDIT.format(description="AWS Activate Credits", tail=",extra,"), 9),
        # Spaces beside a cell's quotes where both readers see another width (DuckDB skips one space before
        # an opening quote and any after a closing one: those rows it reads whole are left, see the README).
        (ODD_CREDIT.format(description='"Activate, promo" ,', tail=""), 8),
        (ODD_CREDIT.format(description='  "Activate, promo"', tail=""), 8),
        (ODD_CREDIT.format(description='  "Activate, promo"  ', tail=""), 8),
    ],
    ids=[
        "trailing-comma",
        "two-trailing-commas",
        "trailing-quoted-empty",
        "extra-cell",
        "extra-cell-and-trailing-comma",
        "space-after-quotes-then-extra-cell",
        "two-spaces-before-quotes",
        "two-spaces-around-quotes",
    ],
)
def test_a_row_wider_than_the_header_is_skipped_as_columns_as_row_by_row(odd_row: str, cells: int) -> None:
    data = (SMALL_CUR_HEADER + PLAIN_CREDITS + odd_row).encode()
    name = "incoming/cur-2024-09.csv"

    with spooled(data) as stream:
        read = read_credit_file(stream, name, ParseConfig())

    # 210987654321's $1,000 is on a row wider than the header: skipped, and listed, whichever reader reads it.
    assert read.months["2024-09"].total == Decimal("-194.75")
    assert [(row.line, row.reason) for row in read.skipped] == [(21, f"row has {cells} cells, the header has 7")]
    assert_same(data, name)
    assert_same(gzip.compress(data), name + ".gz")


@pytest.mark.parametrize(
    ("description", "sent_as"),
    [
        ('"Activate" ', "Activate"),  # the space after a closing quote is kept, then stripped
        ('" Activate "', "Activate"),  # spaces inside the quotes are the cell's
    ],
    ids=["space-after-quotes", "spaces-inside-quotes"],
)
def test_a_quoted_cell_with_spaces_is_read_as_the_row_reader_reads_it(description: str, sent_as: str) -> None:
    data = (SMALL_CUR_HEADER + PLAIN_CREDITS + ODD_CREDIT.format(description=description, tail="")).encode()
    name = "incoming/cur-2024-09.csv"

    with spooled(data) as stream:
        read = read_credit_file(stream, name, ParseConfig())

    assert credits_by_account(read) == {
        "123456789012": (Decimal("-194.75"), "AWS Activate Credits"),
        "210987654321": (Decimal("-1000.00"), sent_as),
    }
    assert_same(data, name)


def credits_by_account(read: CreditFile) -> dict[str, tuple[Decimal, str]]:
    return {credit.account_id: (credit.cost, credit.description) for credit in read.months["2024-09"].credits}


def test_a_blank_line_elsewhere_does_not_change_the_credits_sent() -> None:
    # A blank line sends a file to the row reader: a row the columnar path read otherwise would change with it.
    odd = ODD_CREDIT.format(description="AWS Activate Credits", tail=",")
    name = "incoming/cur-2024-09.csv"
    without = (SMALL_CUR_HEADER + PLAIN_CREDITS + odd).encode()
    with_blank = (SMALL_CUR_HEADER + PLAIN_CREDITS + odd + "\n").encode()
    assert reads_as_columns(without, name) is False
    assert reads_as_columns(with_blank, name) is False

    totals = []
    for data in (without, with_blank):
        with spooled(data) as stream:
            totals.append(read_credit_file(stream, name, ParseConfig()).months["2024-09"].total)

    assert totals == [Decimal("-194.75"), Decimal("-194.75")]


@pytest.mark.parametrize("last_cell", ["", '""'], ids=["empty", "quoted-empty"])
def test_rows_that_end_in_empty_cells_are_still_read_as_columns(last_cell: str) -> None:
    # Real CUR rows very often end with empty cells (`,,\n`): rows of the header's width, for DuckDB to read.
    items = [
        LegacyLineItem("123456789012", "Credit", "-1.50", "AWS Activate Credits", region="", product_name=""),
        LegacyLineItem("123456789012", "Credit", "-2.25", "AWS Activate Credits", region="", product_name=""),
        *[LegacyLineItem("123456789012", "Usage", "1", "u", region="", product_name="")] * 30,
    ]
    text = legacy_cur_csv(items)
    if last_cell:
        text = text.replace(",\n", f",{last_cell}\n")
    assert text.count(",,\n" if not last_cell else ',,""\n') == 32  # every row ends in two empty cells
    data = text.encode()
    name = "incoming/cur/cur-00001.csv"

    assert reads_as_columns(data, name)
    with spooled(data) as stream:
        read = read_credit_file(stream, name, ParseConfig())
    assert (read.months["2024-09"].total, read.skipped_total) == (Decimal("-3.75"), 0)
    assert_same(data, name)
    assert_same(gzip.compress(data), name + ".gz")


# --- any legacy CUR, however odd its cells ---------------------------------------------------------

ACCOUNTS = [
    "123456789012",
    "210987654321",
    "000000000042",
    "42",
    "'123456789012",
    "1234-5678-9012",
    " 123456789012 ",
    "1.23457E+11",
    "12345678901234",
    "",
    "NULL",
]
ROW_TYPES = ["Credit", "Credit", "Usage", "Tax", "credit", " Credit ", "CREDIT", "Refund", "", "Crédit", "Credit2"]
COSTS = [
    "-1.5",
    "-0.0000000001",
    "-12.3456789012",
    "3.25",
    "0",
    "-0",
    "0.000",
    "-1,234.50",
    "$-5.00",
    "",
    "NULL",
    "-1e-3",
    "-1234567890123.5",
    "-1.1234567890123456789",
    "abc",
    "+3",
    "(7.25)",
    "-999999999999.999999999999999999",
]
DESCRIPTIONS = ["AWS Activate Credits", "Credit for _MPE migration", "", "with, a comma", 'with "quotes"']
PERIODS = [
    "2024-09-01T00:00:00Z",
    "2024-10-01T00:00:00Z",
    "2024-09-01",
    "2024/09/01 00:00:00",
    "Sep 2024",
    "",
    "2199-01-01T00:00:00Z",
    "2024-09-30T22:00:00-05:00",
]
costs = st.one_of(
    st.sampled_from(COSTS),
    st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=10).map(str),
)
line_items = st.builds(
    LegacyLineItem,
    account=st.sampled_from(ACCOUNTS),
    row_type=st.sampled_from(ROW_TYPES),
    cost=costs,
    description=st.sampled_from(DESCRIPTIONS),
    product_code=st.sampled_from(["AmazonEC2", "", "AWSLambda"]),
    product_name=st.sampled_from(["", "Amazon Elastic Compute Cloud"]),
    period_start=st.sampled_from(PERIODS),
    currency=st.sampled_from(["USD", "USD", "", "usd", "EUR"]),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    items=st.lists(line_items, min_size=1, max_size=40),
    crlf=st.booleans(),
    tail=st.sampled_from(
        [
            "",
            "\n",
            "blank line",
            "broken row",
            "line break in a cell",
            "trailing delimiter",
            "short row",
        ]
    ),
    compressed=st.booleans(),
    config=st.sampled_from(list(CONFIGS.values())),
)
def test_any_legacy_cur_reads_the_same_as_columns_and_row_by_row(
    items: list[LegacyLineItem], crlf: bool, tail: str, compressed: bool, config: dict[str, object]
) -> None:
    newline = "\r\n" if crlf else "\n"
    text = legacy_cur_csv(items, newline=newline)
    if tail == "":
        text = text.removesuffix(newline)
    elif tail == "blank line":
        text = text.replace(newline, newline + newline, 2)
    elif tail == "broken row":
        text += ",".join(["x"] * (len(LEGACY_COLUMNS) + 1)) + newline
    elif tail == "line break in a cell":
        cells = [f'"{name}\nsecond line"' if "Description" in name else "Credit" for name in LEGACY_COLUMNS]
        text += ",".join(cells) + newline
    elif tail in ("trailing delimiter", "short row"):  # a credit row one cell wider, or narrower, than the header
        credit = LegacyLineItem("210987654321", "Credit", "-1000.00", "AWS Activate Credits")
        row = legacy_cur_csv([credit], newline=newline).split(newline)[1]
        text += (row + "," if tail == "trailing delimiter" else row.rsplit(",", 1)[0]) + newline
    data = text.encode()
    if compressed:
        data = gzip.compress(data)
    assert_same(data, "incoming/cur-2024-09.csv" + (".gz" if compressed else ""), **config)


def test_a_bomb_read_as_columns_is_refused_at_the_limit() -> None:
    from credits_pipeline.formats.base import ArchiveLimits  # noqa: PLC0415

    header = ",".join(LEGACY_COLUMNS) + "\n"
    row = legacy_cur_csv([LegacyLineItem("123456789012", "Credit", "-1.5", "AWS Activate Credits")])
    data = gzip.compress((header + row.split("\n", 1)[1] * 200_000).encode())
    limits = ArchiveLimits(max_decompressed_bytes=4 * 1024**2, ratio_checked_after=1024**2)
    with pytest.raises(FileRejected, match="MAX_DECOMPRESSED_BYTES"):
        read_credit_file(io.BytesIO(data), "incoming/cur.csv.gz", ParseConfig(limits=limits))
