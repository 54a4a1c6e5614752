"""AWS Billing API credit allocation history (`GetCreditAllocationHistory`): JSON, or flattened CSV.

The API answers `{"creditAllocationHistoryList": [entry, ...], "nextToken": ...}`; each entry has
`accountId`, `billingMonth` (`YYYY-MM`), `creditAmount` (an Amount: `currencyAmount`,
`currencyCode`; negative values are credits that reduced the bill), `creditId`,
`appliedServiceName`, `description` and `isEstimatedBill`. The JSON reader accepts the response as
saved, a list of saved pages, a bare list of entries or JSON Lines (see json_records). Saved pages
are checked (json_records.Pagination): a page saved twice, or pages that all have a `nextToken` (one is
missing), reject the file; a bare list, JSON Lines and the CSV have no pages to check. A flattened
CSV names the amount `creditAmount.currencyAmount` (or `creditAmount_currencyAmount`, ...).
Amounts keep their sign (AWS-native). Entries on an estimated (not final) bill are read and
counted in a note: a later file for that month replaces them.
"""

from credits_pipeline.formats.tabular import Column, TabularSpec

CREDIT_ALLOCATION = TabularSpec(
    format_id="aws-credit-allocation/1",
    title="AWS Billing credit allocation history (GetCreditAllocationHistory)",
    columns=(
        Column("account", ("accountId", "account_id"), required=True, label="accountId"),
        Column("month", ("billingMonth", "billing_month"), required=True, label="billingMonth"),
        Column(
            "amount",
            ("creditAmount.currencyAmount", "credit_amount.currency_amount", "currencyAmount"),
            required=True,
            label="creditAmount.currencyAmount",
        ),
        Column("currency", ("creditAmount.currencyCode", "credit_amount.currency_code", "currencyCode")),
        Column("description", ("description",)),
        Column("service", ("appliedServiceName", "applied_service_name")),
        Column("estimated", ("isEstimatedBill", "is_estimated_bill")),
    ),
    sign="signed",
    priority=30,
    markers=(("creditId", "credit_id", "appliedServiceName", "applied_service_name"),),
    amount_note="signed as the API gives it (credits negative)",
)

SPECS = (CREDIT_ALLOCATION,)
