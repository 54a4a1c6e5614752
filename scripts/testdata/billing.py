"""The legacy monthly billing report (the invoice CSV, `<payer>-aws-billing-csv-<yyyy-mm>.csv`).

Line items (`LinkedLineItem` in an organisation, `PayerLineItem` for a stand-alone account) carry their
credits in `Credits`; `AccountTotal`, `InvoiceTotal` and `StatementTotal` rows restate sums of them.
Every row is for May 2026 here; a fixture for another month rewrites the dates.
"""

from decimal import Decimal

BILLING_COLUMNS = (
    "InvoiceID",
    "PayerAccountId",
    "LinkedAccountId",
    "RecordType",
    "RecordID",
    "BillingPeriodStartDate",
    "BillingPeriodEndDate",
    "InvoiceDate",
    "PayerAccountName",
    "LinkedAccountName",
    "TaxationAddress",
    "PayerPONumber",
    "ProductCode",
    "ProductName",
    "SellerOfRecord",
    "UsageType",
    "Operation",
    "RateId",
    "ItemDescription",
    "UsageStartDate",
    "UsageEndDate",
    "UsageQuantity",
    "BlendedRate",
    "CurrencyCode",
    "CostBeforeTax",
    "Credits",
    "TaxAmount",
    "TaxType",
    "TotalCost",
)
PAYER = "999988887777"
PERIOD_START, PERIOD_END = "2026/05/01 00:00:00", "2026/05/31 23:59:59"


def billing_row(
    invoice: str,
    linked: str,
    record_type: str,
    cost: str,
    credits: str,
    *,
    product_code: str = "",
    product_name: str = "",
    record_id: str = "",
    **cells: str,
) -> list[str]:
    """One row; `TotalCost = CostBeforeTax + Credits + TaxAmount` (credits negative, no tax).

    `record_id` defaults to `<type>:<account>`; `cells` sets any other column by name.
    """
    total = format(Decimal(cost or "0") + Decimal(credits or "0"), "f") if cost or credits else ""
    values = dict.fromkeys(BILLING_COLUMNS, "")
    values |= {
        "InvoiceID": invoice,
        "PayerAccountId": PAYER,
        "LinkedAccountId": linked,
        "RecordType": record_type,
        "RecordID": record_id or f"{record_type}:{linked or PAYER}",
        "BillingPeriodStartDate": PERIOD_START,
        "BillingPeriodEndDate": PERIOD_END,
        "InvoiceDate": "2026/06/02 10:11:12",
        "PayerAccountName": "Kiteworks Payer",
        "LinkedAccountName": "member" if linked else "",
        "ProductCode": product_code,
        "ProductName": product_name,
        "SellerOfRecord": "Amazon Web Services, Inc." if product_code else "",
        "CurrencyCode": "USD",
        "CostBeforeTax": cost,
        "Credits": credits,
        "TaxAmount": "0.000000" if cost else "",
        "TotalCost": total,
    }
    values |= cells
    return [values[column] for column in BILLING_COLUMNS]


def account_total_row(invoice: str, linked: str, cost: str, credits: str) -> list[str]:
    """A linked account's total on one invoice."""
    description = f"Total for linked account# {linked} (member)"
    return billing_row(invoice, linked, "AccountTotal", cost, credits, ItemDescription=description)


def invoice_total_row(invoice: str, cost: str, credits: str) -> list[str]:
    description = f"Total amount for invoice {invoice}"
    record_id = f"InvoiceTotal:{invoice}"
    return billing_row(invoice, "", "InvoiceTotal", cost, credits, record_id=record_id, ItemDescription=description)


def statement_total_row(cost: str, credits: str) -> list[str]:
    """The statement's total over every invoice of the month."""
    description = f"Total statement amount for period {PERIOD_START} - {PERIOD_END}"
    return billing_row("", "", "StatementTotal", cost, credits, record_id="StatementTotal", ItemDescription=description)


def estimated_disclaimer_row(text: str) -> list[str]:
    """The last row of an open month's report: shorter than the header, the text in `ItemDescription`."""
    return ["", PAYER, "", "EstimatedDisclaimer", *[""] * 14, text]
