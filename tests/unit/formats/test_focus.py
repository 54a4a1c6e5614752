"""FOCUS 1.0-1.4 (and 0.5 from older converters): Credit rows, BilledCost, AWS rows only."""

from decimal import Decimal

import pytest

from tests.unit.formats.helpers import credits_of, read_bytes, read_fixture, rejected_fixture, totals

EXPECTED = {
    ("210987654321", "Amazon EC2", "AWS Activate Credits"): Decimal("-8.75"),  # -4.50 -5.50 +1.25 correction
    ("310987654321", "Amazon S3", "AWS Promotional Credits"): Decimal("-0.123456789012"),
}


def test_the_public_focus_sample_gives_its_one_aws_credit_at_billed_cost():
    credit_file = read_fixture("focus/focus_1.0_sample_subset.csv")
    assert credit_file.format_id == "focus/1.0"
    assert credits_of(credit_file, "2024-09") == {
        (
            "011353890204",  # an 11-digit SubAccountId, padded
            "Amazon Elastic Compute Cloud",
            "AWS Open Source Promotional Credits, credit from account: 391835788720",
        ): Decimal("-2.61370000000")  # BilledCost; its EffectiveCost is -3.00
    }
    assert credit_file.ignored_by_type == {"Usage": 7, "Adjustment": 2}
    assert "BilledCost" in credit_file.amount_column
    assert "EffectiveCost" in credit_file.amount_column


@pytest.mark.parametrize(
    ("relative", "format_id"),
    [
        ("focus/focus-1.0.csv", "focus/1.0"),
        ("focus/focus-1.1.csv", "focus/1.1"),
        ("focus/focus-1.2.csv", "focus/1.2"),
        ("focus/focus-1.3.csv", "focus/1.3"),
        ("focus/focus-1.4.csv", "focus/1.4"),
        ("focus/focus-1.2.parquet", "focus/1.2"),
        ("focus/focus-0.5.csv", "focus/0.5"),
    ],
)
def test_each_focus_version_is_recognised_and_read_the_same(relative, format_id):
    credit_file = read_fixture(relative)
    assert credit_file.format_id == format_id
    assert credits_of(credit_file, "2025-02") == EXPECTED
    assert list(credit_file.months) == ["2025-02"]  # BillingPeriodStart, not the charge period


def test_a_correction_credit_keeps_its_positive_sign():
    credit_file = read_fixture("focus/focus-1.2.csv")
    lines = next(c for c in credit_file.months["2025-02"].credits if c.service == "Amazon EC2").lines
    assert len(lines) == 3  # two credits and the +1.25 correction summed


def test_credits_of_other_providers_and_adjustments_are_ignored_and_counted():
    credit_file = read_fixture("focus/focus-1.3.csv")
    assert credit_file.ignored_by_type == {
        "Usage": 1,
        "non-AWS provider: Microsoft": 1,
        "Adjustment": 1,
        "Tax": 1,
    }
    assert credit_file.columns["provider"] == "ServiceProviderName"


def test_focus_1x_with_adjustments_only_is_rejected_saying_so():
    error = rejected_fixture("rejections/focus-1.0-adjustments-only.csv")
    assert "no credit rows" in str(error)
    assert "Adjustment 1" in str(error)


def test_null_values_and_space_separated_timestamps_are_read():
    header = "SubAccountId,BillingPeriodStart,BilledCost,ChargeCategory,ChargeClass,ServiceName,ProviderName\n"
    data = header + "123456789012,2024-09-01 00:00:00,-1.5,Credit,NULL,NULL,NULL\n"
    credit_file = read_bytes(data.encode())
    assert totals(credit_file) == {"2024-09": Decimal("-1.5")}
    assert credit_file.months["2024-09"].credits[0].service == "AWSCredits"


def test_one_instant_lands_in_one_month_whether_its_offset_is_written_with_minutes_or_not() -> None:
    header = "SubAccountId,BillingPeriodStart,BilledCost,ChargeCategory,ChargeClass,ServiceName,ProviderName\n"
    data = header + (
        "123456789012,2025-12-31 19:00:00-05,-1.5,Credit,,EC2,AWS\n"  # 2026-01-01 00:00 UTC
        "210987654321,2025-12-31 19:00:00-05:00,-2.5,Credit,,EC2,AWS\n"
    )
    assert totals(read_bytes(data.encode(), name="incoming/focus.csv")) == {"2026-01": Decimal("-4.0")}


def test_a_billing_period_start_written_in_local_time_is_the_month_it_starts() -> None:
    # AWS bills in UTC, but a converter may write the period's start as a local midnight: converted to UTC,
    # February's credits were sent as January's.
    header = "SubAccountId,BillingPeriodStart,BilledCost,ChargeCategory,ChargePeriodStart,ServiceName,ProviderName\n"
    data = header + "210987654321,2025-02-01T00:00:00+01:00,-4.50,Credit,2025-02-03T00:00:00+01:00,EC2,AWS\n"
    assert totals(read_bytes(data.encode(), name="incoming/focus.csv")) == {"2025-02": Decimal("-4.50")}


def test_focus_1_4_is_reported_as_1_4_not_1_3():
    credit_file = read_fixture("focus/focus-1.4.csv")
    assert credit_file.format_id == "focus/1.4"
    assert credit_file.format_title == "FOCUS 1.4"
    # 1.4 has no ProviderName: the provider is the service provider, and other providers are ignored
    assert credit_file.columns["provider"] == "ServiceProviderName"
    assert credit_file.ignored_by_type["non-AWS provider: Microsoft"] == 1


@pytest.mark.parametrize("relative", ["focus/focus-1.2-aws-columns.csv", "focus/focus-1.2-aws-columns.parquet"])
def test_aws_focus_1_2_with_aws_columns_is_read_with_null_publisher_and_provider(relative):
    credit_file = read_fixture(relative)
    assert credit_file.format_id == "focus/1.2"
    assert credits_of(credit_file, "2025-05") == {
        ("210987654321", "Amazon EC2", "AWS Activate Credits"): Decimal("-7.25"),
        # ProviderName is null on this charge (a documented gap of AWS's export): still an AWS credit
        ("310987654321", "Amazon S3", "AWS Activate Credits"): Decimal("-2.75"),
    }
    assert credit_file.ignored_by_type == {"Usage": 1, "Tax": 1}
    assert credit_file.skipped_total == 0  # the x_Discounts JSON, Tags map and blank PublisherName break no row
