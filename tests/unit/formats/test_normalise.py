"""normalise: exact sums, bounded memory, reported problems, known accounts, the invalid share."""

from decimal import Decimal

import pytest

from credits_pipeline.domain.credits import CreditLine, IgnoredRow, RowOutcome, SkippedRow
from credits_pipeline.formats import FileRejected, ParseConfig
from credits_pipeline.formats.base import CreditGroup, FormatInfo, IgnoredRows
from credits_pipeline.formats.normalise import normalise, reason_kind
from tests.unit.formats.helpers import read_bytes, rejected_bytes, rejected_fixture


def credit(line: int, account: str = "123456789012", cost: str = "-1", month: str = "2024-09") -> CreditLine:
    return CreditLine(line, account, month, Decimal(cost), "AWS credit", "AWSCredits", "USD")


def test_sums_are_exact_beyond_the_default_28_digits():
    rows = [credit(1, cost="-12345678901234567890.1234567890123"), credit(2, cost="-0.0000000000000000000001")]
    credit_file = normalise("x/1", "sum", rows, ParseConfig())
    assert credit_file.total == Decimal("-12345678901234567890.1234567890123000000001")


def test_a_summed_credit_keeps_a_bounded_number_of_line_numbers():
    rows = [credit(line) for line in range(1, 1001)]
    credit_file = normalise("x/1", "sum", rows, ParseConfig(max_lines_per_credit=10))
    (summed,) = credit_file.months["2024-09"].credits
    assert summed.cost == Decimal("-1000")
    assert summed.lines == tuple(range(1, 11))
    assert summed.rows == 1000


def test_ignored_rows_count_singly_and_in_bulk():
    rows: list[RowOutcome | IgnoredRows] = [
        credit(1),
        IgnoredRow(2, "Usage"),
        IgnoredRows("Usage", 10),
        IgnoredRows("Tax", 2),
        IgnoredRow(3, ""),
    ]
    credit_file = normalise("x/1", "sum", rows, ParseConfig())
    assert credit_file.ignored_by_type == {"Usage": 11, "Tax": 2, "(blank)": 1}
    assert credit_file.ignored_rows == 14


def test_distinct_ignored_types_are_capped():
    rows: list[RowOutcome] = [credit(1), *(IgnoredRow(n, f"type {n}") for n in range(2, 500))]
    credit_file = normalise("x/1", "sum", rows, ParseConfig())
    assert len(credit_file.ignored_by_type) <= 101
    assert credit_file.ignored_rows == 498


def test_a_rejection_lists_the_first_problems_and_counts_the_rest_by_kind():
    rows = [credit(1)] + [SkippedRow(n, None, f"account id '{n}E+11' is in scientific notation") for n in range(2, 52)]
    with pytest.raises(FileRejected) as caught:
        normalise("x/1", "sum", rows, ParseConfig())
    error = caught.value
    assert error.problems_total == 50
    assert len(error.problems) == 21
    assert error.problems[0] == "line 2: account id '2E+11' is in scientific notation"
    assert error.problems[-1] == "… and 30 more invalid rows: 30 x account id … is in scientific notation"
    assert error.problem_counts == {"account id … is in scientific notation": 50}


def test_problems_name_records_for_json_files():
    rows = [SkippedRow(1, None, "bad")]
    with pytest.raises(FileRejected) as caught:
        normalise("x/1", "sum", rows, ParseConfig(), info=FormatInfo("x/1", line_unit="record"))
    assert caught.value.problems == ["record 1: bad"]


def test_known_accounts_are_compared_as_twelve_digits():
    rows = [credit(1, "062951470133"), credit(2, "210987654321")]
    credit_file = normalise("x/1", "sum", rows, ParseConfig(known_accounts=frozenset({"62951470133"})))
    assert [c.account_id for c in credit_file.months["2024-09"].credits] == ["062951470133"]
    assert [(s.line, s.reason, s.category) for s in credit_file.skipped] == [(2, "unknown account", "unknown_account")]


def test_unknown_accounts_through_a_real_file():
    data = b"Account ID,Month,Amount\n123456789012,2024-09,5\n210987654321,2024-09,7\n"
    credit_file = read_bytes(data, known_accounts=frozenset({"123456789012"}))
    assert credit_file.total == Decimal("-5")
    assert credit_file.skipped_by_reason == {"unknown_account": 1}


def test_the_share_counts_invalid_rows_against_credit_rows_only():
    rows = [credit(n) for n in range(1, 10)] + [SkippedRow(10, None, "bad")] + [IgnoredRows("Usage", 10_000)]
    assert normalise("x/1", "sum", rows, ParseConfig(max_invalid_share=Decimal("0.10"))).total == Decimal("-9")
    with pytest.raises(FileRejected, match="1 of 10 credit rows are invalid"):
        normalise("x/1", "sum", rows, ParseConfig(max_invalid_share=Decimal("0.05")))


def test_reason_kind_drops_the_values():
    assert reason_kind("not an amount: 'abc'") == "not an amount: …"
    assert reason_kind("row has 3 cells, the header has 5") == "row has … cells, the header has …"


def test_the_credit_file_carries_how_it_was_read():
    info = FormatInfo(
        "x/1",
        title="X",
        layout="csv",
        amount_column="Amount (why)",
        columns=(("account", "Acct"),),
        sign_rule="signed",
        month_source="column M",
        header_line=3,
    )
    credit_file = normalise("x/1", "sum", [credit(1)], ParseConfig(), info=info)
    assert (credit_file.format_title, credit_file.layout, credit_file.amount_column) == ("X", "csv", "Amount (why)")
    assert credit_file.columns == {"account": "Acct"}
    assert (credit_file.sign_rule, credit_file.month_source, credit_file.header_line) == ("signed", "column M", 3)


def test_a_currency_not_configured_is_rejected_naming_the_line_it_first_appears_on():
    data = b"Account ID,Month,Amount,Currency\n123456789012,2024-09,10,USD\n210987654321,2024-09,20,EUR\n"
    for error in (
        rejected_bytes(data + b"333344445555,2024-09,5,EUR\n"),
        rejected_fixture("rejections/several-currencies.csv"),
    ):
        assert error.line == 3
        assert error.reason.endswith("currency EUR (first at line 3) is not configured (accepted: USD)")


def test_a_currency_not_configured_names_its_first_line_whatever_order_the_rows_come_in():
    def euro(line: int) -> CreditLine:
        return CreditLine(line, "123456789012", "2024-09", Decimal("-1"), "AWS credit", "AWSCredits", "EUR")

    rows: list[CreditLine | CreditGroup] = [
        CreditGroup(euro(7), rows=2, lines=(7, 9)),
        credit(1),
        euro(4),
        CreditGroup(euro(2), rows=1, lines=(2,)),
    ]
    with pytest.raises(FileRejected) as caught:
        normalise("x/1", "sum", rows, ParseConfig(), info=FormatInfo("x/1", line_unit="row"))
    assert caught.value.line == 2
    assert str(caught.value) == "line 2: currency EUR (first at row 2) is not configured (accepted: USD)"
