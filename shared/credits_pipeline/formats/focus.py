"""FOCUS (FinOps Open Cost and Usage Specification) 1.0 to 1.4, and 0.5 from older converters.

Which cost column, and why: **BilledCost**. It is the amount the invoice is based on, so a credit
read from FOCUS equals the same credit read from the CUR (`UnblendedCost` on the Credit row) and
what the customer was actually credited. `EffectiveCost` is the amortised view: on Credit rows
providers and converters fill it differently (0 where the credit is amortised into other rows, or
another value: in the public FOCUS 1.0 sample the AWS credit has BilledCost -2.6137 and
EffectiveCost -3.00), so it would not reconcile with the bill.

Rows:
- `ChargeCategory` = `Credit` counts. A credit can be positive (a correction, `ChargeClass` =
  `Correction`): it keeps its sign, like every AWS-native amount.
- `Adjustment` in FOCUS 1.x is *not* read as credit: 1.0 added the Credit category, and there
  Adjustment holds other things (the public sample's Adjustment rows are positive Oracle charges).
  Older converters that wrote credits as Adjustment wrote FOCUS 0.5 (`ChargeType` instead of
  `ChargeCategory`): for that shape, `focus/0.5`, Adjustment rows are the credits. A 1.x file that
  still marks credits as Adjustment is rejected with "no credit rows" and its Adjustment count; a
  column mapping with `row_type.credit_values = ["Adjustment"]` reads it deliberately.
- Only AWS rows count: FOCUS files from FinOps tools mix providers. A row whose provider
  (`ServiceProviderName` from 1.3, else `ProviderName`) is set and is not AWS is ignored; a null
  provider is read (AWS's exports leave `ProviderName` and `PublisherName` null on some charges).

Month: `BillingPeriodStart` (the bill the credit is on), not `ChargePeriodStart`. Account:
`SubAccountId` (the AWS account). Public samples write empty values as `NULL` and timestamps as
`2024-09-01 00:00:00`: both are read.

Versions are told apart by the columns each added: 1.1 (CapacityReservationId, ServiceSubcategory,
SkuMeter, SkuPriceDetails, CommitmentDiscountQuantity/Unit), 1.2 (BillingAccountType,
SubAccountType, InvoiceId, PricingCurrency...), 1.3 (ServiceProviderName, HostProviderName,
ContractApplied, Allocated*), 1.4 (InvoiceDetailId, CommitmentProgramEligibilityDetails; 1.4 drops
ProviderName/PublisherName for the service/host provider columns of 1.3). The newest version whose
columns appear is reported; a 1.x file without any of them is `focus/1.0`. All 1.x versions are read
the same way. Provider-specific columns (`x_Discounts`, `x_Operation`, `x_ServiceCode` in AWS's
"FOCUS 1.2 with AWS columns" export) are allowed and not read.
"""

from credits_pipeline.formats.tabular import Column, TabularSpec

AMOUNT_NOTE = (
    "what the invoice shows, equal to the CUR's unblended cost on Credit rows; "
    "not EffectiveCost, which is amortised and differs on credit rows"
)


def _columns(category: str) -> tuple[Column, ...]:
    return (
        Column("account", ("SubAccountId",), required=True),
        Column("month", ("BillingPeriodStart",), required=True, period_start=True),
        Column("amount", ("BilledCost",), required=True),
        Column("row_type", (category,), required=True),
        Column("description", ("ChargeDescription",)),
        Column("service", ("ServiceName",)),
        Column("currency", ("BillingCurrency",)),
        Column("provider", ("ServiceProviderName", "ProviderName")),
    )


_ADDED_IN = {
    "1.1": (
        "CapacityReservationId",
        "CapacityReservationStatus",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit",
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
    ),
    "1.2": (
        "BillingAccountType",
        "SubAccountType",
        "InvoiceId",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    ),
    "1.3": (
        "ServiceProviderName",
        "HostProviderName",
        "ContractApplied",
        "AllocatedMethodId",
        "AllocatedMethodDetails",
        "AllocatedResourceId",
        "AllocatedResourceName",
        "AllocatedTags",
    ),
    "1.4": ("InvoiceDetailId", "CommitmentProgramEligibilityDetails"),
}


def _focus(version: str, priority: int) -> TabularSpec:
    return TabularSpec(
        format_id=f"focus/{version}",
        title=f"FOCUS {version}",
        columns=_columns("ChargeCategory"),
        sign="signed",
        priority=priority,
        credit_types=frozenset({"credit"}),
        markers=((*_ADDED_IN[version],),) if version in _ADDED_IN else (),
        aws_provider_only=True,
        strict_width=True,
        export_parts=True,
        amount_note=AMOUNT_NOTE,
    )


FOCUS_1_0 = _focus("1.0", 40)
FOCUS_1_1 = _focus("1.1", 41)
FOCUS_1_2 = _focus("1.2", 42)
FOCUS_1_3 = _focus("1.3", 43)
FOCUS_1_4 = _focus("1.4", 44)

FOCUS_0_5 = TabularSpec(
    format_id="focus/0.5",
    title="FOCUS 0.5 (older converters: ChargeType, credits as Adjustment)",
    columns=_columns("ChargeType"),
    sign="signed",
    priority=39,
    credit_types=frozenset({"adjustment", "credit"}),
    aws_provider_only=True,
    strict_width=True,
    export_parts=True,
    amount_note=AMOUNT_NOTE,
)

SPECS = (FOCUS_1_4, FOCUS_1_3, FOCUS_1_2, FOCUS_1_1, FOCUS_1_0, FOCUS_0_5)
