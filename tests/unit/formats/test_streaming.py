"""Streaming: memory does not grow with the number of rows, and a large CUR reads quickly."""

import gzip
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

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


def allocation_records(count: int) -> bytes:
    entries = [
        {
            "creditId": str(n),
            "accountId": f"{100000000000 + n % 50}",
            "billingMonth": "2025-03",
            "creditAmount": {"currencyAmount": "-0.01", "currencyCode": "USD"},
            "appliedServiceName": "EC2",
            "isEstimatedBill": False,
        }
        for n in range(count)
    ]
    return json.dumps({"creditAllocationHistoryList": entries}).encode()


def peak_while_reading(data: bytes, tmp_path: Path) -> int:
    path = tmp_path / f"file-{len(data)}"
    path.write_bytes(data)
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            read_credit_file(stream, "incoming/x.csv", ParseConfig())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize(
    "make",
    [cur_rows, lambda n: gzip.compress(cur_rows(n)), allocation_records],
    ids=["cur-csv", "cur-csv-gzip", "allocation-json"],
)
def test_memory_does_not_grow_with_the_number_of_rows(make: Callable[[int], bytes], tmp_path):
    small = peak_while_reading(make(10_000), tmp_path)
    large = peak_while_reading(make(60_000), tmp_path)
    assert large < small * 1.5 + 2_000_000, (small, large)


def test_a_large_cur_reads_in_well_under_its_share_of_a_minute():
    data = cur_rows(200_000)
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as stream:  # what the splitter hands over
        stream.write(data)
        stream.seek(0)
        started = time.perf_counter()
        credit_file = read_credit_file(stream, "incoming/cur.csv", ParseConfig())
        elapsed = time.perf_counter() - started
    assert credit_file.credit_rows == 20_000
    assert credit_file.ignored_rows == 180_000
    assert credit_file.total == Decimal("-200.0000000000")
    # 1,000,000 rows must take well under a minute: 200,000 get 8 seconds even on a slow runner.
    assert elapsed < 8, elapsed
