"""FOCUS (FinOps Open Cost and Usage Specification) tables, version 0.5 to 1.4, and AWS's FOCUS 1.2 with
AWS columns.

Versions are told apart by the columns each added (1.4 also dropped two); 0.5-era converters call the
category column `ChargeType` and write credits as `Adjustment`.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from testdata.cur import CUR_MONTHS, PRODUCTS, Charge, generated_charges, tallied
from testdata.encode import ParquetType, write_csv
from testdata.expected import CreditTally, Expected

FOCUS_BASE = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "EffectiveCost",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
)
FOCUS_ADDED = {
    "1.1": ("CapacityReservationId", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails"),
    "1.2": ("CapacityReservationId", "ServiceSubcategory", "BillingAccountType", "SubAccountType", "InvoiceId"),
    "1.3": ("BillingAccountType", "InvoiceId", "ServiceProviderName", "HostProviderName", "ContractApplied"),
    "1.4": (
        "BillingAccountType",
        "InvoiceId",
        "ServiceProviderName",
        "HostProviderName",
        "ContractApplied",
        "InvoiceDetailId",
        "CommitmentProgramEligibilityDetails",
    ),
}
# FOCUS 1.4 replaced ProviderName and PublisherName by the service/host provider columns of 1.3.
FOCUS_REMOVED = {"1.4": ("ProviderName", "PublisherName")}


@dataclass(frozen=True)
class FocusCharge:
    category: str  # ChargeCategory: Usage, Credit, Adjustment, Tax, ...
    charge_class: str  # "" or Correction
    billed: str
    effective: str
    provider: str
    service: str
    account: str  # SubAccountId
    day: str  # the charge period's day, YYYY-MM-DD (the billing period is February 2025)
    description: str


def focus_columns(version: str, category_column: str = "ChargeCategory") -> list[str]:
    columns = [category_column if column == "ChargeCategory" else column for column in FOCUS_BASE]
    if version == "0.5":
        columns.remove("ChargeClass")
    columns += FOCUS_ADDED.get(version, ())
    return [column for column in columns if column not in FOCUS_REMOVED.get(version, ())]


def focus_table(charges: list[FocusCharge], version: str, category_column: str = "ChargeCategory") -> list[list[str]]:
    """A header row and one row per charge, with the columns of `version`; `NULL` for empty, as exports write it."""
    columns = focus_columns(version, category_column)
    table = [columns]
    for charge in charges:
        category = charge.category
        if version == "0.5" and category == "Credit":
            category = "Adjustment"  # older converters: credits are Adjustment
        values = {
            "BilledCost": charge.billed,
            "BillingAccountId": "999988887777",
            "BillingAccountName": "Kiteworks",
            "BillingCurrency": "USD",
            "BillingPeriodEnd": "2025-03-01T00:00:00Z",
            "BillingPeriodStart": "2025-02-01T00:00:00Z",
            category_column: category,
            "ChargeClass": charge.charge_class or "NULL",
            "ChargeDescription": charge.description,
            "ChargeFrequency": "Usage-Based",
            "ChargePeriodEnd": f"{charge.day}T01:00:00Z",
            "ChargePeriodStart": f"{charge.day}T00:00:00Z",
            "EffectiveCost": charge.effective,
            "ListCost": charge.billed,
            "ProviderName": charge.provider,
            "PublisherName": charge.provider,
            "InvoiceIssuerName": charge.provider,
            "ServiceCategory": "Compute",
            "ServiceName": charge.service,
            "SubAccountId": charge.account,
            "SubAccountName": "member",
            "CapacityReservationId": "NULL",
            "ServiceSubcategory": "Virtual Machines",
            "SkuMeter": "Compute",
            "SkuPriceDetails": "NULL",
            "BillingAccountType": "Billing Account",
            "SubAccountType": "Account",
            "InvoiceId": "EUINUS25-1",
            "ServiceProviderName": charge.provider,
            "HostProviderName": charge.provider,
            "ContractApplied": "NULL",
            "InvoiceDetailId": "EUINUS25-1-0001",  # invented
            "CommitmentProgramEligibilityDetails": "NULL",
        }
        table.append([values[column] for column in columns])
    return table


# --- AWS Data Exports' "FOCUS 1.2 with AWS columns" ----------------------------------------------

# Its columns (57 FOCUS 1.2 columns, then x_Discounts, x_Operation, x_ServiceCode), as AWS's table
# dictionary lists them.
FOCUS_1_2_AWS_COLUMNS = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_Discounts",
    "x_Operation",
    "x_ServiceCode",
)
# How AWS types its columns in Parquet: costs as doubles, Tags and x_Discounts as maps.
FOCUS_1_2_AWS_PARQUET_TYPES: dict[str, ParquetType] = {
    "BilledCost": "double",
    "EffectiveCost": "double",
    "Tags": "map",
    "x_Discounts": "map",
}


@dataclass(frozen=True)
class AwsFocusCharge:
    category: str  # ChargeCategory
    billed: str
    provider: str  # ProviderName: AWS may leave it null ("")
    publisher: str  # PublisherName: often null ("")
    service: str  # Amazon EC2 or Amazon S3 (x_ServiceCode follows it)
    account: str  # SubAccountId
    discounts: str  # x_Discounts as a JSON object, "" for null
    description: str
    month: str = "2025-05"  # the billing period
    service_code: str = ""  # x_ServiceCode; "" for AmazonEC2 when the service is Amazon EC2, else AmazonS3


def focus_1_2_aws_table(charges: list[AwsFocusCharge]) -> list[list[str]]:
    """A header row and one row per charge, as AWS writes it: "" for null, the 3rd day of the charge's month."""
    return list(aws_focus_rows(charges))


def aws_focus_rows(charges: Iterable[AwsFocusCharge]) -> Iterator[list[str]]:
    """`focus_1_2_aws_table` one row at a time, for a table too big to hold."""
    yield list(FOCUS_1_2_AWS_COLUMNS)
    for charge in charges:
        year, month = (int(part) for part in charge.month.split("-"))
        following = f"{year + month // 12}-{month % 12 + 1:02d}"
        usage = charge.category == "Usage"
        values = dict.fromkeys(FOCUS_1_2_AWS_COLUMNS, "")
        values |= {
            "BilledCost": charge.billed,
            "BillingAccountId": "999988887777",
            "BillingAccountName": "Payer",
            "BillingAccountType": "Billing Account",
            "BillingCurrency": "USD",
            "BillingPeriodEnd": f"{following}-01 00:00:00",
            "BillingPeriodStart": f"{charge.month}-01 00:00:00",
            "ChargeCategory": charge.category,
            "ChargeDescription": charge.description,
            "ChargeFrequency": "Usage-Based",
            "ChargePeriodEnd": f"{charge.month}-04 00:00:00",
            "ChargePeriodStart": f"{charge.month}-03 00:00:00",
            "EffectiveCost": "0" if charge.category == "Credit" else charge.billed,
            "InvoiceId": "EUINUS25-77",
            "InvoiceIssuerName": "Amazon Web Services, Inc.",
            "ListCost": charge.billed,
            "ProviderName": charge.provider,
            "PublisherName": charge.publisher,
            "ServiceName": charge.service,
            "SubAccountId": charge.account,
            "SubAccountName": "member",
            "SubAccountType": "Account",
            "Tags": '{"team":"data","env":"prod"}' if usage else "",
            "x_Discounts": charge.discounts,
            "x_Operation": "RunInstances" if usage else "",
            "x_ServiceCode": charge.service_code or ("AmazonEC2" if charge.service == "Amazon EC2" else "AmazonS3"),
        }
        yield [values[column] for column in FOCUS_1_2_AWS_COLUMNS]


# AWS's FOCUS categories of the generated CUR line item types (`Usage` for the rest).
_CATEGORIES = {"Credit": "Credit", "Tax": "Tax", "Fee": "Purchase", "RIFee": "Purchase"}


def _aws_focus_charge(charge: Charge) -> AwsFocusCharge:
    code, name = PRODUCTS[charge.product][:2]
    return AwsFocusCharge(
        category=_CATEGORIES.get(charge.row_type, "Usage"),
        billed=charge.cost,
        provider="AWS",
        publisher="Amazon Web Services, Inc.",
        service=name,
        account=charge.account,
        discounts="",
        description=charge.description,
        month=CUR_MONTHS[charge.month],
        service_code=code,
    )


def write_aws_focus_csv(path: Path, rows: int, accounts: int, seed: int) -> Expected:
    """The generated CUR line items (testdata.cur) as AWS's FOCUS 1.2 with AWS columns; gzip when `path` ends `.gz`.

    FOCUS names the service (`Amazon Elastic Compute Cloud`), where the CUR gives its code.
    """
    tally = CreditTally()
    charges = map(_aws_focus_charge, tallied(generated_charges(rows, accounts, seed), tally, by_name=True))
    write_csv(path, aws_focus_rows(charges))
    return tally.expected("focus/1.2")
