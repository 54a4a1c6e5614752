"""Hand-made sheets (long and wide) and the headerless forms beyond the monthly file."""

import io
from decimal import Decimal

import pytest

from testdata.headerless import same_amount_csv
from tests.unit.formats.helpers import (
    credits_of,
    read_bytes,
    read_fixture,
    rejected_bytes,
    rejected_fixture,
    totals,
)


def test_a_long_sheet_with_aliases_month_forms_and_a_total_row():
    credit_file = read_fixture("sheets/long.csv")
    assert credit_file.format_id == "sheet-long/1"
    assert credits_of(credit_file, "2024-09") == {
        ("073933415963", "Amazon EC2", "AWS Activate"): Decimal("-1200.50"),
        ("062951470133", "Amazon S3", "AWS Activate"): Decimal("-300.25"),  # (300.25): a magnitude
        ("062951470133", "Amazon EC2", "Migration Acceleration Program"): Decimal("-75"),
    }
    assert credits_of(credit_file, "2024-10") == {
        ("073933415963", "Amazon EC2", "AWS Activate"): Decimal("-15.125"),  # two rows, one summed
    }
    assert credit_file.ignored_by_type == {"total row": 1}
    assert credit_file.columns == {
        "account": "Linked account",
        "amount": "Amount (USD)",
        "month": "Invoice Month",
        "description": "Credit Name",
        "service": "Service",
    }


def test_a_semicolon_sheet_with_decimal_commas_and_thousands():
    credit_file = read_fixture("sheets/long-semicolon.csv")
    assert totals(credit_file) == {"2024-09": Decimal("-1235.00"), "2024-10": Decimal("-2000")}


def test_a_tab_delimited_sheet():
    assert totals(read_fixture("sheets/long.tsv")) == {"2024-09": Decimal("-30.00")}


def test_title_rows_above_the_header_are_passed_over():
    credit_file = read_fixture("sheets/long-title-rows.csv")
    assert totals(credit_file) == {"2024-09": Decimal("-10")}
    assert credit_file.header_line == 4


def test_a_sheet_without_a_month_column_takes_the_month_from_the_name():
    credit_file = read_fixture("sheets/credits-2024-11-no-month.csv")
    assert totals(credit_file) == {"2024-11": Decimal("-20.00")}
    assert credit_file.month_source == "the file name (2024-11)"


def test_a_sheet_without_a_month_anywhere_is_rejected():
    error = rejected_bytes(b"Account,Amount\n123456789012,5\n", name="incoming/credits.csv")
    assert "month" in str(error)


def test_a_wide_sheet_has_one_column_per_month():
    credit_file = read_fixture("sheets/wide.csv")
    assert credit_file.format_id == "sheet-wide/1"
    assert totals(credit_file) == {"2024-09": Decimal("-1000.00"), "2024-10": Decimal("-750.00")}
    assert credit_file.ignored_by_type == {"blank month cell": 1, "total row": 1}
    assert {c.description for month in credit_file.months.values() for c in month.credits} == {"Activate"}


def test_a_backfill_with_a_header_row_of_months():
    credit_file = read_fixture("sheets/backfill-with-header.csv")
    assert credit_file.format_id == "sheet-wide/1"
    assert totals(credit_file) == {
        "2025-01": Decimal("-150.00"),
        "2025-02": Decimal("-200.00"),
        "2025-03": Decimal("-25.50"),
    }


def test_a_wide_sheet_naming_one_month_twice_is_rejected():
    assert "two columns" in str(rejected_bytes(b"Account ID,2024-09,Sep 2024\n123456789012,1,2\n"))


@pytest.mark.parametrize(
    ("header", "problems"),
    [
        (
            "Account ID,10/1/2025,11/1/2025,12/1/2025,1/1/2026",  # Excel's US dates for first-of-month cells
            [
                "column 2 ('10/1/2025'): date '10/1/2025' is ambiguous (month/day or day/month?): write it as YYYY-MM",
                "column 3 ('11/1/2025'): date '11/1/2025' is ambiguous (month/day or day/month?): write it as YYYY-MM",
                "column 4 ('12/1/2025'): date '12/1/2025' is ambiguous (month/day or day/month?): write it as YYYY-MM",
            ],
        ),
        (
            "Account ID,2025-10,2025-11,Dec 2025 (est),2026-01",
            ["column 4 ('Dec 2025 (est)'): not a month: 'Dec 2025 (est)'"],
        ),
        (
            "Account ID,10/1/2025,11/1/2025",
            [
                "column 2 ('10/1/2025'): date '10/1/2025' is ambiguous (month/day or day/month?): write it as YYYY-MM",
                "column 3 ('11/1/2025'): date '11/1/2025' is ambiguous (month/day or day/month?): write it as YYYY-MM",
            ],
        ),
        ("Account ID,2025-10,2025-13", ["column 3 ('2025-13'): not a month: '2025-13'"]),
    ],
    ids=["excel-us-dates", "annotated-header", "no-month-read", "no-such-month"],
)
def test_a_wide_sheet_month_header_that_cannot_be_read_rejects_the_file_naming_it(
    header: str, problems: list[str]
) -> None:
    amounts = ",".join(["100.00"] * (header.count(",")))
    error = rejected_bytes(f"{header}\n123456789012,{amounts}\n".encode(), name="incoming/backfill.csv")
    assert error.line == 1
    assert error.problems == problems
    assert str(error).startswith(f"line 1: a month column's header cannot be read, {problems[0]}")


def test_a_wide_sheet_reads_its_month_columns_and_leaves_summary_rate_and_note_columns() -> None:
    # A YTD or quarter column sums the months; a rate or a cost centre is no credit: none is read, none rejects.
    data = (
        b"Account ID,Account Name,Cost center,Rate,2025-10,2025-11,YTD,Q4 2025,Notes,Subtotal\n"
        b"123456789012,Acme,4711,0.15,100.00,50.00,150.00,150.00,ok,150.00\n"
        b"210987654321,Acme EU,0815,0.10,25.50,,25.50,25.50,,25.50\n"
    )
    credit_file = read_bytes(data, name="incoming/backfill.csv")
    assert totals(credit_file) == {"2025-10": Decimal("-125.50"), "2025-11": Decimal("-50.00")}
    assert credit_file.skipped_total == 0


def test_the_headerless_backfill_takes_its_months_from_the_range_in_its_name():
    credit_file = read_fixture("headerless/credits-2025-01_2025-03.csv")
    assert credit_file.format_id == "headerless-wide/1"
    assert totals(credit_file) == {
        "2025-01": Decimal("-150.00"),
        "2025-02": Decimal("-210"),
        "2025-03": Decimal("-35.50"),
    }
    assert credit_file.skipped_by_reason == {"zero": 1}
    assert credit_file.month_source == "the file name (2025-01..2025-03)"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("incoming/credits-2025-01_2025-02.csv", "names 2 months"),
        ("incoming/credits-2025-01.csv", "month range"),
        ("incoming/credits-2025-03_2025-01.csv", "backwards"),
    ],
)
def test_a_headerless_backfill_whose_name_does_not_match_its_columns_is_rejected(name, reason):
    assert reason in str(rejected_fixture("headerless/credits-2025-01_2025-03.csv", name=name))


def test_the_headerless_file_with_semicolons_and_decimal_commas():
    credit_file = read_fixture("headerless/credits-2026-02-semicolon.csv")
    assert credit_file.format_id == "headerless/1"
    assert credits_of(credit_file, "2026-02") == {
        ("073933415963", "AWSCredits", "AWS credit"): Decimal("-1234.56"),
        ("062951470133", "AWSCredits", "AWS credit"): Decimal("-12.5"),
        ("111122223333", "AWSCredits", "AWS credit"): Decimal("-1000"),
    }


def test_the_monthly_headerless_fixture():
    credit_file = read_fixture("headerless/credits-2026-01.csv")
    assert totals(credit_file) == {"2026-01": Decimal("-124061.79")}
    assert credit_file.skipped_by_reason == {"zero": 2, "duplicate": 1}


def test_one_stray_wide_row_does_not_turn_a_monthly_file_into_a_backfill():
    data = same_amount_csv(19) + b"999999999999,$1.00,$2.00\n"
    credit_file = read_bytes(data)
    assert credit_file.format_id == "headerless/1"
    assert credit_file.skipped[0].reason == "expected 2 columns, found 3"


def test_euro_amounts_in_a_usd_pipeline_are_rejected():
    assert "EUR" in str(rejected_fixture("rejections/euro-amounts-2026-01.csv"))
    credit_file = read_fixture("rejections/euro-amounts-2026-01.csv", currencies=frozenset({"EUR"}))
    assert credit_file.currency == "EUR"


def test_ambiguous_dates_are_refused_never_guessed():
    error = rejected_fixture("rejections/ambiguous-dates.csv")
    assert "ambiguous" in error.problems[0]


def test_scientific_and_long_ids_are_invalid_rows_that_reject_the_file():
    error = rejected_fixture("rejections/scientific-ids-2026-01.csv")
    assert "3 of 5" in str(error)
    assert all("scientific" in problem for problem in error.problems)
    assert "more than 12" in rejected_fixture("rejections/thirteen-digit-ids-2026-01.csv").problems[0]


def test_several_currencies_reject_unless_all_are_configured():
    assert "EUR" in str(rejected_fixture("rejections/several-currencies.csv"))
    credit_file = read_fixture("rejections/several-currencies.csv", currencies=frozenset({"USD", "EUR"}))
    assert credit_file.currencies == {"USD": 1, "EUR": 1}


# --- the monthly file with a header row: its duplicates ------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "format_id", "expected"),
    [
        (
            b",2025-01,2025-02\n111122223333,100,200\n444455556666,5,6\n111122223333,100,200\n",
            "incoming/credits-2025-01_2025-02.csv",
            "sheet-wide/1",
            {"2025-01": Decimal("-105"), "2025-02": Decimal("-206")},
        ),
        (
            b"account,amount\n111122223333,100\n444455556666,5\n111122223333,100\n",
            "incoming/credits-2025-01.csv",
            "sheet-long/1",
            {"2025-01": Decimal("-105")},
        ),
    ],
    ids=["wide, months named by a header row", "account,amount"],
)
def test_the_monthly_file_with_a_header_row_sends_an_identical_duplicate_row_once(data, name, format_id, expected):
    # Reference §1: identical duplicate rows occur in the monthly file, whose wide variant may name its months
    # in a header row. A header must not double the money the same file without one sends once.
    credit_file = read_bytes(data, name)
    assert credit_file.format_id == format_id
    assert totals(credit_file) == expected
    assert {(row.line, row.reason) for row in credit_file.skipped} == {(4, "duplicate of line 2")}


def test_a_hand_made_sheet_that_names_its_credits_adds_up_an_account_listed_twice():
    data = b"Account ID,Credit Name,Amount\n111122223333,Activate,100\n111122223333,Activate,100\n"
    credit_file = read_bytes(data, "incoming/credits-2025-01.csv")
    assert totals(credit_file) == {"2025-01": Decimal("-200")}
    assert credit_file.skipped_total == 0


@pytest.mark.parametrize(
    "data",
    [
        b"Customer,Account ID,Amount\nTeam A,123456789012,100\nTeam B,123456789012,100\n",
        b"Account ID,Amount,Notes\n123456789012,100,Q1 promo\n123456789012,100,Support credit\n",
        b"Customer,Account ID,2026-01\nTeam A,123456789012,100\nTeam B,123456789012,100\n",
    ],
    ids=["long, a name column", "long, a notes column", "wide, a name column"],
)
def test_rows_that_differ_in_a_column_the_reader_does_not_use_are_two_credits(data):
    credit_file = read_bytes(data, "incoming/credits-2026-01.csv")
    assert totals(credit_file) == {"2026-01": Decimal("-200")}
    assert credit_file.skipped_total == 0


@pytest.mark.parametrize("column", ["Record Type", "Line Item Type", "Charge Type", "Charge Category"])
def test_a_sheet_that_types_its_rows_sends_only_its_credit_rows(column):
    # Every amount of a sheet is a magnitude: its usage and tax rows would be sent as credits.
    data = (
        f"Account ID,Month,{column},Amount\n"
        "111122223333,2026-01,Usage,500\n"
        "111122223333,2026-01,Credit,-100\n"
        "222233334444,2026-01,Tax,7\n"
        "222233334444,2026-01, CREDITS ,-20\n"  # a credit type written otherwise; credits of one sign
        "Total,,,120\n"  # its total row has no type: still checked
    )
    credit_file = read_bytes(data.encode(), "incoming/credits-2026-01.csv")
    assert totals(credit_file) == {"2026-01": Decimal("-120")}
    assert credit_file.ignored_by_type == {"Usage": 1, "Tax": 1, "total row": 1}
    assert credit_file.skipped_total == 0


def test_a_title_in_the_second_column_that_names_the_month_is_a_title_not_a_month_header():
    data = b",AWS credits - January 2026\nAccount ID,Month,Amount\n111122223333,2026-01,100\n"
    credit_file = read_bytes(data, "incoming/credits.csv")
    assert (credit_file.format_id, totals(credit_file)) == ("sheet-long/1", {"2026-01": Decimal("-100")})
    # With no header below it, such a row is a wide sheet's month it cannot read: rejected, naming it.
    error = rejected_bytes(b",Sept 20244\n111122223333,100\n", "incoming/credits.csv")
    assert "column 2 ('Sept 20244')" in str(error) and error.line == 1


def test_a_typed_sheet_keeps_a_map_credit_typed_refund_and_reads_parquet_as_it_reads_csv():
    import pyarrow as pa  # noqa: PLC0415 - only this test writes Parquet
    import pyarrow.parquet as pq  # noqa: PLC0415

    columns = {
        "Account ID": ["111122223333", "111122223333", "444455556666", "444455556666"],
        "Month": ["2026-01"] * 4,
        "Amount": ["100.00", "250.00", "40.00", "60.00"],
        "Description": ["Activate", "MAP 2.0 credit _MPE migration", "Activate", "Activate"],
        "Charge Type": ["Credit", "Refund", "", "credits"],
    }
    expected = {"2026-01": Decimal("-450.00")}  # every row: a credit, a MAP refund, an untyped row, a credit type
    csv_text = ",".join(columns) + "\n" + "".join(",".join(row) + "\n" for row in zip(*columns.values(), strict=True))
    assert totals(read_bytes(csv_text.encode(), "incoming/credits.csv")) == expected
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    assert totals(read_bytes(buffer.getvalue(), "incoming/credits.parquet")) == expected


# --- two columns for one role: rejected, never read from the first ---------------------------------------

PAYER_AND_LINKED = (
    b"AWS Account,Linked Account ID,Month,Credit Amount\n"
    b"999988887777,111122223333,2026-01,100.00\n"
    b"999988887777,444455556666,2026-01,50.00\n"
)


@pytest.mark.parametrize(
    ("data", "columns"),
    [
        (PAYER_AND_LINKED, "the account: 'AWS Account' (column 1) and 'Linked Account ID' (column 2)"),
        (
            b"Account ID,Month,Credit Amount,Credits Applied\n111122223333,2026-01,100,90\n",
            "the amount: 'Credit Amount' (column 3) and 'Credits Applied' (column 4)",
        ),
        (
            b"Account ID,Month,Amount,Amount\n111122223333,2026-01,100,90\n",
            "the amount: 'Amount' (column 3) and 'Amount' (column 4)",
        ),
        (
            b"AWS Account,Linked Account ID,2026-01\n999988887777,111122223333,100\n",
            "the account: 'AWS Account' (column 1) and 'Linked Account ID' (column 2)",
        ),
    ],
    ids=["account: payer and linked", "amount: two credit columns", "one name twice", "wide"],
)
def test_a_sheet_with_two_columns_whose_values_could_give_its_account_or_amount_is_rejected_naming_them(
    data: bytes, columns: str
) -> None:
    # Read from the first, a charges column is sent as credits, or every linked account's credit goes to the payer.
    error = rejected_bytes(data, "incoming/credits-2026-01.csv")
    assert error.line == 1
    assert f"two columns could give {columns}" in str(error)
    assert "keep only the column to read" in str(error)


@pytest.mark.parametrize(
    ("header", "row", "account", "amount"),
    [
        ("Account ID,Month,Amount,Credits,Net", "111122223333,2026-01,1000.00,-100.00,900.00", "111122223333", "100"),
        ("Account,Account ID,Month,Amount", "Production,111122223333,2026-01,100", "111122223333", "100"),
        ("Account ID,Month,Cost,Credits Applied", "111122223333,2026-01,500,100", "111122223333", "100"),
        ("Account ID,Month,Credit,Amount", "111122223333,2026-01,Activate promo,100", "111122223333", "100"),
        ("Account ID,AWS Account ID,Month,Amount", "111122223333,111122223333,2026-01,100", "111122223333", "100"),
        ("Account ID,Month,Invoice Date,Amount", "111122223333,2026-01,2026-02-03,100", "111122223333", "100"),
    ],
    ids=["credits beside charges", "names beside ids", "credits beside cost", "a name column", "same ids", "date"],
)
def test_two_columns_that_could_give_the_account_or_amount_are_told_apart_by_their_values(
    header: str, row: str, account: str, amount: str
) -> None:
    # The one whose cells are account ids (or amounts; of amounts, the one named for credits), or both the same.
    credit_file = read_bytes(f"{header}\n{row}\n".encode(), "incoming/credits-2026-01.csv")
    assert credits_of(credit_file, "2026-01") == {(account, "AWSCredits", "AWS credit"): -Decimal(amount)}


def test_a_column_mapping_naming_the_account_column_reads_a_sheet_with_two_account_columns() -> None:
    assert "column mapping" in str(rejected_bytes(PAYER_AND_LINKED, "incoming/credits-2026-01.csv"))
    linked = {
        "id": "payer-sheet/1",
        "columns": {"account": "Linked Account ID", "month": "Month", "amount": "Credit Amount"},
        "sign": "magnitude",
    }
    credit_file = read_bytes(PAYER_AND_LINKED, "incoming/credits-2026-01.csv", column_mappings=(linked,))
    assert credits_of(credit_file, "2026-01") == {
        ("111122223333", "AWSCredits", "AWS credit"): Decimal("-100.00"),
        ("444455556666", "AWSCredits", "AWS credit"): Decimal("-50.00"),
    }


# --- a typed sheet: only `Credit` rows are credits, and they have one sign ---------------------------------


@pytest.mark.parametrize("row_type", ["Credit Reversal", "Non-credit usage", "Credit card fee", "Promotional Credits"])
def test_a_typed_sheet_with_a_type_that_names_credit_but_is_not_credit_is_rejected_naming_it(row_type: str) -> None:
    data = (
        "Account ID,Month,Amount,Record Type\n"
        "111122223333,2026-01,100.00,Credit\n"
        "444455556666,2026-01,500.00,Usage\n"
        f"444455556666,2026-01,40.00,{row_type}\n"
        f"555566667777,2026-01,12.00,{row_type}\n"
    )
    error = rejected_bytes(data.encode(), "incoming/credits-2026-01.csv")
    assert error.line == 4
    assert f"row type {row_type!r}" in str(error)


def test_a_typed_sheet_whose_credit_rows_have_both_signs_is_rejected_naming_a_line_of_each() -> None:
    # AWS data pasted into a sheet: the positive credit is a reversal, which a magnitude reading would add.
    data = (
        b"Account ID,Month,Amount,Record Type\n"
        b"111122223333,2026-01,-100.00,Credit\n"
        b"444455556666,2026-01,500.00,Usage\n"
        b"111122223333,2026-01,-20.00,Credit\n"
        b"111122223333,2026-01,30.00,Credit\n"
    )
    error = rejected_bytes(data, "incoming/credits-2026-01.csv")
    assert error.line == 5
    assert "line 2 (-100.00) and line 5 (30.00)" in str(error)


def test_a_sheet_whose_dates_are_days_without_a_year_is_rejected_not_sent_to_other_years() -> None:
    # `Sep 30` and `Oct 15` were read as September 2030 and October 2015.
    data = b"Account ID,Date,Amount\n111122223333,Sep 30,100.00\n444455556666,Oct 15,50.00\n"
    error = rejected_bytes(data, "incoming/credits-2026-01.csv")
    assert error.problems[:2] == [
        "line 2: 'Sep 30' is a day of a month with no year: write the month as YYYY-MM (2024-09) or Sep 2024",
        "line 3: 'Oct 15' is a day of a month with no year: write the month as YYYY-MM (2024-09) or Sep 2024",
    ]


# --- `Sep 24`: a month with its year where the text is a month, a day where it is a date -------------------


def test_a_wide_sheets_month_headers_written_mon_yy_are_months() -> None:
    data = b"Account ID,Sep 24,Oct 24,Nov 24\n111122223333,10.00,20.00,30.00\n"
    credit_file = read_bytes(data, "incoming/credits.csv")
    assert totals(credit_file) == {
        "2024-09": Decimal("-10.00"),
        "2024-10": Decimal("-20.00"),
        "2024-11": Decimal("-30.00"),
    }


@pytest.mark.parametrize(
    "header", ["Month", "Billing Month", "Invoice Month", "Usage Month", "Billing Period", "Period"]
)
def test_mon_yy_under_a_month_header_is_that_month(header: str) -> None:
    credit_file = read_bytes(
        f"Account ID,{header},Amount\n111122223333,Sep 24,100.00\n".encode(), "incoming/credits.csv"
    )
    assert totals(credit_file) == {"2024-09": Decimal("-100.00")}


def test_mon_dd_under_a_date_header_is_a_day_with_no_year_and_rejected() -> None:
    data = b"Account ID,Date,Amount\n111122223333,Sep 30,100.00\n444455556666,Oct 15,50.00\n"
    error = rejected_bytes(data, "incoming/credits-2026-01.csv")
    assert "no year" in error.problems[0]
    written_together = b'Account ID,Date,Amount\n111122223333,Sep24,100.00\n111122223333,"Sep, 24",1\n'
    assert totals(read_bytes(written_together, "incoming/credits.csv")) == {"2024-09": Decimal("-101.00")}
