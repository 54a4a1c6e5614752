"""Totals a file states (`Total` rows and columns) are checks, not credits: the credits read must add up
to them, to the cent, or the file is rejected with both figures. (Cost Explorer's and the invoice CSV's
totals are tested with their formats.)"""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credits_pipeline.domain.credits import CreditLine
from credits_pipeline.formats import FileRejected, ParseConfig
from credits_pipeline.formats.base import TotalCheck
from credits_pipeline.formats.normalise import normalise
from credits_pipeline.formats.totals import MAX_TOTALS, total_label
from tests.amounts import group_thousands
from tests.unit.formats.helpers import fixture, read_bytes, read_fixture, rejected_bytes, rejected_fixture, totals

MONTHLY = fixture("headerless/credits-2026-01.csv").read_bytes()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Total", "total"),
        ("TOTAL:", "total"),
        ("Totals", "total"),
        ("Grand total", "total"),
        ("Grand Total (USD)", "total"),
        ("Total costs($)", "total"),
        ("Linked account total", "total"),
        ("Sum", "total"),
        ("Subtotal", "subtotal"),
        ("Sub-total", "subtotal"),
        ("073933415963", None),
        ("Summary", None),
        ("", None),
    ],
)
def test_total_labels(text, kind):
    assert total_label(text) == kind


# --- the headerless monthly file ---------------------------------------------------------------------


def test_a_headerless_total_row_is_a_check_not_an_invalid_account():
    credit_file = read_fixture("headerless/credits-2026-01-with-total.csv")
    assert credit_file.format_id == "headerless/1"
    assert totals(credit_file) == {"2026-01": Decimal("-124061.79")}
    assert credit_file.skipped_by_reason == {"zero": 2, "duplicate": 1}  # no invalid row for `Total`
    assert credit_file.ignored_by_type == {"total row": 1}
    assert credit_file.notes == ["the credits read add up to the Total row (124061.79), to the cent"]


@pytest.mark.parametrize("row", ['Grand total,"$124,061.79"', 'TOTAL,"-$124,061.79"', "Total,124061.79"])
def test_a_headerless_total_is_read_however_it_is_written(row):
    assert totals(read_bytes(MONTHLY + row.encode() + b"\n")) == {"2026-01": Decimal("-124061.79")}


def test_a_headerless_total_a_cent_off_rejects_the_file_with_both_figures():
    error = rejected_bytes(MONTHLY + b'Total,"$124,061.80"\n')
    assert str(error) == (
        "line 8: read as headerless/1: the credits read do not add up to the file's total, to the cent: "
        "the Total row (line 8) states 124061.80, the credits read add up to 124061.79 (a difference of 0.01)"
    )
    assert error.problems == [
        "the Total row (line 8) states 124061.80, the credits read add up to 124061.79 (a difference of 0.01)"
    ]


def test_a_total_counting_the_duplicate_row_is_rejected_and_says_why():
    error = rejected_fixture("rejections/credits-2026-01-total-counts-duplicate.csv")
    assert "states 130469.75, the credits read add up to 124061.79" in str(error)
    assert "counts the identical repeated rows" in str(error)


def test_rows_skipped_as_invalid_are_not_in_the_credits_read():
    rows = b"".join(f"{n:012d},$1.00\n".encode() for n in range(1, 20)) + b"1.2E+11,$5.00\nTotal,$24.00\n"
    error = rejected_bytes(rows)  # 1 invalid row in 20 is under the 10% share: the total still says no
    assert "states 24.00, the credits read add up to 19.00" in str(error)
    assert "1 row was skipped as invalid" in str(error)
    assert any("scientific notation" in problem for problem in error.problems)


def test_credits_of_accounts_outside_the_known_list_still_count_towards_the_total():
    credit_file = read_bytes(b"111122223333,$5.00\n444455556666,$7.00\nTotal,$12.00\n", known_accounts={"111122223333"})
    assert totals(credit_file) == {"2026-01": Decimal("-5.00")}
    assert credit_file.skipped_by_reason == {"unknown_account": 1}


def test_a_subtotal_or_a_blank_total_states_nothing():
    credit_file = read_bytes(b"111122223333,$5.00\nSubtotal,$99.00\n444455556666,$7.00\nTotal,\n")
    assert totals(credit_file) == {"2026-01": Decimal("-12.00")}
    assert credit_file.notes == []


def test_a_headerless_backfill_total_row_checks_each_month():
    name = "incoming/credits-2025-01_2025-03.csv"
    data = fixture("headerless/credits-2025-01_2025-03.csv").read_bytes()
    assert read_bytes(data + b"Total,$150.00,$210,$35.50\n", name=name).months
    message = str(rejected_bytes(data + b"Total,$150.00,$200,$35.50\n", name=name))
    assert "the Total row for 2025-02 (line 4) states 200, the credits read add up to 210" in message


# --- hand-made sheets --------------------------------------------------------------------------------


def test_a_long_sheet_total_a_cent_off_is_rejected_and_one_rounded_to_the_cent_is_not():
    error = rejected_fixture("rejections/sheet-total-off.csv")
    assert "the Total row (line 7) states 1590.87, the credits read add up to 1590.875" in str(error)
    rounded = fixture("sheets/long.csv").read_text().replace('"1,590.875"', '"1,590.88"')
    assert read_bytes(rounded.encode(), name="incoming/long.csv").months  # 1,590.875 to the cent


def test_a_long_sheet_total_row_naming_a_month_totals_that_month():
    text = "Account ID,Month,Amount\n111122223333,2024-09,10\n444455556666,2024-10,5\nTotal,2024-09,10\n"
    credit_file = read_bytes(text.encode())
    assert credit_file.notes == ["the credits read add up to the Total row for 2024-09 (10), to the cent"]
    wrong = text.replace("Total,2024-09,10", "Total,2024-09,15")
    message = str(rejected_bytes(wrong.encode()))
    assert "the Total row for 2024-09 (line 4) states 15, the credits read add up to 10" in message


@pytest.mark.parametrize(
    "text",
    [
        "Month,Account ID,Amount\n2026-01,123456789012,100.00\n2026-01,210987654321,50.00\nTotal,,150.00\n",
        "Account ID,Credit Name,Amount\n123456789012,Activate,100.00\n210987654321,Activate,50.00\n"
        ",Grand total,150.00\n",
        "Account ID,Amount,Notes\n123456789012,100.00,\n210987654321,50.00,\n,150.00,Total\n",
    ],
    ids=["in-the-month-column", "in-the-description-column", "after-the-amount"],
)
def test_a_long_sheet_total_row_labelled_beside_a_blank_account_cell_is_a_check(text: str) -> None:
    credit_file = read_bytes(text.encode())
    assert totals(credit_file) == {"2026-01": Decimal("-150.00")}
    assert credit_file.skipped == []
    assert credit_file.ignored_by_type == {"total row": 1}
    assert credit_file.notes == ["the credits read add up to the Total row (150.00), to the cent"]


def test_a_long_sheet_total_row_labelled_beside_a_blank_account_cell_is_checked_to_the_cent() -> None:
    text = "Month,Account ID,Amount\n2026-01,123456789012,100.00\n2026-01,210987654321,50.00\nTotal,,150.01\n"
    message = str(rejected_bytes(text.encode()))
    assert "the Total row (line 4) states 150.01, the credits read add up to 150.00" in message


def test_a_row_without_an_account_or_a_total_label_is_still_an_invalid_row() -> None:
    text = "Month,Account ID,Amount\n" + "2026-01,123456789012,10.00\n" * 9 + "2026-01,,150.00\n"
    credit_file = read_bytes(text.encode())
    assert totals(credit_file) == {"2026-01": Decimal("-90.00")}
    assert [(row.line, row.reason) for row in credit_file.skipped] == [(11, "missing account id")]


def test_a_wide_sheet_total_column_checks_its_row():
    error = rejected_fixture("rejections/wide-total-column-off.csv")
    assert "the Total column (line 2) states 1500.01, the credits read add up to 1500.00" in str(error)


def test_a_wide_sheet_total_row_checks_each_month_and_its_corner_the_file():
    text = fixture("sheets/wide.csv").read_text()
    message = str(rejected_bytes(text.replace('Total,,"1,000.00",750.00', 'Total,,"1,000.00",760.00').encode()))
    assert "the Total row for 2024-10 (line 4) states 760.00, the credits read add up to 750" in message
    message = str(rejected_bytes(text.replace('750.00,"1,750.00"', '750.00,"1,740.00"').encode()))
    assert "the Total row's Total cell (line 4) states 1740.00, the credits read add up to 1750" in message


def test_a_wide_sheet_total_row_labelled_in_its_name_column_beside_a_blank_id_is_checked():
    sheet = (
        "Account Name,Account ID,Jan 2026,Feb 2026,Mar 2026\n"
        "Prod,111122223333,100,100,100\n"
        "Dev,222233334444,50,50,50\n"
        "Test,333344445555,10,10,10\n"
        "Total,,{total},160,160\n"
    )
    message = str(rejected_bytes(sheet.format(total=999).encode()))
    assert "the Total row for 2026-01 (line 5) states 999, the credits read add up to 160" in message

    credit_file = read_bytes(sheet.format(total=160).encode())
    assert totals(credit_file) == {month: Decimal("-160") for month in ("2026-01", "2026-02", "2026-03")}
    assert credit_file.skipped_total == 0  # the Total row is a check, not an account missing its id


EXCEL_SUBTOTALS = (  # Excel's Data > Subtotal, at each change in Account ID: each account's total, then the file's
    "Account ID,Month,Amount\n"
    "111122223333,2026-01,100\n"
    "111122223333,2026-01,50\n"
    "111122223333 Total,,{first}\n"
    "222233334444,2026-01,30\n"
    "222233334444 Total,,30\n"
    "Grand Total,,180\n"
)


def test_each_accounts_subtotal_is_checked_against_that_accounts_credits():
    credit_file = read_bytes(EXCEL_SUBTOTALS.format(first=150).encode())
    assert totals(credit_file) == {"2026-01": Decimal("-180")}
    assert credit_file.skipped_total == 0 and credit_file.ignored_by_type == {"total row": 3}

    message = str(rejected_bytes(EXCEL_SUBTOTALS.format(first=151).encode()))
    assert "the Total row of account 111122223333 (line 4) states 151, the credits read add up to 150" in message


@pytest.mark.parametrize("label", ["2026-01 Total", "Grand Total", "Total"])
def test_a_total_label_that_names_no_account_states_the_files_total(label):
    text = f"Account ID,Month,Amount\n111122223333,2026-01,100\n222233334444,2026-01,30\n{label},,131\n"
    assert "states 131, the credits read add up to 130" in str(rejected_bytes(text.encode()))


def test_a_file_of_nothing_but_totals_is_refused():
    rows = b"111122223333,$5.00\n" + b"Total,$5.00\n" * (MAX_TOTALS + 1)
    assert "states more than 10,000 totals" in str(rejected_bytes(rows))


# --- the normaliser's decision -----------------------------------------------------------------------


def test_every_disagreeing_total_is_listed_with_its_figures():
    rows: list[CreditLine | TotalCheck] = [
        CreditLine(2, "111122223333", "2024-09", Decimal("-10"), "c", "s", "USD"),
        TotalCheck(5, "the Total row for 2024-09", Decimal("-11"), Decimal("-10")),
        TotalCheck(6, "the Total row", Decimal("-10"), Decimal("-10")),
        TotalCheck(7, "the Grand total row", Decimal("-12"), Decimal("-10")),
    ]
    with pytest.raises(FileRejected) as caught:
        normalise("x/1", "sum", rows, ParseConfig())
    error = caught.value
    assert "1 more of its totals disagree" in str(error)
    assert error.problems == [
        "the Total row for 2024-09 (line 5) states -11, the credits read add up to -10 (a difference of 1)",
        "the Grand total row (line 7) states -12, the credits read add up to -10 (a difference of 2)",
    ]
    assert error.line == 5


@st.composite
def monthly_with_total(draw):
    """(file bytes, the total in cents): distinct accounts, magnitudes written the ways the monthly file does."""
    amounts = draw(st.dictionaries(st.integers(1, 10**12 - 1), st.integers(1, 10**9), min_size=1, max_size=20))
    lines = [f'{account:012d},"{dollars(cents)}"' for account, cents in amounts.items()]
    return "\n".join(lines).encode() + b"\n", sum(amounts.values())


def dollars(cents: int) -> str:
    return f"${group_thousands(str(cents // 100))}.{cents % 100:02d}"


def written_total(cents: int) -> bytes:
    return f'Total,"{dollars(cents)}"\n'.encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(monthly_with_total(), st.sampled_from([-1, 1]))
def test_a_total_equal_to_the_credits_passes_and_one_a_cent_away_is_rejected(case, cent):
    data, total = case
    assert totals(read_bytes(data + written_total(total))) == {"2026-01": -Decimal(total).scaleb(-2)}
    if total + cent > 0:
        error = rejected_bytes(data + written_total(total + cent))
        assert f"states {Decimal(total + cent).scaleb(-2)}" in str(error)
        assert f"add up to {Decimal(total).scaleb(-2)}" in str(error)
