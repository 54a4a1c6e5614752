"""Cost and Usage Reports: legacy CSV, CUR 2.0 (CSV and Parquet), legacy snake_case Parquet."""

from decimal import Decimal

import pytest

from tests.unit.formats.helpers import credits_of, read_bytes, read_fixture, rejected_bytes, totals

HEADER = (
    "bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UnblendedCost,"
    "lineItem/UsageStartDate,lineItem/LineItemDescription,lineItem/ProductCode,lineItem/CurrencyCode\n"
)


def cur(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def test_legacy_cur_sums_credit_rows_per_account_service_and_description():
    credit_file = read_fixture("cur-legacy/cur-2024-09.csv")
    assert credit_file.format_id == "aws-cur/1"
    assert credits_of(credit_file, "2024-09") == {
        ("073933415963", "AmazonEC2", "AWS Activate Credits"): Decimal("-0.06"),  # three hourly rows
        ("073933415963", "AmazonEC2", "MAP 2.0 credit MPE1234_MPE"): Decimal("-50"),  # Refund with _MPE
        ("062951470133", "AmazonS3", "AWS Activate Credits"): Decimal("-10.3456789012345"),  # with a reversal
        (
            "111122223333",
            "AmazonEC2",
            "AWS Promotional Credits, credit from account: 391835788720",
        ): Decimal("-2.613712"),
        ("111122223333", "AWS Support (Business)", "AWS Support credit"): Decimal("-25"),
    }
    assert credit_file.ignored_by_type == {
        "Usage": 1,
        "Refund": 1,  # a refund without _MPE is not a credit
        "Tax": 1,
        "EdpDiscount": 1,
        "SavingsPlanNegation": 1,
        "RIFee": 1,
    }
    assert credit_file.currency == "USD"
    assert credit_file.skipped_total == 0


def test_the_account_in_a_description_is_not_the_rows_account():
    credit_file = read_fixture("cur-legacy/cur-2024-09.csv")
    accounts = {credit.account_id for credit in credit_file.months["2024-09"].credits}
    assert "391835788720" not in accounts
    assert "111122223333" in accounts


def test_the_report_names_the_amount_column_and_sign_rule():
    credit_file = read_fixture("cur-legacy/cur-2024-09.csv")
    assert credit_file.amount_column.startswith("lineItem/UnblendedCost")
    assert credit_file.sign_rule.startswith("signed")
    assert credit_file.month_source == "column bill/BillingPeriodStartDate"
    assert credit_file.columns["service"] == "lineItem/ProductCode / product/ProductName"


def test_summed_credits_keep_their_first_line_numbers_and_row_count():
    credit_file = read_fixture("cur-legacy/cur-2024-09.csv")
    activate = next(
        c
        for c in credit_file.months["2024-09"].credits
        if c.description == "AWS Activate Credits" and c.account_id == "073933415963"
    )
    assert activate.lines == (3, 4, 5)
    assert activate.rows == 3


def test_the_month_is_the_billing_period_not_the_usage_date():
    data = cur("2024-09-01T00:00:00Z,123456789012,Credit,-5,2024-10-01T02:00:00Z,Activate,AmazonEC2,USD")
    assert totals(read_bytes(data)) == {"2024-09": Decimal("-5")}


def test_a_cur_with_several_billing_periods_splits_by_month():
    data = cur(
        "2024-08-01T00:00:00Z,123456789012,Credit,-1,2024-08-02T00:00:00Z,Activate,AmazonEC2,USD",
        "2024-09-01T00:00:00.000Z,123456789012,Credit,-2,2024-09-02T00:00:00Z,Activate,AmazonEC2,USD",
    )
    assert totals(read_bytes(data)) == {"2024-08": Decimal("-1"), "2024-09": Decimal("-2")}


def test_aws_signs_are_kept_a_positive_credit_reduces_the_month():
    data = cur(
        "2024-09-01T00:00:00Z,123456789012,Credit,-10,,Activate,AmazonEC2,USD",
        "2024-09-01T00:00:00Z,123456789012,Credit,4,,Activate,AmazonEC2,USD",
    )
    assert totals(read_bytes(data)) == {"2024-09": Decimal("-6")}


def test_credits_that_net_to_zero_are_skipped_as_net_zero_not_sent():
    data = cur(
        "2024-09-01T00:00:00Z,123456789012,Credit,-10,,Activate,AmazonEC2,USD",
        "2024-09-01T00:00:00Z,123456789012,Credit,10,,Activate,AmazonEC2,USD",
        "2024-09-01T00:00:00Z,210987654321,Credit,-1,,Activate,AmazonEC2,USD",
    )
    credit_file = read_bytes(data)
    assert totals(credit_file) == {"2024-09": Decimal("-1")}
    assert credit_file.skipped_by_reason == {"net_zero": 1}


def test_a_cur_row_cut_short_is_an_invalid_row_and_too_many_reject_the_file():
    good = [f"2024-09-01T00:00:00Z,{n:012d},Credit,-1,,Activate,AmazonEC2,USD" for n in range(1, 20)]
    credit_file = read_bytes(cur(*good, "2024-09-01T00:00:00Z,123456789012,Credit"))
    assert credit_file.skipped_by_reason == {"invalid": 1}
    assert "cells" in credit_file.skipped[0].reason
    error = rejected_bytes(cur(*good[:3], "2024-09-01T00:00:00Z,123456789012,Credit"))
    assert "invalid" in str(error)
    assert error.format_id == "aws-cur/1"


def test_only_credit_rows_are_checked_a_broken_usage_row_is_just_ignored():
    data = cur(
        "2024-09-01T00:00:00Z,not-an-account,Usage,abc,,EC2,AmazonEC2,USD",
        "2024-09-01T00:00:00Z,123456789012,Credit,-1,,Activate,AmazonEC2,USD",
    )
    credit_file = read_bytes(data)
    assert credit_file.skipped_total == 0
    assert credit_file.ignored_by_type == {"Usage": 1}


def test_a_cur_without_credit_rows_is_rejected_listing_what_it_ignored():
    error = rejected_bytes(cur("2024-09-01T00:00:00Z,123456789012,Usage,1,,EC2,AmazonEC2,USD"))
    assert "no credit rows" in str(error)
    assert "Usage 1" in str(error)


def test_a_cur_in_another_currency_is_rejected_unless_configured():
    data = cur("2024-09-01T00:00:00Z,123456789012,Credit,-1,,Activate,AmazonEC2,EUR")
    assert "EUR" in str(rejected_bytes(data))
    credit_file = read_bytes(data, currencies=frozenset({"EUR"}))
    assert credit_file.currency == "EUR"


@pytest.mark.parametrize("relative", ["cur2/cur2-2025-01.csv.gz", "cur2/cur2-2025-01.parquet"])
def test_cur2_csv_and_parquet_read_alike(relative):
    credit_file = read_fixture(relative)
    assert credit_file.format_id == "aws-cur/2"
    assert credits_of(credit_file, "2025-01") == {
        ("210987654321", "AmazonEC2", "AWS Activate Credits"): Decimal("-2.00"),
        ("310987654321", "AmazonRDS", "AWS Migration Credits"): Decimal("-100.123456789012"),
        ("310987654321", "AmazonRDS", "MAP credit MAP-2024_MPE"): Decimal("-20"),
    }
    assert credit_file.ignored_by_type == {"Usage": 1, "Tax": 1, "BundledDiscount": 1}
    assert credit_file.amount_column.startswith("line_item_unblended_cost")


def test_parquet_rows_are_numbered_and_floats_read_via_their_text():
    credit_file = read_fixture("cur2/cur2-2025-01.parquet")
    assert credit_file.line_unit == "row"
    rds = next(c for c in credit_file.months["2025-01"].credits if c.description == "AWS Migration Credits")
    assert rds.cost == Decimal("-100.123456789012")  # not -100.12345678901200... float noise
    assert rds.lines == (4,)


def test_legacy_cur_in_snake_case_parquet_with_decimals():
    credit_file = read_fixture("cur-athena/cur-2024-11.parquet")
    assert credit_file.format_id == "aws-cur-athena/1"
    assert totals(credit_file) == {"2024-11": Decimal("-122.123456789012")}


def test_cur2_uses_net_unblended_cost_only_when_it_is_the_only_cost():
    header = (
        "bill_billing_period_start_date,bill_payer_account_name,line_item_usage_account_name,"
        "line_item_usage_account_id,line_item_line_item_type,line_item_net_unblended_cost\n"
    )
    data = header + "2025-01-01T00:00:00Z,payer,member,123456789012,Credit,-7.5\n"
    credit_file = read_bytes(data.encode())
    assert credit_file.format_id == "aws-cur/2"
    assert totals(credit_file) == {"2025-01": Decimal("-7.5")}
    assert credit_file.months["2025-01"].credits[0].service == "AWSCredits"  # no product code: the default
