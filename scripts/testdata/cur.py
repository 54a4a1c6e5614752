"""AWS Cost and Usage Reports: the legacy CUR (`lineItem/UsageAccountId`, CSV, often gzip) and CUR 2.0 /
Athena (`line_item_usage_account_id`, CSV or Parquet).

A line item's defaults are those of the format fixtures (one EC2 hour in September 2024, or January
2025 for CUR 2.0): a test names only what it is about. `generated_charges` makes a seeded month mix at
any size for the benchmark, with 1% credit rows among usage, tax, fees and discounts.
"""

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from operator import attrgetter
from pathlib import Path

from testdata.encode import ParquetType, csv_text, write_csv, write_parquet
from testdata.expected import CreditTally, Expected

# --- the legacy CUR ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LegacyLineItem:
    account: str
    row_type: str
    cost: str  # as written: credits negative, reversals positive, up to ten decimals (or more)
    description: str = ""
    product_code: str = "AmazonEC2"
    product_name: str = ""
    line_item_id: str = "li0001"
    time_interval: str = "2024-09-03T04:00:00Z/2024-09-03T05:00:00Z"
    invoice_id: str = "EUINUS24-1234"
    billing_entity: str = "AWS"
    bill_type: str = "Anniversary"
    payer_account: str = "999988887777"
    period_start: str = "2024-09-01T00:00:00Z"
    period_end: str = "2024-10-01T00:00:00Z"
    usage_start: str = "2024-09-03T04:00:00Z"
    usage_end: str = "2024-09-03T05:00:00Z"
    usage_type: str = "USW2-BoxUsage:t2.micro"
    operation: str = "RunInstances"
    resource_id: str = ""
    usage_amount: str = "1.0000000000"
    currency: str = "USD"
    rate: str = "0.0116000000"
    blended_cost: str = ""  # "" writes the unblended cost
    region: str = "us-west-2"

    @property
    def blended(self) -> str:
        return self.blended_cost or self.cost


# Column -> LegacyLineItem attribute, in the order AWS writes the columns used here.
LEGACY_FIELDS: dict[str, str] = {
    "identity/LineItemId": "line_item_id",
    "identity/TimeInterval": "time_interval",
    "bill/InvoiceId": "invoice_id",
    "bill/BillingEntity": "billing_entity",
    "bill/BillType": "bill_type",
    "bill/PayerAccountId": "payer_account",
    "bill/BillingPeriodStartDate": "period_start",
    "bill/BillingPeriodEndDate": "period_end",
    "lineItem/UsageAccountId": "account",
    "lineItem/LineItemType": "row_type",
    "lineItem/UsageStartDate": "usage_start",
    "lineItem/UsageEndDate": "usage_end",
    "lineItem/ProductCode": "product_code",
    "lineItem/UsageType": "usage_type",
    "lineItem/Operation": "operation",
    "lineItem/ResourceId": "resource_id",
    "lineItem/UsageAmount": "usage_amount",
    "lineItem/CurrencyCode": "currency",
    "lineItem/UnblendedRate": "rate",
    "lineItem/UnblendedCost": "cost",
    "lineItem/BlendedCost": "blended",
    "lineItem/LineItemDescription": "description",
    "product/ProductName": "product_name",
    "product/region": "region",
}
LEGACY_COLUMNS: tuple[str, ...] = tuple(LEGACY_FIELDS)


def legacy_cur_rows(
    items: Iterable[LegacyLineItem], columns: Sequence[str] = LEGACY_COLUMNS
) -> Iterator[Sequence[str]]:
    """The header, then each item's cells for `columns` (any subset of LEGACY_COLUMNS, in any order)."""
    yield list(columns)
    cells = attrgetter(*(LEGACY_FIELDS[column] for column in columns))
    for item in items:
        yield cells(item)


def legacy_cur_csv(
    items: Iterable[LegacyLineItem], columns: Sequence[str] = LEGACY_COLUMNS, newline: str = "\n"
) -> str:
    return csv_text(legacy_cur_rows(items, columns), newline=newline)


# --- CUR 2.0 and the Athena (snake_case) legacy CUR ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cur2LineItem:
    account: str
    row_type: str
    cost: str
    description: str = ""
    product_code: str = ""
    line_item_id: str = "id1"
    bill_type: str = "Anniversary"
    billing_entity: str = "AWS"
    period_start: str = "2025-01-01T00:00:00.000Z"
    period_end: str = "2025-02-01T00:00:00.000Z"
    invoice_id: str = ""
    payer_account: str = "999988887777"
    payer_account_name: str = "Kiteworks Payer"
    time_interval: str = "2025-01-05T00:00:00Z/2025-01-06T00:00:00Z"
    currency: str = "USD"
    net_cost: str = ""  # "" writes the unblended cost
    account_name: str = "member"
    usage_start: str = "2025-01-05T00:00:00Z"
    product_name: str = ""  # "" writes the product code
    operation: str = ""
    resource_id: str = ""
    usage_amount: str = "1.0"
    usage_type: str = ""

    @property
    def net(self) -> str:
        return self.net_cost or self.cost

    @property
    def product(self) -> str:
        return self.product_name or self.product_code


# Column -> Cur2LineItem attribute, in the (alphabetical) order of Data Exports.
CUR2_FIELDS: dict[str, str] = {
    "bill_bill_type": "bill_type",
    "bill_billing_entity": "billing_entity",
    "bill_billing_period_end_date": "period_end",
    "bill_billing_period_start_date": "period_start",
    "bill_invoice_id": "invoice_id",
    "bill_payer_account_id": "payer_account",
    "bill_payer_account_name": "payer_account_name",
    "identity_line_item_id": "line_item_id",
    "identity_time_interval": "time_interval",
    "line_item_currency_code": "currency",
    "line_item_line_item_description": "description",
    "line_item_line_item_type": "row_type",
    "line_item_net_unblended_cost": "net",
    "line_item_operation": "operation",
    "line_item_product_code": "product_code",
    "line_item_resource_id": "resource_id",
    "line_item_unblended_cost": "cost",
    "line_item_usage_account_id": "account",
    "line_item_usage_account_name": "account_name",
    "line_item_usage_amount": "usage_amount",
    "line_item_usage_start_date": "usage_start",
    "line_item_usage_type": "usage_type",
    "product_product_name": "product",
}
_DETAIL = ("line_item_operation", "line_item_resource_id", "line_item_usage_amount", "line_item_usage_type")
# What the CUR 2.0 fixtures hold: CUR 2.0 names the payer's and the member's account (`..._name`).
CUR2_COLUMNS: tuple[str, ...] = tuple(column for column in CUR2_FIELDS if column not in _DETAIL)
# The legacy CUR as Athena/Parquet writes it: snake_case, without CUR 2.0's account names.
ATHENA_COLUMNS: tuple[str, ...] = tuple(
    column for column in CUR2_COLUMNS if column not in ("bill_payer_account_name", "line_item_usage_account_name")
)
# How Data Exports types the columns in Parquet (costs as doubles); the Athena CUR has decimals instead.
CUR2_PARQUET_TYPES: dict[str, ParquetType] = {
    "line_item_unblended_cost": "double",
    "line_item_net_unblended_cost": "double",
    "bill_billing_period_start_date": "timestamp",
    "bill_billing_period_end_date": "timestamp",
    "line_item_line_item_type": "dictionary",
    "line_item_usage_amount": "double",
}
ATHENA_PARQUET_TYPES: dict[str, ParquetType] = {
    "line_item_unblended_cost": "decimal",
    "line_item_net_unblended_cost": "decimal",
}


def cur2_rows(items: Iterable[Cur2LineItem], columns: Sequence[str] = CUR2_COLUMNS) -> Iterator[Sequence[str]]:
    """The header, then each item's cells for `columns` (any subset of CUR2_FIELDS, in any order)."""
    yield list(columns)
    cells = attrgetter(*(CUR2_FIELDS[column] for column in columns))
    for item in items:
        yield cells(item)


def cur2_table(items: Iterable[Cur2LineItem], columns: Sequence[str] = CUR2_COLUMNS) -> list[list[str]]:
    return [list(row) for row in cur2_rows(items, columns)]


# --- generated at scale ----------------------------------------------------------------------------

CUR_MONTHS = ("2024-09", "2024-10", "2024-11")
# product code, product name, usage type, operation, usage description (no commas: nothing to quote)
PRODUCTS = (
    (
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "USW2-BoxUsage:m5.large",
        "RunInstances",
        "$0.096 per On Demand Linux m5.large Instance Hour",
    ),
    (
        "AmazonS3",
        "Amazon Simple Storage Service",
        "USW2-TimedStorage-ByteHrs",
        "StandardStorage",
        "$0.023 per GB - first 50 TB / month of storage used",
    ),
    ("AWSLambda", "AWS Lambda", "USW2-Lambda-GB-Second", "Invoke", "AWS Lambda - Total Compute - US West (Oregon)"),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        "USW2-InstanceUsage:db.r5.large",
        "CreateDBInstance",
        "$0.25 per RDS db.r5.large instance hour running PostgreSQL",
    ),
    (
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "USW2-CW:MetricMonitorUsage",
        "MetricStorage",
        "$0.30 per metric-month - first 10000 metrics",
    ),
)
CREDIT_DESCRIPTIONS = ("AWS Activate Credits", "AWS Promotional Credit")
# Non-credit row types, weighted out of 100: the reader ignores them (and counts them).
OTHER_TYPES = tuple(
    row_type
    for row_type, weight in (
        ("Usage", 82),
        ("DiscountedUsage", 5),
        ("SavingsPlanCoveredUsage", 5),
        ("Tax", 3),
        ("EdpDiscount", 2),
        ("Fee", 1),
        ("RIFee", 1),
        ("SavingsPlanNegation", 1),
    )
    for _ in range(weight)
)
COST_UNIT = 10**10  # CUR costs carry ten decimals
PARQUET_BATCH_ROWS = 262_144  # one row group each


@dataclass(frozen=True, slots=True)
class Charge:
    """One generated line item, independent of the CUR version it is written in."""

    month: int  # index into CUR_MONTHS
    day: int
    hour: int
    account: str
    row_type: str
    product: int  # index into PRODUCTS
    cost_units: int  # in 1e-10 dollars, signed as AWS writes it (credits negative)
    description: str
    line_id: str

    @property
    def cost(self) -> str:
        sign = "-" if self.cost_units < 0 else ""
        whole, fraction = divmod(abs(self.cost_units), COST_UNIT)
        return f"{sign}{whole}.{fraction:010d}"

    @property
    def period(self) -> tuple[str, str]:
        """The billing period's first day and the next month's, as `YYYY-MM-DD`."""
        year, month = (int(part) for part in CUR_MONTHS[self.month].split("-"))
        return f"{year}-{month:02d}-01", f"{year + month // 12}-{month % 12 + 1:02d}-01"

    @property
    def usage_hour(self) -> tuple[str, str]:
        day = f"{CUR_MONTHS[self.month]}-{self.day:02d}"
        return f"{day}T{self.hour:02d}:00:00Z", f"{day}T{self.hour:02d}:59:59Z"


def generated_charges(rows: int, accounts: int, seed: int) -> Iterator[Charge]:
    """A CUR's mix over three months: 1% Credit rows (3% of those positive reversals), the rest other types."""
    rng = random.Random(seed)
    pool = [f"{account:012d}" for account in rng.sample(range(1, 10**12), accounts)]
    for number in range(rows):
        product = rng.randrange(len(PRODUCTS))
        if number % 100 == 37:
            row_type = "Credit"
            magnitude = rng.randrange(10**7, 10**12)  # $0.001 .. $100
            cost = magnitude if rng.random() < 0.03 else -magnitude
            description = CREDIT_DESCRIPTIONS[rng.randrange(2)]
        else:
            row_type = OTHER_TYPES[rng.randrange(100)]
            cost = rng.randrange(0, 10**11)
            if row_type in ("EdpDiscount", "SavingsPlanNegation"):
                cost = -cost
            description = PRODUCTS[product][4] if row_type != "Tax" else f"Tax for product code {PRODUCTS[product][0]}"
        yield Charge(
            number % 3,
            1 + rng.randrange(28),
            rng.randrange(24),
            pool[rng.randrange(accounts)],
            row_type,
            product,
            cost,
            description,
            f"{rng.getrandbits(208):052x}",
        )


def legacy_item(charge: Charge) -> LegacyLineItem:
    code, name, usage_type, operation, _ = PRODUCTS[charge.product]
    start, end = charge.usage_hour
    period_start, period_end = charge.period
    return LegacyLineItem(
        account=charge.account,
        row_type=charge.row_type,
        cost=charge.cost,
        description=charge.description,
        product_code=code,
        product_name=name,
        line_item_id=charge.line_id,
        time_interval=f"{start}/{end}",
        invoice_id=f"EUINUS24-{charge.month + 1}001",
        period_start=f"{period_start}T00:00:00Z",
        period_end=f"{period_end}T00:00:00Z",
        usage_start=start,
        usage_end=end,
        usage_type=usage_type,
        operation=operation,
        resource_id=f"arn:aws:{code.lower()}:us-west-2:{charge.account}:r-{charge.line_id[:12]}",
        rate="0.0960000000",
    )


def cur2_item(charge: Charge) -> Cur2LineItem:
    code, name, usage_type, operation, _ = PRODUCTS[charge.product]
    start, end = charge.usage_hour
    period_start, period_end = charge.period
    return Cur2LineItem(
        account=charge.account,
        row_type=charge.row_type,
        cost=charge.cost,
        description=charge.description,
        product_code=code,
        product_name=name,
        line_item_id=charge.line_id,
        period_start=f"{period_start}T00:00:00.000Z",
        period_end=f"{period_end}T00:00:00.000Z",
        invoice_id=f"EUINUS25-{charge.month + 1}001",
        payer_account_name="Example Payer",
        time_interval=f"{start}/{end}",
        account_name=f"member-{charge.account[-4:]}",
        usage_start=start,
        operation=operation,
        resource_id=f"r-{charge.line_id[:12]}",
        usage_type=usage_type,
    )


def tally_charge(tally: CreditTally, charge: Charge, cost: Decimal, service: str = "") -> None:
    """Count the charge as the pipeline reads it: a Credit row's cost summed under `service` (the product code)."""
    if charge.row_type == "Credit":
        service = service or PRODUCTS[charge.product][0]
        tally.credit(CUR_MONTHS[charge.month], charge.account, service, charge.description, cost)
    else:
        tally.ignored()


def tallied(charges: Iterable[Charge], tally: CreditTally, *, by_name: bool = False) -> Iterator[Charge]:
    """Each charge, counted first as the pipeline reads it: a Credit row's cost under its product code, or
    its product name (`by_name`: FOCUS names the service)."""
    for charge in charges:
        tally_charge(tally, charge, Decimal(charge.cost), PRODUCTS[charge.product][1] if by_name else "")
        yield charge


def write_legacy_cur(path: Path, rows: int, accounts: int, seed: int) -> Expected:
    """A legacy CUR as AWS delivers it: `category/Column` headers, hourly line items; gzip when `path` ends `.gz`."""
    tally = CreditTally()
    items = map(legacy_item, tallied(generated_charges(rows, accounts, seed), tally))
    write_csv(path, legacy_cur_rows(items))
    return tally.expected("aws-cur/1")


def write_cur2_csv(path: Path, rows: int, accounts: int, seed: int) -> Expected:
    """CUR 2.0 (Data Exports) as CSV, every column above, costs as text; gzip when `path` ends `.gz`."""
    tally = CreditTally()
    items = map(cur2_item, tallied(generated_charges(rows, accounts, seed), tally))
    write_csv(path, cur2_rows(items, tuple(CUR2_FIELDS)))
    return tally.expected("aws-cur/2")


def write_cur2_parquet(path: Path, rows: int, accounts: int, seed: int) -> Expected:
    """CUR 2.0 (Data Exports) as Parquet: every column above, costs as doubles, one row group per 262,144 rows."""
    tally = CreditTally()
    columns = tuple(CUR2_FIELDS)
    cells = attrgetter(*(CUR2_FIELDS[column] for column in columns))

    def batches() -> Iterator[list[Sequence[str]]]:
        charges = generated_charges(rows, accounts, seed)
        while batch := list(islice(charges, PARQUET_BATCH_ROWS)):
            table: list[Sequence[str]] = []
            for charge in batch:
                item = cur2_item(charge)
                tally_charge(tally, charge, Decimal(repr(float(item.cost))))  # a double reads as its shortest form
                table.append(cells(item))
            yield table

    write_parquet(path, columns, batches(), CUR2_PARQUET_TYPES)
    return tally.expected("aws-cur/2")
