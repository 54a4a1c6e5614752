"""Amounts as people and AWS write them -> exact Decimal; Decimal -> CloudZero's plain decimal strings."""

import re
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.money import InvalidAmount, format_money
from credits_pipeline.formats.values import MAX_AMOUNT, AmountReader
from tests.amounts import group_thousands


def parse_amount(text: str, *, decimal_comma: bool = False) -> Decimal:
    """The production amount reader (one home: formats.values), amount only."""
    return AmountReader(decimal_comma=decimal_comma).read(text)[0]


PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$0.00", Decimal("0")),
        ("$6,407.96", Decimal("6407.96")),
        ("$116,319.27", Decimal("116319.27")),
        ("$1,234.56", Decimal("1234.56")),
        ("-$100.00", Decimal("-100")),
        ("$-100.00", Decimal("-100")),
        ("(3.50)", Decimal("-3.5")),
        ("($3.50)", Decimal("-3.5")),
        ("-1.2E-5", Decimal("-0.000012")),
        ("  42.10 ", Decimal("42.1")),
        ("USD 12.00", Decimal("12")),
        ("$\u00a01,000.00", Decimal("1000")),
        ("0.12345678901234", Decimal("0.12345678901234")),  # more than ten decimal places
        ("1234", Decimal("1234")),
    ],
)
def test_parse_amount_reads_the_ways_amounts_are_written(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["$ -", "$ \u2013", "$\u00a0-", "-"])
def test_accounting_dash_reads_as_zero(text):
    assert parse_amount(text) == 0


def test_decimal_comma_is_read_when_asked():
    assert parse_amount("1.234,56", decimal_comma=True) == Decimal("1234.56")
    assert parse_amount("-0,5", decimal_comma=True) == Decimal("-0.5")


@pytest.mark.parametrize("text", ["", "   ", "abc", "1.2.3", "12abc", "NaN", "Infinity", "-inf", "USD", "1-2"])
def test_text_that_is_not_an_amount_is_refused(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text)


def test_invalid_amount_is_a_value_error():
    # Callers that catch ValueError (e.g. row skippers) must see it.
    assert issubclass(InvalidAmount, ValueError)


def test_negative_amounts_keep_every_digit():
    # 30 significant digits: more than the default decimal context's 28; negation must not round.
    text = "-123456789012345678901234567.891"
    assert parse_amount(text) == Decimal(text)
    assert parse_amount("(" + text[1:] + ")") == Decimal(text)


def test_an_absurd_exponent_is_refused_or_kept_exactly_never_a_decimal_trap():
    for text in ["-1E+1000000", "(1E+1000000)", "1E+1000000"]:
        try:
            value = parse_amount(text)
        except InvalidAmount:
            continue
        expected = Decimal(text.strip("()"))
        assert value == (expected.copy_negate() if text.startswith("(") else expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("-1234.56"), "-1234.56"),
        (Decimal("-1.23456E3"), "-1234.56"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-1.2E-5"), "-0.000012"),
        (Decimal("-1E-7"), "-0.0000001"),
        (Decimal("-100.00"), "-100.00"),
        (Decimal("0"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("-0.00"), "0.00"),
    ],
)
def test_format_money_writes_plain_decimals(value, expected):
    assert format_money(value) == expected


# Decimals built from (sign, digits, exponent): up to 40 significant digits, beyond the context's 28.
exact_decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
    st.integers(0, 1),
    st.integers(0, 10**40),
    st.integers(-30, 12),
)


@settings(max_examples=300)
@given(exact_decimals)
def test_format_money_is_never_scientific_never_minus_zero_and_exact(value):
    text = format_money(value)
    assert PLAIN_DECIMAL.match(text), text
    assert Decimal(text) == value
    if value == 0:
        assert not text.startswith("-")


@settings(max_examples=300)
@given(exact_decimals)
def test_parse_amount_reads_back_what_format_money_writes(value):
    assume(value.copy_abs() < MAX_AMOUNT)  # beyond it a cell is broken, not a credit (tested in test_values)
    assert parse_amount(format_money(value)) == value


@st.composite
def written_amounts(draw: st.DrawFn) -> tuple[str, Decimal]:
    """(text, expected): an amount in cents written the way spreadsheets write it."""
    cents = draw(st.integers(0, 10**13))
    negative = draw(st.booleans())
    whole, fraction = divmod(cents, 100)
    number = group_thousands(str(whole)) if draw(st.booleans()) else str(whole)
    if fraction or draw(st.booleans()):
        number += f".{fraction:02d}"
    dollar = draw(st.sampled_from(["", "$", "$ "]))
    if not negative:
        text = dollar + number
    else:
        style = draw(st.sampled_from(["-$", "$-", "()", "($)"]))
        text = {
            "-$": "-" + dollar + number,
            "$-": dollar + "-" + number,
            "()": "(" + dollar + number + ")",
            "($)": dollar + "(" + number + ")" if dollar else "(" + number + ")",
        }[style]
    padding = draw(st.sampled_from(["", " ", "  "]))
    expected = Decimal(cents).scaleb(-2)
    return padding + text + padding, -expected if negative else expected


@settings(max_examples=300)
@given(written_amounts())
def test_parse_amount_reads_spreadsheet_amounts_to_the_cent(case):
    text, expected = case
    assert parse_amount(text) == expected
