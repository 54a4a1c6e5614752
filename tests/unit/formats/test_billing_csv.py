"""The legacy monthly billing report (invoice CSV): Credits of line items; total rows checked, never summed."""

import csv
import io
from decimal import Decimal

from tests.unit.formats.helpers import credits_of, fixture, read_bytes, read_fixture, rejected_bytes, totals

CLOSED = "billing/999988887777-aws-billing-csv-2026-05.csv"
ESTIMATED = "billing/999988887777-aws-billing-csv-2026-06-estimated.csv"


def edited(relative: str, record_type: str, value: str, nth: int = 0, column_name: str = "Credits") -> bytes:
    """The fixture with the `column_name` cell of the nth row of `record_type` replaced."""
    rows = list(csv.reader(io.StringIO(fixture(relative).read_text())))
    header = rows[0]
    kind, column = header.index("RecordType"), header.index(column_name)
    matching = [row for row in rows[1:] if row[kind] == record_type]
    matching[nth][column] = value
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def test_credits_come_from_the_line_items_and_the_totals_are_not_added():
    credit_file = read_fixture(CLOSED)
    assert credit_file.format_id == "aws-billing-csv/1"
    assert credits_of(credit_file, "2026-05") == {
        ("111122223333", "AmazonEC2", "AWS credit"): Decimal("-25.000000"),
        ("111122223333", "prod-abc123", "AWS credit"): Decimal("-5.000000"),  # the second invoice
        ("444455556666", "AmazonRDS", "AWS credit"): Decimal("-50.000000"),
        # no ProductCode on the line: its ProductName
        ("444455556666", "AWS Support (Business)", "AWS credit"): Decimal("-1.234567"),
    }
    # the StatementTotal says -81.234567: summing the totals rows too would have sent it four times over
    assert totals(credit_file) == {"2026-05": Decimal("-81.234567")}
    assert credit_file.ignored_by_type == {
        "no credit on the line": 1,
        "AccountTotal": 3,
        "InvoiceTotal": 2,
        "StatementTotal": 1,
    }
    assert credit_file.month_source == "column BillingPeriodStartDate"  # `2026/05/01 00:00:00`


def test_every_total_row_is_checked_and_the_report_says_so():
    credit_file = read_fixture(CLOSED)
    assert any("add up to all 5 totals" in note for note in credit_file.notes), credit_file.notes


def test_an_invoice_total_a_cent_off_rejects_the_file_with_both_figures():
    error = rejected_bytes(fixture("rejections/aws-billing-csv-invoice-total-off.csv").read_bytes())
    message = str(error)
    assert "the InvoiceTotal of invoice EUINUS26-100001" in message
    assert "states -76.244567" in message
    assert "add up to -76.234567" in message
    assert error.line == 8


def test_an_account_total_that_disagrees_rejects_the_file():
    # account 111122223333 has an AccountTotal on each of its two invoices: -25 and -5, for -30 of credits
    message = str(rejected_bytes(edited(CLOSED, "AccountTotal", "-26.000000")))
    assert "the AccountTotal of account 111122223333" in message
    assert "states -31.000000, the credits read add up to -30.000000" in message


def test_a_statement_total_that_disagrees_rejects_the_file():
    message = str(rejected_bytes(edited(CLOSED, "StatementTotal", "-80.00")))
    assert "the StatementTotal (line 12) states -80.00, the credits read add up to -81.234567" in message


def test_a_total_row_with_a_blank_credits_cell_states_nothing():
    credit_file = read_bytes(edited(CLOSED, "StatementTotal", ""))
    assert totals(credit_file) == {"2026-05": Decimal("-81.234567")}
    assert any("add up to all 4 totals" in note for note in credit_file.notes), credit_file.notes


def test_a_line_item_credit_lost_to_a_bad_cell_is_caught_by_the_totals():
    error = rejected_bytes(edited(CLOSED, "LinkedLineItem", "twenty-five"), max_invalid_share=Decimal("0.5"))
    assert "1 row was skipped as invalid" in str(error)
    assert "states -30.000000, the credits read add up to -5.000000" in str(error)


def test_an_open_month_payer_line_items_estimated_invoices_and_a_disclaimer():
    credit_file = read_fixture(ESTIMATED)
    # PayerLineItem rows have no linked account: the payer's
    assert credits_of(credit_file, "2026-06") == {
        ("999988887777", "AmazonEC2", "AWS credit"): Decimal("-40.000000"),
        ("999988887777", "prod-abc123", "AWS credit"): Decimal("-4.500000"),
    }
    # two invoices both called `Estimated`: their InvoiceTotal rows add up to their line items together
    assert any("add up to all 2 totals" in note for note in credit_file.notes), credit_file.notes
    assert any("estimated bill" in note for note in credit_file.notes)
    assert credit_file.ignored_by_type["EstimatedDisclaimer"] == 1
    assert credit_file.skipped_total == 0


NO_LINKED_ACCOUNT = (
    "LinkedLineItem row without a LinkedAccountId: the PayerAccountId is the account of PayerLineItem rows only"
)
# Line 3 is a linked line item whose LinkedAccountId is blank: its -20.00 is no account's.
LINE_ITEMS = (
    "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,BillingPeriodStartDate,CostBeforeTax,Credits,TotalCost\n"
    "123,999999999999,123456789012,LinkedLineItem,2026/01/01 00:00:00,10,-10.00,0\n"
    "123,999999999999,,LinkedLineItem,2026/01/01 00:00:00,10,-20.00,0\n"
    "123,999999999999,111122223333,LinkedLineItem,2026/01/01 00:00:00,10,-5.00,0\n"
)


def test_a_linked_line_item_without_its_linked_account_is_skipped_not_credited_to_the_payer():
    credit_file = read_bytes(LINE_ITEMS.encode(), "incoming/billing.csv", max_invalid_share=Decimal("0.5"))
    # the payer 999999999999 gets nothing
    assert {c.account_id: c.cost for c in credit_file.months["2026-01"].credits} == {
        "123456789012": Decimal("-10.00"),
        "111122223333": Decimal("-5.00"),
    }
    assert [(row.line, row.account_id, row.reason) for row in credit_file.skipped] == [(3, None, NO_LINKED_ACCOUNT)]


def test_an_invoice_total_counting_a_line_item_without_its_linked_account_rejects_the_file_naming_the_row():
    data = LINE_ITEMS + "123,999999999999,,InvoiceTotal,2026/01/01 00:00:00,30,-35.00,0\n"
    error = rejected_bytes(data.encode(), "incoming/billing.csv", max_invalid_share=Decimal("0.5"))
    assert "the InvoiceTotal of invoice 123 (line 5) states -35.00, the credits read add up to -15.00" in str(error)
    assert "1 row was skipped as invalid" in str(error)
    assert f"line 3: {NO_LINKED_ACCOUNT}" in error.problems


def test_too_many_line_items_without_their_linked_account_reject_the_file_naming_them():
    # line 4, account 444455556666's -50.000000 on the RDS line
    error = rejected_bytes(edited(CLOSED, "LinkedLineItem", "", nth=2, column_name="LinkedAccountId"))
    assert "1 of 4 credit rows are invalid" in str(error)
    assert error.problems == [f"line 4: {NO_LINKED_ACCOUNT}"]
