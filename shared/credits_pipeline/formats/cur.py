"""AWS Cost and Usage Reports: legacy CUR, its snake_case (Athena/Parquet) form, and CUR 2.0.

- Only credit rows count: `LineItemType` = `Credit`, and `Refund` rows whose description holds
  `_MPE` (MAP credits). Every other type (Usage, Tax, Fee, RIFee, DiscountedUsage, SavingsPlan*,
  EdpDiscount, BundledDiscount, ...) is counted and ignored.
- The month is the billing period start (`bill/BillingPeriodStartDate`), not the usage date: a
  credit belongs to the bill it was applied on.
- The amount is `UnblendedCost` (CUR 2.0: `line_item_unblended_cost`, else
  `line_item_net_unblended_cost` when that is the only cost column), kept with its sign: credits
  are negative, reversals positive. Hourly or daily credit rows are summed per account and month.
- Service is the product code (`lineItem/ProductCode`, falling back row by row to
  `product/ProductName`); description is the line item description.
- CUR 2.0 proper has `bill_payer_account_name` and `line_item_usage_account_name`; the legacy CUR's
  Athena/Parquet integration writes the same snake_case names without them. Billing Conductor pro
  forma exports use CUR 2.0's columns and read as `aws-cur/2`.
"""

from credits_pipeline.formats.tabular import Column, HeaderStyle, TabularSpec

CREDIT_TYPES = frozenset({"credit"})
MAP_CREDIT_REFUNDS = (("refund", "_mpe"),)
AMOUNT_NOTE = "the line item's unblended cost, with the sign AWS gives it (credits negative)"


def _cur(
    format_id: str,
    title: str,
    columns: tuple[Column, ...],
    priority: int,
    *,
    header_style: HeaderStyle,
    markers: tuple[tuple[str, ...], ...] = (),
) -> TabularSpec:
    """A CUR spec: credit rows (and MAP refunds) only, signed, machine-written (strict width)."""
    return TabularSpec(
        format_id=format_id,
        title=title,
        columns=columns,
        sign="signed",
        priority=priority,
        credit_types=CREDIT_TYPES,
        conditional_types=MAP_CREDIT_REFUNDS,
        markers=markers,
        header_style=header_style,
        strict_width=True,
        export_parts=True,
        amount_note=AMOUNT_NOTE,
    )


LEGACY = _cur(
    "aws-cur/1",
    "AWS Cost and Usage Report (legacy, category/Column headers)",
    (
        Column("account", ("lineItem/UsageAccountId",), required=True),
        Column("month", ("bill/BillingPeriodStartDate",), required=True, period_start=True),
        Column("amount", ("lineItem/UnblendedCost",), required=True),
        Column("row_type", ("lineItem/LineItemType",), required=True),
        Column("description", ("lineItem/LineItemDescription",)),
        Column("service", ("lineItem/ProductCode", "product/ProductName"), fallback=True),
        Column("currency", ("lineItem/CurrencyCode",)),
    ),
    50,
    header_style="slash",
)

_SNAKE_COLUMNS = (
    Column("account", ("line_item_usage_account_id",), required=True),
    Column("month", ("bill_billing_period_start_date",), required=True, period_start=True),
    Column("amount", ("line_item_unblended_cost", "line_item_net_unblended_cost"), required=True),
    Column("row_type", ("line_item_line_item_type",), required=True),
    Column("description", ("line_item_line_item_description",)),
    Column("service", ("line_item_product_code", "product_product_name"), fallback=True),
    Column("currency", ("line_item_currency_code",)),
)

CUR2 = _cur(
    "aws-cur/2",
    "AWS CUR 2.0 (Data Exports, snake_case headers)",
    _SNAKE_COLUMNS,
    55,
    markers=(("bill_payer_account_name",), ("line_item_usage_account_name",)),
    header_style="no-slash",
)

ATHENA = _cur(
    "aws-cur-athena/1",
    "AWS Cost and Usage Report, legacy, in its Athena/Parquet snake_case form",
    _SNAKE_COLUMNS,
    50,
    header_style="no-slash",
)

SPECS = (CUR2, LEGACY, ATHENA)
