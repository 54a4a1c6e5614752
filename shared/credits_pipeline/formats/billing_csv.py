"""AWS's legacy monthly billing report, the invoice CSV (`<payer>-aws-billing-csv-YYYY-MM.csv`).

Columns `InvoiceID, PayerAccountId, LinkedAccountId, RecordType, RecordID, BillingPeriodStartDate,
BillingPeriodEndDate, InvoiceDate, ..., ProductCode, ProductName, ..., ItemDescription, ...,
CurrencyCode, CostBeforeTax, Credits, TaxAmount, TaxType, TotalCost`.

Rows:
- Credits are the `Credits` column of `LinkedLineItem` and `PayerLineItem` rows (a payer line item
  has no linked account: its account is `PayerAccountId`). A `LinkedLineItem` without its
  `LinkedAccountId` is skipped as invalid, never credited to the payer: the payer's account is that of
  `PayerLineItem` rows only. Most line items carry no credit (a blank or zero `Credits`): they are
  counted and ignored, not reported as zero amounts.
- `AccountTotal`, `InvoiceTotal` and `StatementTotal` rows are totals: never summed with the line
  items, always checked against them. The `InvoiceTotal` rows of an invoice (`InvoiceID`) state the
  credits of that invoice's line items, the `AccountTotal` rows of an account that account's, the
  `StatementTotal` rows the file's. Several rows with the same key add up (an open month's invoices
  all carry the id `Estimated`); a totals row with a blank `Credits` states nothing.
- Other record types (disclaimers, rounding) are counted and ignored.

Sign: as AWS writes it (credits negative; `TotalCost = CostBeforeTax + Credits + TaxAmount`). Month:
`BillingPeriodStartDate` (`2026/05/01 00:00:00`). Service: `ProductCode`, else `ProductName`. The
line item's `ItemDescription` describes the usage, not the credit: the description is the configured
default. An open month's invoice id is `Estimated`: those credits are read and counted in a note.
"""

from credits_pipeline.formats.tabular import Column, TabularSpec

BILLING_CSV = TabularSpec(
    format_id="aws-billing-csv/1",
    title="AWS legacy monthly billing report (invoice CSV)",
    columns=(
        Column("account", ("LinkedAccountId", "PayerAccountId"), required=True, fallback=True),
        Column("month", ("BillingPeriodStartDate",), required=True, period_start=True),
        Column("amount", ("Credits",), required=True),
        Column("row_type", ("RecordType",), required=True),
        Column("invoice", ("InvoiceID",), required=True),
        Column("estimated", ("InvoiceID",)),
        Column("service", ("ProductCode", "ProductName"), fallback=True),
        Column("currency", ("CurrencyCode",)),
    ),
    sign="signed",
    priority=52,
    credit_types=frozenset({"linkedlineitem", "payerlineitem"}),
    # The columns that tell the invoice CSV from a hand-made sheet with an `Account`/`Credits` pair.
    markers=(("CostBeforeTax",), ("TotalCost",)),
    total_rows=(("invoicetotal", "invoice"), ("accounttotal", "account"), ("statementtotal", "file")),
    credit_when_nonzero=True,
    account_fallback_types=("PayerLineItem",),
    amount_note="the line item's Credits, with the sign AWS gives it (credits negative)",
)

SPECS = (BILLING_CSV,)
