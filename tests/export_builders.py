"""Multi-file AWS exports as AWS writes them: CUR 2.0 part files and the period's manifest (seeded)."""

import gzip
import json
import random
from decimal import Decimal

CUR2_HEADER = (
    "bill_billing_period_start_date,bill_payer_account_id,identity_line_item_id,line_item_currency_code,"
    "line_item_line_item_description,line_item_line_item_type,line_item_product_code,line_item_unblended_cost,"
    "line_item_usage_account_id,line_item_usage_start_date,product_product_name"
)
EXPORT = "kiteworks-cur2"
ROOT = f"incoming/exports/{EXPORT}"


def part_key(period: str, number: int) -> str:
    return f"{ROOT}/data/BILLING_PERIOD={period}/{EXPORT}-{number:05d}.csv.gz"


def manifest_key(period: str) -> str:
    return f"{ROOT}/metadata/BILLING_PERIOD={period}/{EXPORT}-Manifest.json"


def cur2_part(period: str, rows: list[tuple[str, Decimal, str]]) -> bytes:
    """(account, signed cost, row type) rows as one gzip CSV part; usage rows are ignored by the reader."""
    lines = [CUR2_HEADER]
    for index, (account, cost, row_type) in enumerate(rows):
        description = "AWS Activate Credits" if row_type == "Credit" else "EC2 usage"
        lines.append(
            f"{period}-01T00:00:00.000Z,999988887777,id{index},USD,{description},{row_type},AmazonEC2,{cost},"
            f"{account},{period}-05T00:00:00Z,AmazonEC2"
        )
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def manifest(bucket: str, period: str, parts: int, execution: str = "exec-1") -> bytes:
    """The Data Exports manifest, written after every part (invented values marked as such)."""
    document = {
        "executionId": execution,  # invented
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{EXPORT}",  # invented
        "billingPeriod": period,
        "dataFiles": [f"s3://{bucket}/{part_key(period, n)}" for n in range(1, parts + 1)],
        "additionalOutputFiles": [],
    }
    return json.dumps(document, indent=2).encode()


def month_rows(seed: int, accounts: int = 30, rows: int = 200) -> list[tuple[str, Decimal, str]]:
    """A month's line items: credits (negative, to the cent or finer) mixed with usage rows."""
    rng = random.Random(seed)
    ids = [f"{rng.randrange(10**11, 10**12):012d}" for _ in range(accounts)]
    out = []
    for _ in range(rows):
        credit = rng.random() < 0.6
        cost = Decimal(rng.randrange(1, 500_000)) / (100 if rng.random() < 0.7 else 10_000)
        out.append((rng.choice(ids), -cost if credit else cost, "Credit" if credit else "Usage"))
    return out


def credit_total(rows: list[tuple[str, Decimal, str]]) -> Decimal:
    return sum((cost for _, cost, row_type in rows if row_type == "Credit"), Decimal(0))
