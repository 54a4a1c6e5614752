"""A large CUR read from a spooled download, as the splitter hands it over, counts every row.

How fast such a file reads and how much memory reading takes are measured by scripts/benchmark.py
(`make bench`), not asserted here.
"""

import tempfile
from decimal import Decimal
from typing import BinaryIO, cast

from credits_pipeline.formats import ParseConfig, read_credit_file

HEADER = (
    "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,"
    "lineItem/ProductCode,lineItem/UnblendedCost,lineItem/LineItemDescription,lineItem/CurrencyCode,"
    "lineItem/ResourceId,product/ProductName\n"
)


def cur_rows(count: int) -> bytes:
    lines = [HEADER]
    for n in range(count):
        credit = n % 10 == 0
        kind, cost = ("Credit", "-0.0100000000") if credit else ("Usage", "0.0116000000")
        account = f"{100000000000 + n % 50}"
        lines.append(
            f"id{n},2024-09-01T00:00:00Z,{account},{kind},AmazonEC2,{cost},"
            f"{'AWS Activate Credits' if credit else 'BoxUsage'},USD,i-{n:017x},Amazon EC2\n"
        )
    return "".join(lines).encode()


def test_a_large_cur_read_from_a_spooled_download_counts_every_row() -> None:
    data = cur_rows(200_000)
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as stream:  # what the splitter hands over
        stream.write(data)
        stream.seek(0)
        # A binary file at run time; typeshed does not declare SpooledTemporaryFile a BinaryIO.
        credit_file = read_credit_file(cast(BinaryIO, stream), "incoming/cur.csv", ParseConfig())
    assert credit_file.credit_rows == 20_000
    assert credit_file.ignored_rows == 180_000
    assert credit_file.total == Decimal("-200.0000000000")
