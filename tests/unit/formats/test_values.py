"""Cells as real files write them: amounts, months, account ids, header names."""

from decimal import Decimal

import pytest

from credits_pipeline.domain.accounts import InvalidAccountId
from credits_pipeline.domain.money import InvalidAmount
from credits_pipeline.formats.values import (
    AccountReader,
    AmountReader,
    InvalidMonth,
    MonthReader,
    decide_decimal_comma,
    header_key,
    is_month_header,
    looks_like_month,
    parse_month,
    unambiguous_decimal_mark,
)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("-2.6137", "-2.6137", ""),
        ("$6,407.96", "6407.96", "USD"),
        ("$116,319.27", "116319.27", "USD"),
        ("$ -", "0", "USD"),
        ("-$100.00", "-100.00", "USD"),
        ("$-100.00", "-100.00", "USD"),
        ("(3.50)", "-3.50", ""),
        ("$ (1,234.56)", "-1234.56", "USD"),
        ("100.00-", "-100.00", ""),
        ("-1.2E-5", "-0.000012", ""),
        ("-1,2E-5", "-0.000012", ""),
        ("0.123456789012345678", "0.123456789012345678", ""),  # more than ten decimals, kept exactly
        ("12345678901234567890.1234567890123", "12345678901234567890.1234567890123", ""),
        ("USD 12.00", "12.00", "USD"),
        ("12 EUR", "12", "EUR"),
        ("€5", "5", "EUR"),
        ("£7.50", "7.50", "GBP"),
        ("1'234.50", "1234.50", ""),
        ("1\u00a0234,56", "1234.56", ""),
        (".5", "0.5", ""),
        ("+4", "4", ""),
    ],
)
def test_amounts_are_read_exactly_with_their_currency_mark(text, amount, currency):
    assert AmountReader().read(text) == (Decimal(amount), currency)


@pytest.mark.parametrize(
    ("text", "point_file", "comma_file"),
    [
        ("1.234,56", "1234.56", "1234.56"),  # both marks: the last is the decimal mark
        ("1,234.56", "1234.56", "1234.56"),
        ("12,5", "12.5", "12.5"),  # a comma followed by other than three digits is a decimal comma
        ("0,125", "0.125", "0.125"),  # `0,125` cannot be a thousands grouping
        ("0.50", "0.50", "0.50"),
        ("1,234,567", "1234567", "1234567"),  # several: thousands separators
        ("1.234.567", "1234567", "1234567"),
        ("3,125", "3125", "3.125"),  # ambiguous: the file's mark decides
        ("1.234", "1.234", "1234"),
        # scientific notation never groups thousands: the one separator is the decimal mark, in any file
        ("1.234E+3", "1234", "1234"),
        ("1,234E+3", "1234", "1234"),
        ("-1,234e3", "-1234", "-1234"),
    ],
)
def test_the_decimal_mark_is_read_from_the_value_and_else_from_the_file(text, point_file, comma_file):
    assert AmountReader(decimal_comma=False).read(text)[0] == Decimal(point_file)
    assert AmountReader(decimal_comma=True).read(text)[0] == Decimal(comma_file)


@pytest.mark.parametrize(
    "text",
    ["", "NULL", "abc", "1.2.3,4,5", "12abc", "Infinity", "1-2", "1,23,4.5", "€5 USD", "1E+1000000", "1E-60", "--"],
)
def test_text_that_is_not_an_amount_is_refused(text):
    if text == "--":
        assert AmountReader().read(text) == (Decimal(0), "")  # accounting dashes are zero
        return
    with pytest.raises(InvalidAmount):
        AmountReader().read(text)


@pytest.mark.parametrize("text", ["1,234.5E+3", "1.234,5E+3", "1,234,567E+3", "1.234.567e3"])
def test_an_amount_with_an_exponent_and_thousands_separators_is_refused(text: str) -> None:
    for decimal_comma in (False, True):
        with pytest.raises(InvalidAmount, match="groups thousands in a number with an exponent"):
            AmountReader(decimal_comma=decimal_comma).read(text)


def test_an_exponent_amount_shows_its_decimal_mark() -> None:
    assert unambiguous_decimal_mark("1.234E+3") == "."
    assert unambiguous_decimal_mark("1,234E+3") == ","
    assert unambiguous_decimal_mark("1,234.5E+3") is None  # not an amount: it says nothing
    assert decide_decimal_comma(";", ["1.234E+3", "2.000"]) is False  # `2.000` is then two, not 2000


def test_a_file_decides_its_decimal_mark_from_the_values_that_show_it():
    assert decide_decimal_comma(";", ["1.234,56", "2.000"]) is True
    assert decide_decimal_comma(";", ["12.50", "2.000"]) is False  # `;` file with decimal points
    assert decide_decimal_comma(",", ['"1,5"', "2,000"]) is True
    assert decide_decimal_comma(";", ["2.000", "100"]) is True  # nothing shows it: `;` means comma
    assert decide_decimal_comma(",", ["2,000", "100"]) is False
    assert decide_decimal_comma(";", ["1,5", "2.5"]) is True  # contradicting values: by delimiter
    assert unambiguous_decimal_mark("1,234") is None
    assert unambiguous_decimal_mark("$6,407.96") == "."


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2024-09-01T00:00:00Z", "2024-09"),
        ("2024-09-01T00:00:00.000Z", "2024-09"),
        ("2024-09-01 00:00:00", "2024-09"),
        ("2024-09-01 00:00:00.000Z", "2024-09"),  # Parquet timestamps cast to text
        ("2024-09-01", "2024-09"),
        ("2024-09", "2024-09"),
        ("2024-9", "2024-09"),
        ("2024/09", "2024-09"),
        ("202409", "2024-09"),
        ("09/2024", "2024-09"),
        ("9-2024", "2024-09"),
        ("Sep-24", "2024-09"),
        ("Sep 2024", "2024-09"),
        ("Sept. 2024", "2024-09"),
        ("September 2024", "2024-09"),
        ("sep-2024", "2024-09"),
        ("2024 Sep", "2024-09"),
        ("Sep 15, 2024", "2024-09"),
        ("15-Sep-2024", "2024-09"),
        ("15/09/2024", "2024-09"),  # the day is above 12: day/month
        ("09/15/2024", "2024-09"),  # month/day
        ("09/09/2024", "2024-09"),
        ("2024-08-31T17:00:00-07:00", "2024-09"),  # an offset is moved to UTC first
        ("2024-09-01T00:00:00+00:00", "2024-09"),
        ("2024-09-01 00:00:00+00", "2024-09"),
        ("2024-09-01T03:00:00+0530", "2024-08"),
        ("2024/09/01 00:00:00", "2024-09"),  # the legacy monthly billing CSV
        ("2024/09/30 23:59:59", "2024-09"),
        ("2024.09.01", "2024-09"),
    ],
)
def test_months_are_read_from_the_ways_periods_are_written(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2025-12-31 19:00:00-05", "2026-01"),  # Postgres and DuckDB write an offset as hours alone
        ("2025-12-31T19:00:00.000-05", "2026-01"),
        ("2025-12-31 19:00-05", "2026-01"),
        ("2026-01-01T03:00:00+05", "2025-12"),
    ],
)
def test_an_offset_written_as_hours_alone_is_moved_to_utc_too(text: str, month: str) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2025-02-01T00:00:00+01:00", "2025-02"),  # a month's start as written: not 2025-01 in UTC
        ("2025-02-01 00:00:00.000-08:00", "2025-02"),
        ("2025-12-31 19:00:00-05", "2026-01"),  # a month's start in UTC, written in New York time (Postgres, DuckDB)
        ("2025-02-01T00:00:00Z", "2025-02"),
        ("2025-02-15T12:00:00+05:30", "2025-02"),
    ],
)
def test_a_billing_period_start_is_the_month_it_starts_as_written_or_in_utc(text: str, month: str) -> None:
    assert parse_month(text, period_start=True) == month


def test_a_billing_period_start_that_starts_no_month_either_way_is_refused_but_a_usage_time_moves_to_utc() -> None:
    with pytest.raises(InvalidMonth, match="not the start of a month, as written or in UTC"):
        parse_month("2024-09-30T22:00:00-05:00", period_start=True)
    assert parse_month("2024-09-30T22:00:00-05:00") == "2024-10"
    assert parse_month("2025-02-01T00:00:00+01:00") == "2025-01"  # a usage time is read in UTC, as AWS bills


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("09/01/2024", "ambiguous"),
        ("01/09/2024", "ambiguous"),
        ("2024-13", "not a month"),
        ("1999-12", "outside"),
        ("NULL", "missing"),
        ("", "missing"),
        ("45536", "not a month"),  # an Excel serial date
        ("Sep", "not a month"),
        ("2024-09-45", "not a date"),
        ("2024/09/45 00:00:00", "not a date"),
        ("2024/13/01", "not a month"),
    ],
)
def test_values_that_are_not_one_month_are_refused_with_a_reason(text, reason):
    with pytest.raises(InvalidMonth, match=reason):
        parse_month(text)


@pytest.mark.parametrize("text", ["Sep 30", "Oct 15", "Dec 31", "September 24", "Sep 5", "Sept. 30"])
def test_a_month_name_and_a_day_is_refused_as_a_month_without_a_year(text: str) -> None:
    # `Sep 30` is the 30th of September, not September 2030.
    with pytest.raises(InvalidMonth, match="no year"):
        parse_month(text)


@pytest.mark.parametrize(
    ("text", "month"),
    [("Sep-24", "2024-09"), ("Sep/24", "2024-09"), ("Sep '24", "2024-09"), ("Sep 2024", "2024-09")],
)
def test_a_two_digit_year_is_read_after_a_dash_slash_or_apostrophe(text: str, month: str) -> None:
    assert parse_month(text) == month


@pytest.mark.parametrize("text", ["Sep24", "Sep, 24", "sep,24", "September24", "Sept.24", "Sep ,24"])
def test_a_two_digit_year_right_after_the_name_or_a_comma_is_read(text: str) -> None:
    assert parse_month(text) == "2024-09"
    assert parse_month(text, month_column=True) == "2024-09"


@pytest.mark.parametrize(("text", "month"), [("Sep 24", "2024-09"), ("September 25", "2025-09"), ("Oct 15", "2015-10")])
def test_a_name_and_two_digits_after_a_space_are_a_month_and_year_where_the_text_is_a_month(text, month) -> None:
    # A wide sheet's month headers, a `Month` column: there `Sep 24` is September 2024.
    assert parse_month(text, month_column=True) == month
    assert MonthReader(month_column=True).read(text) == month
    with pytest.raises(InvalidMonth, match="a day of a month with no year"):
        parse_month(text)  # elsewhere (a `Date` column) it is a day with no year
    with pytest.raises(InvalidMonth, match="a day of a month with no year"):
        MonthReader().read(text)


@pytest.mark.parametrize("text", ["Sep 5", "Sep 24th", "Sep 2nd"])
def test_a_day_that_is_no_two_digit_year_is_refused_even_where_the_text_is_a_month(text: str) -> None:
    with pytest.raises(InvalidMonth, match="no year"):
        parse_month(text, month_column=True)


@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("Month", True),
        ("Billing Month", True),
        ("invoice_month", True),
        ("Usage Month", True),
        ("Billing Period", True),
        ("Period", True),
        ("Date", False),
        ("Invoice Date", False),
        ("Usage Date", False),
        ("Amount", False),
    ],
)
def test_a_month_columns_header_names_a_month_or_a_date(name: str, month: bool) -> None:
    assert is_month_header(name) is month


@pytest.mark.parametrize(
    ("text", "looks"),
    [
        ("10/1/2025", True),
        ("1/1/26", True),
        ("Dec 2025 (est)", True),
        ("Sep-24", True),
        ("October", True),
        ("2025-13", True),
        ("Invoice 2025/11 (draft)", True),
        ("Account ID", False),
        ("Amount (USD)", False),
        ("Marketing 2025", False),  # `mar` is a month only as a word of its own
        ("May include tax", False),
        ("Q4 2025", False),
        ("$1,000.00", False),
        ("1.5", False),
        ("", False),
    ],
)
def test_a_header_that_looks_like_a_month_or_a_date_is_told_from_other_names(text: str, looks: bool) -> None:
    assert looks_like_month(text) is looks


def test_month_reader_remembers_values_and_their_errors():
    reader = MonthReader()
    assert reader.read("2024-09-01T00:00:00Z") == "2024-09"
    assert reader.read("2024-09-01T00:00:00Z") == "2024-09"
    for _ in range(2):
        with pytest.raises(InvalidMonth):
            reader.read("09/01/2024")


@pytest.mark.parametrize(
    ("text", "account", "padded"),
    [
        ("62951470133", "062951470133", True),
        ("'062951470133", "062951470133", False),
        ('="062951470133"', "062951470133", False),
        ('="62951470133"', "062951470133", True),  # Excel kept the text, but it was written short
        ("0629-5147-0133", "062951470133", False),
        ("062951470133.0", "062951470133", False),
        ("62951470133.0", "062951470133", True),
    ],
)
def test_account_ids_are_read_as_text_and_a_short_one_is_padded_and_says_so(text, account, padded):
    assert AccountReader().read(text) == (account, padded)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("1.12233E+11", "scientific"), ("1234567890123", "more than 12"), ("NULL", "missing"), ("abc", "numeric")],
)
def test_account_ids_that_lost_digits_or_are_not_ids_are_refused(text, reason):
    with pytest.raises(InvalidAccountId, match=reason):
        AccountReader().read(text)


def test_header_names_compare_without_case_spaces_punctuation_or_bom():
    assert header_key("lineItem/UsageAccountId") == header_key("line_item_usage_account_id")
    assert header_key("\ufeffAmount (USD) ") == "amountusd"
    assert header_key("Account ID") == header_key("account_id") == "accountid"
