"""FOCUS (FinOps Open Cost and Usage Specification) tables, version 0.5 to 1.3.

Versions are told apart by the columns each added; 0.5-era converters call the category column
`ChargeType` and write credits as `Adjustment`.
"""

from dataclasses import dataclass

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
}


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
    return columns + list(FOCUS_ADDED.get(version, ()))


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
        }
        table.append([values[column] for column in columns])
    return table
